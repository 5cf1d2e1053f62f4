---@brief The chat buffer: a scratch markdown buffer per session (`ryan://chat/<sessionId>`, or
--- `ryan://chat/new` before the server names the session) that shows each turn's prompt, context,
--- thinking (dimmed), answer, tool calls with their status, and errors.
---
--- Streaming appends only the new text at the end with `nvim_buf_set_text`, from an end position
--- kept here (validated by changedtick), so the cost of a delta does not grow with the answer.

local config = require("ryan.config")
local protocol = require("ryan.protocol")
local rclient = require("ryan.client")

local api = vim.api
local E = protocol.event

local M = {}

M.ns = api.nvim_create_namespace("ryan_chat")

---@class ryan.Run
---@field token string partialResultToken
---@field client vim.lsp.Client?
---@field request_id integer?
---@field stopped boolean
---@field content_len integer bytes of answer shown for this request
---@field thinking_len integer
---@field section "thinking"|"content"|"tool"|nil what the end of the buffer holds
---@field thinking_mark integer? extmark id of this section's thinking
---@field thinking_start integer[]? {row, col}
---@field tools table<string, integer> callId -> extmark id of its line
---@field header_mark integer? extmark on the "## Ryan" line

---@class ryan.Chat
---@field buf integer
---@field session_id string?
---@field root string
---@field run ryan.Run?
---@field end_row integer
---@field end_col integer
---@field tick integer changedtick after our last write
local Chat = {}
Chat.__index = Chat
M.Chat = Chat

---@type ryan.Chat?
M.current = nil
---@type table<integer, ryan.Chat>
M.by_buf = {}

local function buf_name(session_id)
  return "ryan://chat/" .. (session_id or "new")
end

---The chat whose buffer is named for `session_id`, if it is loaded.
---@param session_id string
---@return ryan.Chat?
function M.find_session(session_id)
  for _, chat in pairs(M.by_buf) do
    if chat.session_id == session_id and api.nvim_buf_is_valid(chat.buf) then
      return chat
    end
  end
end

---Create a chat buffer (not shown yet).
---@param opts { session_id: string?, root: string? }?
---@return ryan.Chat
function M.new(opts)
  opts = opts or {}
  local buf = api.nvim_create_buf(false, true)
  local self = setmetatable({
    buf = buf,
    session_id = opts.session_id,
    root = opts.root or vim.fn.getcwd(),
    run = nil,
    end_row = 0,
    end_col = 0,
    tick = -1,
  }, Chat)
  M.by_buf[buf] = self
  self:_set_name()
  local bo = vim.bo[buf]
  bo.buftype = "nofile"
  bo.bufhidden = "hide"
  bo.swapfile = false
  bo.undolevels = -1
  bo.modifiable = false
  bo.filetype = "markdown"
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
  api.nvim_create_autocmd("BufWipeout", {
    buffer = buf,
    once = true,
    callback = function()
      if self.run then
        self:stop({ quiet = true })
      end
      M.by_buf[buf] = nil
      if M.current == self then
        M.current = nil
      end
    end,
  })
  return self
end

function Chat:_set_name()
  local name = buf_name(self.session_id)
  local ok = pcall(api.nvim_buf_set_name, self.buf, name)
  if not ok then
    -- another buffer holds the name (a stale "new" chat): take it over
    for b, other in pairs(M.by_buf) do
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
    wo.foldenable = false
    wo.spell = false
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

--- Appending ------------------------------------------------------------------------------------

---The end of the buffer as {row, col} (0-based, col in bytes), recomputed only if someone else
---changed the buffer since our last write.
---@return integer row
---@return integer col
function Chat:_end()
  local buf = self.buf
  if api.nvim_buf_get_changedtick(buf) ~= self.tick then
    local n = api.nvim_buf_line_count(buf)
    local last = api.nvim_buf_get_lines(buf, n - 1, n, false)[1] or ""
    self.end_row, self.end_col = n - 1, #last
  end
  return self.end_row, self.end_col
end

---True if nothing has been written yet.
---@return boolean
function Chat:is_empty()
  local row, col = self:_end()
  return row == 0 and col == 0
end

