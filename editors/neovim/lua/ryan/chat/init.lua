---@brief The chat: a scratch markdown buffer per session (`ryan://chat/<sessionId>`, or
--- `ryan://chat/new` before the server names the session) that shows each turn's prompt, context,
--- thinking (dimmed), answer, tool calls with their status, and errors.
---
--- This is the public API (`require("ryan.chat")`, used by `ryan.init`): the ryan.Chat class, which
--- opens and closes the chat's window, sends `ryan/chat`, routes its `$/progress` events and answer,
--- and stops it. The parts live beside it:
---   state.lua   the chats by buffer, the current chat, a request's state (ryan.Run)
---   buffer.lua  the scratch buffer and O(delta) appends at its end, extmarks
---   render.lua  headers, thinking, tool cards, statuses, errors, stored sessions
---   output.lua  a tool's live output, folded under its card
---   pending.lua the pending line: waiting, retries, the server's status while nothing streams

local buffer = require("ryan.chat.buffer")
local config = require("ryan.config")
local output = require("ryan.chat.output")
local pending = require("ryan.chat.pending")
local protocol = require("ryan.protocol")
local rclient = require("ryan.client")
local render = require("ryan.chat.render")
local state = require("ryan.chat.state")

local api = vim.api
local E = protocol.event

---@class ryan.chat.Module
---@field current ryan.Chat? the chat commands write to (kept in state.lua; assigning here sets it)
local M = {}

