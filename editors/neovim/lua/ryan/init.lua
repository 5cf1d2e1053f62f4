---@brief Ryan for Neovim: a chat with a local LLM through ryan-server, on the built-in LSP client.
--- `require("ryan").setup({})` creates the commands; `chat()`, `stop()` and friends are the API;
--- `statusline()` is a component for 'statusline' or 'winbar'.

local config = require("ryan.config")

local M = {}

local did_setup = false

---Configure Ryan and create its user commands. Calling it again with other `settings` sends them
---to the running servers (`workspace/didChangeConfiguration`).
---@param opts ryan.Options|table|nil
function M.setup(opts)
  local old_settings = did_setup and vim.deepcopy(config.options.settings) or nil
  config.setup(opts)
  require("ryan.commands").create()
  did_setup = true
  if old_settings ~= nil and not vim.deep_equal(old_settings, config.options.settings) then
    require("ryan.client").push_settings()
  end
end

local function ensure_setup()
  if not did_setup then
    M.setup({})
  end
end

---Context entries for lines `range[1]..range[2]` (1-based, inclusive) of `bufnr`.
---@param bufnr integer
---@param range integer[]
---@return table[]
function M.context_for_range(bufnr, range)
  local l1, l2 = range[1], range[2]
  if l1 > l2 then
    l1, l2 = l2, l1
  end
  local lines = vim.api.nvim_buf_get_lines(bufnr, l1 - 1, l2, false)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local item = {
    -- end is the start of the next line: whole lines, no character offsets to encode
    range = { start = { line = l1 - 1, character = 0 }, ["end"] = { line = l2, character = 0 } },
    text = table.concat(lines, "\n") .. "\n",
  }
  if name ~= "" and vim.bo[bufnr].buftype == "" then
    item.uri = vim.uri_from_bufnr(bufnr)
  end
  return { item }
end

---Ask Ryan. The answer streams into the current chat (opened if needed).
---@param prompt string
---@param opts { range: integer[]?, bufnr: integer?, context: table[]?, model: string?, new: boolean?, focus: boolean? }?
---@return ryan.Chat?
function M.chat(prompt, opts)
  ensure_setup()
  opts = opts or {}
  if type(prompt) ~= "string" or vim.trim(prompt) == "" then
    vim.notify("Ryan: the prompt is empty", vim.log.levels.WARN)
    return nil
  end
  local chat_mod = require("ryan.chat")
  local rclient = require("ryan.client")
  local source = opts.bufnr or vim.api.nvim_get_current_buf()
  local context = opts.context
  if not context and opts.range then
    context = M.context_for_range(source, opts.range)
  end
  local root = rclient.root_for(source)
  if opts.new and chat_mod.current and chat_mod.current.session_id then
    chat_mod.current = nil
  end
  local chat = chat_mod.get_or_create(root)
  chat:show({ focus = opts.focus })
  chat:ask(prompt, { context = context, model = opts.model })
  return chat
end

---Stop the current chat's answer (keeps what came).
---@return boolean stopped
function M.stop()
  local chat = require("ryan.chat").current
  if chat and chat:stop() then
    return true
  end
  -- a chat that is not current may still be running
  for _, c in pairs(require("ryan.chat").by_buf) do
    if c:stop() then
      return true
    end
  end
  return false
end

---Open (or focus) the current chat window.
---@return ryan.Chat
function M.open()
  ensure_setup()
  local chat_mod = require("ryan.chat")
  local chat = chat_mod.get_or_create(require("ryan.client").root_for(0))
  chat:show()
  return chat
end

---Start a new session; ask `prompt` in it if given.
---@param prompt string?
---@return ryan.Chat?
function M.new(prompt)
  ensure_setup()
  local chat_mod = require("ryan.chat")
  local cur = chat_mod.current
  -- a chat that has not started a session yet is already new
  if not (cur and vim.api.nvim_buf_is_valid(cur.buf) and cur.session_id == nil and cur.run == nil) then
    local old_win = cur and vim.api.nvim_buf_is_valid(cur.buf) and cur:windows()[1]
    local chat = chat_mod.new({ root = require("ryan.client").root_for(0) })
    chat_mod.current = chat
    if old_win then
      vim.api.nvim_win_set_buf(old_win, chat.buf)
    end
  end
  if prompt then
    return M.chat(prompt)
  end
  return M.open()
end

---Show session `session_id` (from `ryan/session`) and make it the current chat.
---@param session_id string
---@param cb fun(chat: ryan.Chat?)?
function M.open_session(session_id, cb)
  ensure_setup()
  local chat_mod = require("ryan.chat")
  local rclient = require("ryan.client")
  local root = rclient.root_for(0)
  rclient.call(root, require("ryan.protocol").method.session, { sessionId = session_id }, function(result, err)
    if not result then
      vim.notify("Ryan: could not open the session: " .. tostring(err), vim.log.levels.ERROR)
      if cb then
        cb(nil)
      end
      return
    end
    local chat = chat_mod.find_session(session_id)
    if chat and chat.run then
      chat_mod.current = chat
    else
      chat = chat or chat_mod.new({ session_id = session_id, root = root })
      chat:render_session(result)
      chat_mod.current = chat
    end
    chat:show()
    if cb then
      cb(chat)
    end
  end)