---Append `text` at the end of the buffer. O(#text): nothing before the end is read or redrawn.
---@param text string
---@return integer start_row, integer start_col, integer end_row, integer end_col
function Chat:append(text)
  local buf = self.buf
  local row, col = self:_end()
  if text == "" then
    return row, col, row, col
  end
  local lines = vim.split(text, "\n", { plain = true })
  -- which windows sit at the end now (before the write moves it)
  local follow = {}
  if config.options.follow then
    for _, win in ipairs(vim.fn.win_findbuf(buf)) do
      if api.nvim_win_get_cursor(win)[1] >= row + 1 then
        follow[#follow + 1] = win
      end
    end
  end
  api.nvim_set_option_value("modifiable", true, { buf = buf })
  api.nvim_buf_set_text(buf, row, col, row, col, lines)
  api.nvim_set_option_value("modifiable", false, { buf = buf })
  local erow = row + #lines - 1
  local ecol = (#lines == 1) and (col + #lines[1]) or #lines[#lines]
  self.end_row, self.end_col = erow, ecol
  self.tick = api.nvim_buf_get_changedtick(buf)
  for _, win in ipairs(follow) do
    pcall(api.nvim_win_set_cursor, win, { erow + 1, ecol })
  end
  return row, col, erow, ecol
end

---Highlight a span written by `append`.
---@param hl string
---@param srow integer
---@param scol integer
---@param erow integer
---@param ecol integer
---@param id integer?
---@return integer id
function Chat:highlight(hl, srow, scol, erow, ecol, id)
  return api.nvim_buf_set_extmark(self.buf, M.ns, srow, scol, {
    id = id,
    end_row = erow,
    end_col = ecol,
    hl_group = hl,
    hl_eol = true,
  })
end

---Make the end of the buffer the start of a line.
function Chat:_ensure_newline()
  local _, col = self:_end()
  if col > 0 then
    self:append("\n")
  end
end

---Make the end of the buffer the start of a line that follows an empty line (or the top).
function Chat:_ensure_blank_line()
  if self:is_empty() then
    return
  end
  self:_ensure_newline()
  local row = self.end_row
  if row > 0 then
    local prev = api.nvim_buf_get_lines(self.buf, row - 1, row, false)[1]
    if prev ~= "" then
      self:append("\n")
    end
  end
end

---Write a whole line (or lines) with a highlight, on lines of their own.
---@param text string
---@param hl string?
function Chat:line(text, hl)
  self:_ensure_newline()
  local srow, scol, erow, ecol = self:append(text)
  if hl then
    self:highlight(hl, srow, scol, erow, ecol)
  end
  self:append("\n")
end

--- Turns ----------------------------------------------------------------------------------------

local function context_label(item)
  local label = "selection"
  if item.uri then
    local ok, fname = pcall(vim.uri_to_fname, item.uri)
    if ok then
      label = vim.fn.fnamemodify(fname, ":~:.")
    else
      label = item.uri
    end
  end
  if item.range then
    local s = item.range.start.line + 1
    local e = item.range["end"].line
    if item.range["end"].character > 0 or e < s then
      e = e + 1
    end
    label = label .. (":%d-%d"):format(s, e)
  end
  return label
end

---Write the header of a user turn.
---@param prompt string
---@param context table[]?
function Chat:_write_prompt(prompt, context)
  self:_ensure_blank_line()
  local srow = self:_end()
  self:append("## You\n\n")
  self:append(prompt)
  self:_ensure_newline()
  self:highlight("RyanPrompt", srow, 0, srow, 6)
  if context and #context > 0 then
    local labels = {}
    for _, item in ipairs(context) do
      labels[#labels + 1] = "`" .. context_label(item) .. "`"
    end
    self:append("\n")
    self:line("_context: " .. table.concat(labels, ", ") .. "_", "RyanMeta")
  end
end

---@return integer header extmark id
function Chat:_write_answer_header()
  self:_ensure_blank_line()
  local row = self:_end()
  self:append("## Ryan\n\n")
  return api.nvim_buf_set_extmark(self.buf, M.ns, row, 0, { end_row = row, end_col = 7, hl_group = "RyanAnswer" })
end

---Set the virtual text after the "## Ryan" line (model, timing, state).
---@param run ryan.Run
---@param chunks table virt_text chunks
function Chat:_header_info(run, chunks)
  if not run.header_mark then
    return
  end
  local mark = api.nvim_buf_get_extmark_by_id(self.buf, M.ns, run.header_mark, {})
  if not mark or not mark[1] then
    return
  end
  pcall(api.nvim_buf_set_extmark, self.buf, M.ns, mark[1], 0, {
    id = run.header_mark,
    end_row = mark[1],
    end_col = 7,
    hl_group = "RyanAnswer",
    virt_text = chunks,
    virt_text_pos = "eol",
  })
end

---Switch the streaming section (thinking → content → tool …), separating them with a blank line.
---@param run ryan.Run
---@param section "thinking"|"content"|"tool"
function Chat:_section(run, section)
  if run.section == section then
    return
  end
  if run.section ~= nil then
    self:_ensure_blank_line()
  end
  run.section = section
  run.thinking_mark = nil
end

---@param run ryan.Run
---@param text string
function Chat:_thinking(run, text)
  if config.options.thinking == "hide" then
    return
  end
  self:_section(run, "thinking")
  local srow, scol, erow, ecol = self:append(text)
  if not run.thinking_mark then
    run.thinking_start = { srow, scol }
  end
  run.thinking_mark = self:highlight("RyanThinking", run.thinking_start[1], run.thinking_start[2], erow, ecol, run.thinking_mark)
end

local function one_line(s, max)
  s = tostring(s or ""):gsub("%s*\r?\n%s*", " ")
  if #s > max then
    s = s:sub(1, max) .. "…"
  end
  return s
end

local function summarize_args(args)
  if type(args) == "string" then
    local ok, decoded = pcall(vim.json.decode, args)
    if ok and type(decoded) == "table" then
      args = decoded
    else
      return one_line(args, 80)
    end
  end
  if type(args) ~= "table" then
    return ""
  end
  local keys = vim.tbl_keys(args)
  table.sort(keys, function(a, b)
    -- the path first: it is what a person looks for
    if (a == "path") ~= (b == "path") then
      return a == "path"
    end
    return tostring(a) < tostring(b)
  end)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = args[k]
    if type(v) == "string" and (#v > 60 or v:find("\n")) then
      v = ("(%d bytes)"):format(#v)
    elseif type(v) == "table" then
      v = vim.json.encode(v)
    end
    parts[#parts + 1] = ("%s=%s"):format(k, one_line(v, 60))
  end
  return table.concat(parts, ", ")
end

local STATUS_HL = {
  ok = "RyanToolOk",
  error = "RyanToolError",
  denied = "RyanToolDenied",
}

---@param run ryan.Run
---@param ev table
function Chat:_tool_call(run, ev)
  self:_section(run, "tool")
  self:_ensure_newline()
  local srow = self:_end()
  self:append(("**tool** `%s` %s"):format(ev.name or "?", summarize_args(ev.arguments)))
  -- a live call is running; a stored one shows its status (or waits for its tool message)
  local status = ev.status == nil and "… running" or STATUS_HL[ev.status] and ev.status or ""
  local id = api.nvim_buf_set_extmark(self.buf, M.ns, srow, 0, {
    virt_text = { { "  " .. status, STATUS_HL[ev.status] or "RyanToolPending" } },
    virt_text_pos = "eol",
  })
  self:append("\n")
  if ev.callId then
    run.tools[ev.callId] = id
  end
end

---@param run ryan.Run
---@param ev table
function Chat:_tool_result(run, ev)
  self:_section(run, "tool")
  local status = ev.status or "ok"
  local hl = STATUS_HL[status] or "RyanToolError"
  local id = ev.callId and run.tools[ev.callId]
  if id then
    local mark = api.nvim_buf_get_extmark_by_id(self.buf, M.ns, id, {})
    if mark and mark[1] then
      pcall(api.nvim_buf_set_extmark, self.buf, M.ns, mark[1], 0, {
        id = id,
        virt_text = { { "  " .. status, hl } },
        virt_text_pos = "eol",
      })
    end
  end
  self:_ensure_newline()
  self:line(("  ↳ %s: %s"):format(status, one_line(ev.output, 200)), hl)
end

---@param kind string
---@param msg string
local function notify_event(kind, msg)
  if config.options.notify_events then
    vim.notify(("Ryan: %s: %s"):format(kind, msg), vim.log.levels.INFO)
  end
end

---Handle one `$/progress` value of a run.
---@param run ryan.Run
---@param ev table
function Chat:_on_event(run, ev)
  if run.stopped or type(ev) ~= "table" or not api.nvim_buf_is_valid(self.buf) then
    return
  end
  local kind = ev.kind
  if kind == E.content then
    local text = ev.text or ""
    self:_section(run, "content")
    self:append(text)
    run.content_len = run.content_len + #text
  elseif kind == E.thinking then
    local text = ev.text or ""
    self:_thinking(run, text)
    run.thinking_len = run.thinking_len + #text
  elseif kind == E.start then
    if ev.sessionId then
      self:set_session(ev.sessionId)
    end
    if ev.model then
      run.model = ev.model
      self:_header_info(run, { { "  " .. ev.model, "RyanMeta" } })
    end
  elseif kind == E.tool_call then
    self:_tool_call(run, ev)
  elseif kind == E.tool_result then
    self:_tool_result(run, ev)
  elseif kind == E.retry then
    notify_event(
      "retrying",
      ("attempt %s in %s ms (%s)"):format(tostring(ev.attempt), tostring(ev.delayMs), tostring(ev.reason or ""))
    )
  elseif kind == E.fallback then
    notify_event("streaming failed, asking without streaming", tostring(ev.reason or ""))
  elseif kind == E.notice then
    vim.notify("Ryan: " .. tostring(ev.message or ev.text or ev.reason or ""), vim.log.levels.WARN)
  end
end

---A message a person can act on, from a JSON-RPC error.
---@param err table
---@return string
function M.error_message(err)
  local msg = tostring(err.message or err)
  local data = type(err.data) == "table" and err.data or {}
  if err.code == protocol.error.model_not_found and type(data.available) == "table" then
    local names = {}
    for _, m in ipairs(data.available) do
      names[#names + 1] = type(m) == "table" and (m.name or vim.inspect(m)) or tostring(m)
    end
    if #names > 0 and not msg:find(names[1], 1, true) then
      msg = msg .. " Available: " .. table.concat(names, ", ") .. " (:RyanModels to pick one)"
    elseif #names == 0 then
      msg = msg .. " The backend has no models."
    end
  elseif err.code == protocol.error.session_busy then
    msg = msg .. " (:RyanStop stops it)"
  elseif err.code == protocol.error.session_not_found then
    msg = msg .. " (:RyanNew starts a new session)"
  end
  return msg
end

---Show an error in the chat and through vim.notify.
---@param msg string
function Chat:show_error(msg)
  if api.nvim_buf_is_valid(self.buf) then
    self:_ensure_blank_line()
    self:line("**Error:** " .. msg, "RyanError")
  end
  vim.notify("Ryan: " .. msg, vim.log.levels.ERROR)
end

---@param run ryan.Run
---@param err table?
---@param result table?
function Chat:_on_response(run, err, result)
  if run.stopped then
    return
  end
  rclient.unroute(run.token)
  if self.run == run then
    self.run = nil
  end
  if not api.nvim_buf_is_valid(self.buf) then
    return
  end
  if err then
    local data = type(err.data) == "table" and err.data or {}
    if err.code == protocol.error.backend_error and type(data.partialContent) == "string" and run.content_len == 0 then
      self:_section(run, "content")
      self:append(data.partialContent)
    end
    if type(data.sessionId) == "string" then
      self:set_session(data.sessionId)
    end
    self:show_error(M.error_message(err))
    return
  end
  result = result or {}
  if result.sessionId then
    self:set_session(result.sessionId)
  end
  -- a server that did not stream still answers in full
  if run.thinking_len == 0 and type(result.thinking) == "string" and result.thinking ~= "" then
    self:_thinking(run, result.thinking)
  end
  if run.content_len == 0 and type(result.content) == "string" and result.content ~= "" then
    self:_section(run, "content")
    self:append(result.content)
  end
  self:_ensure_newline()
  local info = {}
  if result.model or run.model then
    info[#info + 1] = result.model or run.model
  end
  local timing = type(result.timing) == "table" and result.timing or {}
  if type(timing.totalMs) == "number" then
    info[#info + 1] = ("%.1f s"):format(timing.totalMs / 1000)
  end
  if type(timing.tokensPerSecond) == "number" and timing.tokensPerSecond > 0 then
    info[#info + 1] = ("%.1f tok/s"):format(timing.tokensPerSecond)
  end
  if result.stopReason and result.stopReason ~= protocol.stop_reason.stop then
    info[#info + 1] = "stopped: " .. result.stopReason
  end
  self:_header_info(run, { { "  " .. table.concat(info, " · "), "RyanMeta" } })
  if result.stopReason == protocol.stop_reason.length then
    self:line("_(the answer hit the length limit)_", "RyanMeta")
  elseif result.stopReason == protocol.stop_reason.max_steps then
    self:line("_(stopped after the maximum number of tool steps)_", "RyanMeta")
  end
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
  self:_write_prompt(prompt, opts.context)
  ---@type ryan.Run
  local run = {
    token = rclient.new_token("chat"),
    stopped = false,
    content_len = 0,
    thinking_len = 0,
    tools = {},
  }
  run.header_mark = self:_write_answer_header()
  self.run = run
  rclient.with_client(self.root, function(client, err)
    safely(self._send, self, run, prompt, opts, client, err)
  end)
  return true
end

---Send the chat request once the server is ready.
---@param run ryan.Run
---@param prompt string
---@param opts table
---@param client vim.lsp.Client?
---@param err string?
function Chat:_send(run, prompt, opts, client, err)
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
  local params = {
    prompt = prompt,
    sessionId = self.session_id,
    model = opts.model or config.options.model,
    partialResultToken = run.token,
    workDoneToken = rclient.new_token("work"),
  }
  if opts.context and #opts.context > 0 then
    params.context = opts.context
  end
  local ok, id = rclient.request(client, protocol.method.chat, params, function(rerr, result)
    safely(self._on_response, self, run, rerr, result)
  end)
  if not ok then
    rclient.unroute(run.token)
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
  rclient.unroute(run.token)
  if run.client and run.request_id then
    rclient.cancel(run.client, run.request_id)
  end
  if not (opts and opts.quiet) and api.nvim_buf_is_valid(self.buf) then
    self:_ensure_newline()
    self:line("_(stopped)_", "RyanMeta")
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
    rclient.unroute(run.token)
    self:show_error(message)
  end
end

rclient.on_exit(function(client_id, message)
  for _, chat in pairs(M.by_buf) do
    chat:_on_server_exit(client_id, message)
  end
end)

---Render a stored session (the result of `ryan/session`).
---@param session table
function Chat:render_session(session)
  local buf = self.buf
  api.nvim_set_option_value("modifiable", true, { buf = buf })
  api.nvim_buf_set_lines(buf, 0, -1, false, {})
  api.nvim_set_option_value("modifiable", false, { buf = buf })
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  if session.title and session.title ~= "" then
    self:line("# " .. session.title)
  end
  local run = nil ---@type table?
  for _, msg in ipairs(session.messages or {}) do
    local role = msg.role
    if role == "user" then
      self:_write_prompt(msg.content or "")
      run = nil
    elseif role == "assistant" then
      if not run then
        run = { tools = {}, content_len = 0, thinking_len = 0 }
        run.header_mark = self:_write_answer_header()
      end
      if type(msg.thinking) == "string" and msg.thinking ~= "" then
        self:_thinking(run, msg.thinking)
      end
      if type(msg.content) == "string" and msg.content ~= "" then
        self:_section(run, "content")
        self:append(msg.content)
      end
      for _, call in ipairs(type(msg.toolCalls) == "table" and msg.toolCalls or {}) do
        self:_tool_call(run, call)
      end
      self:_ensure_newline()
      if msg.status == "interrupted" then
        self:line("_(stopped)_", "RyanMeta")
      elseif msg.status == "error" then
        self:line("_(failed)_", "RyanError")
      end
    elseif role == "tool" then
      run = run or { tools = {}, content_len = 0, thinking_len = 0 }
      local status = msg.status
      if status ~= "error" and status ~= "denied" then
        status = "ok" -- a tool message that completed
      end
      self:_tool_result(run, { callId = msg.toolCallId, status = status, output = msg.content })
    end
  end
end

---The current chat, created if there is none.
---@param root string?
---@return ryan.Chat
function M.get_or_create(root)
  local chat = M.current
  if chat and api.nvim_buf_is_valid(chat.buf) then
    return chat
  end
  chat = M.new({ root = root })
  M.current = chat
  return chat
end

return M