---The namespace of the chat buffers' highlights and extmarks.
M.ns = buffer.ns
---Every chat whose buffer exists, by buffer number (the same table as state.by_buf).
M.by_buf = state.by_buf
M.find_session = state.find_session
M.error_message = render.error_message

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
  local wins = {}
  for _, win in ipairs(api.nvim_tabpage_list_wins(0)) do
    if api.nvim_win_get_buf(win) == self.buf then
      wins[#wins + 1] = win
    end
  end
  return wins
end

---Show the chat in a split (or reuse the window that shows it).
---@param opts { focus: boolean? }?
---@return integer win
function Chat:show(opts)
  opts = opts or {}
  local wopts = config.options.window
  local focus = opts.focus
  if focus == nil then
    focus = wopts.focus
  end
  local win = self:windows()[1]
  if not win then
    local pos = wopts.position or "right"
    if pos == "current" then
      win = api.nvim_get_current_win()
      api.nvim_win_set_buf(win, self.buf)
    else
      local vertical = pos == "right" or pos == "left"
      local total = vertical and vim.o.columns or vim.o.lines
      local size = wopts.size or 0.4
      if size < 1 then
        size = math.floor(total * size)
      end
      size = math.max(1, math.floor(size))
      local cfg = { split = pos == "top" and "above" or pos == "bottom" and "below" or pos, win = -1 }
      if vertical then
        cfg.width = size
      else
        cfg.height = size
      end
      win = api.nvim_open_win(self.buf, false, cfg)
    end
    local wo = vim.wo[win]
    wo.wrap = true
    wo.linebreak = true
    wo.number = false
    wo.relativenumber = false
    wo.signcolumn = "no"
    wo.spell = false
    output.setup_window(win)
    -- new window: start at the end
    pcall(api.nvim_win_set_cursor, win, { api.nvim_buf_line_count(self.buf), 0 })
  end
  if focus then
    api.nvim_set_current_win(win)
  end
  return win
end

---Close the chat's windows (the buffer stays).
function Chat:close()
  for _, win in ipairs(self:windows()) do
    if #api.nvim_tabpage_list_wins(0) > 1 then
      pcall(api.nvim_win_close, win, false)
    end
  end
end

--- A request --------------------------------------------------------------------------------------

---Handle one `$/progress` value of a run.
---@param run ryan.Run
---@param ev table
function Chat:_on_event(run, ev)
  if run.stopped or type(ev) ~= "table" or not api.nvim_buf_is_valid(self.buf) then
    return
  end
  local kind = ev.kind
  local b = self.buffer
  if kind == E.content or kind == E.thinking or kind == E.tool_call or kind == E.tool_output or kind == E.tool_result then
    pending.clear(b, run) -- something came: no more "waiting"
  end
  if kind == E.content then
    local text = ev.text or ""
    render.content(b, run, text)
    run.content_len = run.content_len + #text
  elseif kind == E.thinking then
    local text = ev.text or ""
    render.thinking(b, run, text)
    run.thinking_len = run.thinking_len + #text
  elseif kind == E.tool_output then
    if ev.callId ~= nil and type(ev.text) == "string" then
      output.append(b, run, tostring(ev.callId), ev.text)
    end
  elseif kind == E.retry then
    pending.retry(b, run, ev)
  elseif kind == E.start then
    if ev.sessionId then
      self:set_session(ev.sessionId)
    end
    if ev.model then
      run.model = ev.model
      render.model(self.buffer, run, ev.model)
    end
  elseif kind == E.tool_call then
    render.tool_call(self.buffer, run, ev)
  elseif kind == E.tool_result then
    output.finish(run, ev.callId ~= nil and tostring(ev.callId) or nil)
    render.tool_result(self.buffer, run, ev)
  else
    render.status(ev)
  end
end

---A work-done `$/progress` value of a run (the server's status: waiting, approval, tools).
---@param run ryan.Run
---@param value table
function Chat:_on_work_done(run, value)
  if run.stopped or self.run ~= run or not api.nvim_buf_is_valid(self.buf) then
    return
  end
  pending.work_done(self.buffer, run, value)
end

---A run is over: stop listening for its events and take its pending line away.
---@param run ryan.Run
function Chat:_end_run(run)
  rclient.unroute(run.token)
  if run.work_token then
    rclient.unwatch(run.work_token)
  end
  if api.nvim_buf_is_valid(self.buf) then
    pending.clear(self.buffer, run)
  end
end

---Show an error in the chat and through vim.notify.
---@param msg string
function Chat:show_error(msg)
  if api.nvim_buf_is_valid(self.buf) then
    render.error(self.buffer, msg)
  end
  vim.notify("Ryan: " .. msg, vim.log.levels.ERROR)
end

---The `ryan/chat` answer (or error) of a run.
---@param run ryan.Run
---@param err table?
---@param result table?
function Chat:_on_response(run, err, result)
  if run.stopped then
    return
  end
  self:_end_run(run)
  if self.run == run then
    self.run = nil
  end
  if not api.nvim_buf_is_valid(self.buf) then
    return
  end
  if err then
    local data = type(err.data) == "table" and err.data or {}
    if err.code == protocol.error.backend_error and type(data.partialContent) == "string" and run.content_len == 0 then
      render.content(self.buffer, run, data.partialContent)
    end
    if type(data.sessionId) == "string" then
      self:set_session(data.sessionId)
    end
    self:show_error(render.error_message(err))
    return
  end
  result = result or {}
  if result.sessionId then
    self:set_session(result.sessionId)
  end
  if type(result.usage) == "table" then
    self.usage = result.usage
  end
  render.finish(self.buffer, run, result)
  if type(result.checkpoint) == "table" then
    render.checkpoint(self.buffer, result.checkpoint)
  end
  if run.regenerated_mark then
    require("ryan.branches").show_version(self, run.regenerated_mark)
  end
  -- statuslines and winbars that show the context figure (ryan.statusline()) are not redrawn by
  -- an answer arriving: ask for it
  pcall(vim.cmd.redrawstatus, { bang = true })
end

---`context 41%` for the last answer in this chat; "" when the window is unknown or nothing was
---answered yet.
---@return string
function Chat:context_percent()
  return render.context_percent(self.usage)
end

---Run `fn`; report a failure through vim.notify instead of letting Neovim print a traceback.
local function safely(fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok then
    vim.notify("Ryan: internal error: " .. tostring(err), vim.log.levels.ERROR)
  end
end

---Ask a question in this chat.
---@param prompt string
---@param opts { context: table[]?, model: string? }?
---@return boolean started
function Chat:ask(prompt, opts)
  opts = opts or {}
  if self.run then
    vim.notify("Ryan is still answering in this chat; :RyanStop first.", vim.log.levels.WARN)
    return false
  end
  render.prompt(self.buffer, prompt, opts.context)
  local run = state.new_run(rclient.new_token("chat"))
  run.header_mark = render.answer_header(self.buffer)
  self.run = run
  local params = { prompt = prompt }
  if opts.context and #opts.context > 0 then
    params.context = opts.context
  end
  rclient.with_client(self.root, function(client, err)
    safely(self._send, self, run, params, opts, client, err)
  end)
  return true
end

---Answer the session's last question again (`regenerate`): the new answer streams in under the
---last one, marked as a new version; the earlier answer stays in history as another branch.
---@param opts { model: string? }?
---@return boolean started
function Chat:retry(opts)
  opts = opts or {}
  if self.run then
    vim.notify("Ryan is still answering in this chat; :RyanStop first.", vim.log.levels.WARN)
    return false
  end
  if not self.session_id then
    vim.notify("Ryan: nothing to answer again in this chat yet", vim.log.levels.WARN)
    return false
  end
  local run = state.new_run(rclient.new_token("chat"))
  run.header_mark = render.answer_header(self.buffer)
  run.regenerated_mark = render.regenerated(self.buffer)
  self.run = run
  rclient.with_client(self.root, function(client, err)
    safely(self._send, self, run, { regenerate = true }, opts, client, err)
  end)
  return true
end

---Send the chat request once the server is ready.
---@param run ryan.Run
---@param params table what the request asks (`prompt` and `context`, or `regenerate`)
---@param opts table
---@param client vim.lsp.Client?
---@param err string?
function Chat:_send(run, params, opts, client, err)
  if run.stopped then
    return
  end
  if not client then
    self.run = nil
    self:show_error(err or "the server did not start")
    return
  end
  run.client = client
  rclient.route(run.token, function(value)
    self:_on_event(run, value)
  end)
  run.work_token = rclient.new_token("work")
  rclient.watch(run.work_token, function(value)
    self:_on_work_done(run, value)
  end)
  params = vim.tbl_extend("force", params, {
    sessionId = self.session_id,
    model = opts.model or config.options.model,
    partialResultToken = run.token,
    workDoneToken = run.work_token,
  })
  local ok, id = rclient.request(client, protocol.method.chat, params, function(rerr, result)
    safely(self._on_response, self, run, rerr, result)
  end)
  if not ok then
    self:_end_run(run)
    self.run = nil
    self:show_error("the server is not running (:checkhealth ryan)")
    return
  end
  run.request_id = id
end

---Stop the running answer, keeping what came.
---@param opts { quiet: boolean? }?
---@return boolean stopped false if nothing was running
function Chat:stop(opts)
  local run = self.run
  if not run then
    return false
  end
  run.stopped = true
  self.run = nil
  self:_end_run(run)
  if run.client and run.request_id then
    rclient.cancel(run.client, run.request_id)
  end
  if not (opts and opts.quiet) and api.nvim_buf_is_valid(self.buf) then
    render.stopped(self.buffer)
  end
  return true
end

---Called when a server exits: fail the run that was using it.
---@param client_id integer
---@param message string
function Chat:_on_server_exit(client_id, message)
  local run = self.run
  if run and run.client and run.client.id == client_id then
    run.stopped = true
    self.run = nil
    self:_end_run(run)
    self:show_error(message)
  end
end

rclient.on_exit(function(client_id, message)
  for _, chat in pairs(state.by_buf) do
    chat:_on_server_exit(client_id, message)
  end
end)

---Render a stored session (the result of `ryan/session`).
---@param session table
function Chat:render_session(session)
  self.branch_points = render.session(self.buffer, session)
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