end

---A statusline (or winbar) component: `context 41%` for the chat shown in the current buffer, else
---for the current chat; "" when the model's context window is unknown or nothing was answered yet.
---In 'statusline' as `%{v:lua.require'ryan'.statusline()}`, or a function for lualine and friends.
---@param bufnr integer|any? the buffer whose chat to describe (default: the current one)
---@return string
function M.statusline(bufnr)
  local chat_mod = package.loaded["ryan.chat"]
  if not chat_mod then -- no chat yet: cheap for a statusline that is drawn all the time
    return ""
  end
  -- lualine calls a function component with itself: only a number names a buffer
  local buf = type(bufnr) == "number" and bufnr ~= 0 and bufnr or vim.api.nvim_get_current_buf()
  local chat = chat_mod.by_buf[buf] or chat_mod.current
  if not chat or not vim.api.nvim_buf_is_valid(chat.buf) then
    return ""
  end
  return chat:context_percent()
end

---Pick an earlier session in a float (ryan/sessions.lua): <CR> shows it, `d` deletes it.
function M.sessions()
  ensure_setup()
  local rclient = require("ryan.client")
  rclient.call(rclient.root_for(0), require("ryan.protocol").method.sessions, nil, function(result, err)
    if not result then
      vim.notify("Ryan: could not list sessions: " .. tostring(err), vim.log.levels.ERROR)
      return
    end
    local sessions = result.sessions or {}
    if #sessions == 0 then
      vim.notify("Ryan: no sessions yet", vim.log.levels.INFO)
      return
    end
    require("ryan.sessions").pick(sessions, {
      open = function(s)
        M.open_session(s.sessionId)
      end,
      delete = function(s, done)
        M.delete_session(s.sessionId, done)
      end,
    })
  end)
end

---Delete session `session_id` from history, and its chat buffer if one shows it.
---@param session_id string
---@param cb fun(deleted: boolean)?
function M.delete_session(session_id, cb)
  ensure_setup()
  local rclient = require("ryan.client")
  local method = require("ryan.protocol").method.delete_session
  rclient.call(rclient.root_for(0), method, { sessionId = session_id }, function(_, err)
    if err then
      vim.notify("Ryan: could not delete the session: " .. tostring(err), vim.log.levels.ERROR)
    else
      local chat = require("ryan.chat").find_session(session_id)
      if chat and vim.api.nvim_buf_is_valid(chat.buf) then
        vim.api.nvim_buf_delete(chat.buf, { force = true })
      end
      vim.notify("Ryan: deleted session " .. session_id:sub(1, 12), vim.log.levels.INFO)
    end
    if cb then
      cb(err == nil)
    end
  end)
end

---Answer the current chat's last question again (`ryan/chat` with `regenerate`); the earlier answer
---stays in history as another version (:RyanBranch).
---@return ryan.Chat?
function M.retry()
  ensure_setup()
  local chat = require("ryan.checkpoints").current_chat()
  if not chat then
    return nil
  end
  chat:show()
  if chat:retry({ model = config.options.model }) then
    return chat
  end
  return nil
end

---Show another version of a message of the current chat: the one whose header is at or above the
---cursor in the chat window, else the last one that has versions.
---@param direction "next"|"prev"
---@param cb fun(ok: boolean)?
function M.branch(direction, cb)
  ensure_setup()
  require("ryan.branches").switch(direction, cb)
end

---Review what a chat changed in a diff split (:RyanReview).
---@param args string[]? `{}`, `{checkpointId}`, `{file}` or `{checkpointId, file}`
---@param cb fun(scratch_buf: integer?, file_buf: integer?)?
function M.review(args, cb)
  ensure_setup()
  require("ryan.review").review(args or {}, cb)
end

---Undo the files of the current session's latest chat that changed files and is not undone yet.
---@param cb fun(result: table?)? with the `ryan/restore` result
function M.undo(cb)
  ensure_setup()
  require("ryan.checkpoints").undo(cb)
end

---Put back what the current session's latest undo replaced.
---@param cb fun(result: table?)? with the `ryan/redo` result
function M.redo(cb)
  ensure_setup()
  require("ryan.checkpoints").redo(cb)
end

---Pick the model for the next chats with vim.ui.select (from `ryan/models`).
function M.models()
  ensure_setup()
  local rclient = require("ryan.client")
  rclient.call(rclient.root_for(0), require("ryan.protocol").method.models, nil, function(result, err)
    if not result then
      vim.notify("Ryan: could not list models: " .. tostring(err), vim.log.levels.ERROR)
      return
    end
    local models = result.models or {}
    if #models == 0 then
      vim.notify("Ryan: the backend has no models", vim.log.levels.WARN)
      return
    end
    local current = config.options.model or result.current
    vim.ui.select(models, {
      prompt = "Ryan model: ",
      kind = "ryan_model",
      format_item = function(m)
        return (m.name == current and "● " or "  ") .. m.name
      end,
    }, function(choice)
      if choice then
        config.options.model = choice.name
        vim.notify("Ryan: model " .. choice.name, vim.log.levels.INFO)
      end
    end)
  end)
end

return M
