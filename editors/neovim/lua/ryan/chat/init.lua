---@brief The chat: a scratch markdown buffer per session (`ryan://chat/<sessionId>`, or
--- `ryan://chat/new` before the server names the session) that shows each turn's prompt, context,
--- thinking (dimmed), answer, tool calls with their status, and errors.
---
--- This is the public API (`require("ryan.chat")`, used by `ryan.init`): the ryan.Chat class, which
--- makes the chat's buffer and names it for its session, and whose methods open and close its window,
--- ask, answer again and stop. The parts live beside it:
---   state.lua    the chats by buffer, the current chat, a request's state (ryan.Run)
---   buffer.lua   the scratch buffer and O(delta) appends at its end, extmarks
---   window.lua   the chat's window: a split, its options, closing it
---   request.lua  a `ryan/chat` request: sending it, routing its events, its answer, stopping it
---   render.lua   headers, thinking, tool cards, stop and error lines, the end of an answer
---   format.lua   the words: context labels, tool arguments, result lines, error messages
---   versions.lua `‹ i/n ›` version marks, the line under a regenerated answer
---   changes.lua  the files a chat changed (its checkpoint)
---   stored.lua   a stored session drawn whole
---   notify.lua   the statuses that go to vim.notify
---   output.lua   a tool's live output, folded under its card
---   pending.lua  the pending line: waiting, retries, the server's status while nothing streams

local buffer = require("ryan.chat.buffer")
local config = require("ryan.config")
local format = require("ryan.chat.format")
local output = require("ryan.chat.output")
local render = require("ryan.chat.render")
local request = require("ryan.chat.request")
local state = require("ryan.chat.state")
local stored = require("ryan.chat.stored")
local window = require("ryan.chat.window")

local api = vim.api

---@class ryan.chat.Module
---@field current ryan.Chat? the chat commands write to (kept in state.lua; assigning here sets it)
local M = {}

---The namespace of the chat buffers' highlights and extmarks.
M.ns = buffer.ns
---Every chat whose buffer exists, by buffer number (the same table as state.by_buf).
M.by_buf = state.by_buf
M.find_session = state.find_session
M.error_message = format.error_message

setmetatable(M, {
  __index = function(_, key)
    if key == "current" then
      return state.current
    end
  end,
  __newindex = function(t, key, value)
    if key == "current" then
      state.current = value
    else
      rawset(t, key, value)
    end
  end,
})

---@class ryan.Chat
---@field buf integer
---@field buffer ryan.chat.Buffer where the chat is written
---@field session_id string?
---@field root string the workspace folder whose server answers
---@field run ryan.Run? the request streaming now
---@field usage table? the `usage` of the last answer (`contextWindow`, `contextUsed`, ...)
---@field branch_points ryan.BranchPoint[] messages with other versions, as the stored session drew them
local Chat = {}
Chat.__index = Chat
M.Chat = Chat

---Create a chat buffer (not shown yet).
---@param opts { session_id: string?, root: string? }?
---@return ryan.Chat
function M.new(opts)
  opts = opts or {}
  local b = buffer.create()
  local buf = b.buf
  local self = setmetatable({
    buf = buf,
    buffer = b,
    session_id = opts.session_id,
    root = opts.root or vim.fn.getcwd(),
    run = nil,
    branch_points = {},
  }, Chat)
  state.add(self)
  self:_set_name()
  b:set_options()
  for _, lhs in ipairs(config.options.keymaps.stop or {}) do
    vim.keymap.set("n", lhs, function()
      if self.run then
        self:stop()
      elseif lhs == "q" then
        self:close()
      end
    end, { buffer = buf, nowait = true, desc = "Ryan: stop the answer" })
  end
  for _, lhs in ipairs(config.options.keymaps.close or {}) do
    vim.keymap.set("n", lhs, function()
      self:close()
    end, { buffer = buf, nowait = true, desc = "Ryan: close the chat window" })
  end
  api.nvim_create_autocmd("BufWinEnter", {
    buffer = buf,
    callback = function()
      local win = api.nvim_get_current_win()
      if api.nvim_win_get_buf(win) == buf then
        output.setup_window(win)
      end
    end,
  })
  api.nvim_create_autocmd("BufWipeout", {
    buffer = buf,
    once = true,
    callback = function()
      if self.run then
        self:stop({ quiet = true })
      end
      state.remove(self)
    end,
  })
  return self
end

---Name the buffer for the session.
function Chat:_set_name()
  local name = state.buf_name(self.session_id)
  local ok = pcall(api.nvim_buf_set_name, self.buf, name)
  if not ok then
    -- another buffer holds the name (a stale "new" chat): take it over
    for b, other in pairs(state.by_buf) do
      if other ~= self and api.nvim_buf_is_valid(b) and api.nvim_buf_get_name(b) == name then
        pcall(api.nvim_buf_set_name, b, name .. "#" .. b)
      end
    end
    pcall(api.nvim_buf_set_name, self.buf, name)
  end
end

---@param session_id string
function Chat:set_session(session_id)
  if session_id and session_id ~= self.session_id then
    self.session_id = session_id
    self:_set_name()
  end
end

--- Windows ----------------------------------------------------------------------------------------

---The chat's windows in the current tab page.
---@return integer[]
function Chat:windows()
  return window.list(self.buf)
end

---Show the chat in a split (or reuse the window that shows it).
---@param opts { focus: boolean? }?
---@return integer win
function Chat:show(opts)
  return window.show(self.buf, opts)
end

---Close the chat's windows (the buffer stays).
function Chat:close()
  window.close(self.buf)
end

--- A request (request.lua) ------------------------------------------------------------------------

---Ask a question in this chat.
---@param prompt string
---@param opts { context: table[]?, model: string? }?
---@return boolean started
function Chat:ask(prompt, opts)
  return request.ask(self, prompt, opts)
end

---Answer the session's last question again (`regenerate`): the new answer streams in under the
---last one, marked as a new version; the earlier answer stays in history as another branch.
---@param opts { model: string? }?
---@return boolean started
function Chat:retry(opts)
  return request.retry(self, opts)
end

---Stop the running answer, keeping what came.
---@param opts { quiet: boolean? }?
---@return boolean stopped false if nothing was running
function Chat:stop(opts)
  return request.stop(self, opts)
end

---Show an error in the chat and through vim.notify.
---@param msg string
function Chat:show_error(msg)
  if api.nvim_buf_is_valid(self.buf) then
    render.error(self.buffer, msg)
  end
  vim.notify("Ryan: " .. msg, vim.log.levels.ERROR)
end

---`context 41%` for the last answer in this chat; "" when the window is unknown or nothing was
---answered yet.
---@return string
function Chat:context_percent()
  return format.context_percent(self.usage)
end

---Render a stored session (the result of `ryan/session`).
---@param session table
function Chat:render_session(session)
  self.branch_points = stored.session(self.buffer, session)
end

---The current chat, created if there is none.
---@param root string?
---@return ryan.Chat
function M.get_or_create(root)
  local chat = state.valid_current()
  if chat then
    return chat
  end
  chat = M.new({ root = root })
  state.current = chat
  return chat
end

return M
