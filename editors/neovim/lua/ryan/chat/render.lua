---@brief What a chat looks like: the `## You` and `## Ryan` headers and the virtual text after them,
--- thinking (dimmed), answer sections, tool cards with their status, stop and error lines, a stored
--- session drawn whole, and the statuses that go to vim.notify instead of the buffer.
---
--- Every function writes through a ryan.chat.Buffer and keeps where things are in the ryan.Answer it
--- is given (a streaming request's ryan.Run, or a stored answer); none of them talks to the server.

local config = require("ryan.config")
local protocol = require("ryan.protocol")
local state = require("ryan.chat.state")

local M = {}

---@alias ryan.VirtText [string, string][] virt_text chunks: {text, highlight group}

--- Text helpers -----------------------------------------------------------------------------------

---"path/to/file.py:3-7" for a context item (`{uri?, range?, text}`), or "selection".
---@param item table
---@return string
function M.context_label(item)
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

---`s` on one line, cut to `max` bytes.
---@param s any
---@param max integer
---@return string
local function one_line(s, max)
  s = tostring(s or ""):gsub("%s*\r?\n%s*", " ")
  if #s > max then
    s = s:sub(1, max) .. "…"
  end
  return s
end

---A tool's arguments on one line, the path first; long strings shown by their size.
---@param args any an object, or the raw string the model sent
---@return string
function M.summarize_args(args)
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

---`context 41%`: how much of the model's context window the last request and its answer took, from
---a `ryan/chat` result's usage; "" when the server does not know the window.
---@param usage table? `{contextWindow?, contextUsed?, ...}`
---@return string
function M.context_percent(usage)
  if type(usage) ~= "table" then
    return ""
  end
  local window, used = usage.contextWindow, usage.contextUsed
  if type(window) ~= "number" or type(used) ~= "number" or window <= 0 then
    return ""
  end
  return ("context %d%%"):format(math.floor(100 * used / window + 0.5))
end

--- Headers ----------------------------------------------------------------------------------------

---`‹ 2/3 ›`: where message `msg` stands among its versions (`siblings`, docs/protocol.md
---"Regenerate and branches"); nil when it has no other version.
---@param msg table a message of `ryan/session`
---@return string?
function M.version(msg)
  local siblings = type(msg) == "table" and msg.siblings
  if type(siblings) ~= "table" or #siblings < 2 then
    return nil
  end
  for i, id in ipairs(siblings) do
    if id == msg.id then
      return ("‹ %d/%d ›"):format(i, #siblings)
    end
  end
  return ("‹ ?/%d ›"):format(#siblings)
end

---Write the header of a user turn: `## You` (with its version, `‹ 2/3 ›`, when it has others), the
---prompt and the context it carries.
---@param b ryan.chat.Buffer
---@param prompt string
---@param context table[]?
---@param version string?
---@return integer row the header's row
function M.prompt(b, prompt, context, version)
  b:ensure_blank_line()
  local srow = b:end_pos()
  b:append(version and ("## You  " .. version .. "\n\n") or "## You\n\n")
  b:append(prompt)
  b:ensure_newline()
  b:highlight("RyanPrompt", srow, 0, srow, 6)
  if context and #context > 0 then
    local labels = {}
    for _, item in ipairs(context) do
      labels[#labels + 1] = "`" .. M.context_label(item) .. "`"
    end
    b:append("\n")
    b:line("_context: " .. table.concat(labels, ", ") .. "_", "RyanMeta")
  end
  return srow
end

---Write `## Ryan`, the header of an answer (with its version, `‹ 2/3 ›`, when it has others).
---@param b ryan.chat.Buffer
---@param version string?
---@return integer header extmark id (ryan.Answer.header_mark)
function M.answer_header(b, version)
  b:ensure_blank_line()
  local row = b:end_pos()
  b:append(version and ("## Ryan  " .. version .. "\n\n") or "## Ryan\n\n")
  return b:set_mark(row, 0, { end_row = row, end_col = 7, hl_group = "RyanAnswer" })
end

---Set the virtual text after the answer's "## Ryan" line (model, timing, state).
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param chunks ryan.VirtText
function M.header_info(b, answer, chunks)
  if not answer.header_mark then
    return
  end
  local row = b:mark_row(answer.header_mark)
  if not row then
    return
  end
  pcall(b.set_mark, b, row, 0, {
    id = answer.header_mark,
    end_row = row,
    end_col = 7,
    hl_group = "RyanAnswer",
    virt_text = chunks,
    virt_text_pos = "eol",
  })
end

---Show the model the server answers with after the header.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param model string
function M.model(b, answer, model)
  M.header_info(b, answer, { { "  " .. model, "RyanMeta" } })
end

--- The answer -------------------------------------------------------------------------------------

---Switch the streaming section (thinking → content → tool …), separating them with a blank line.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param section "thinking"|"content"|"tool"
function M.section(b, answer, section)
  if answer.section == section then
    return
  end
  if answer.section ~= nil then
    b:ensure_blank_line()
  end
  answer.section = section
  answer.thinking_mark = nil
end

---Append answer text.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param text string
function M.content(b, answer, text)
  M.section(b, answer, "content")
  b:append(text)
end

---Append reasoning text, dimmed (nothing with `thinking = "hide"`). One highlight covers the
---section and grows with it.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param text string
function M.thinking(b, answer, text)
  if config.options.thinking == "hide" then
    return
  end
  M.section(b, answer, "thinking")
  local srow, scol, erow, ecol = b:append(text)
  if not answer.thinking_mark then
    answer.thinking_start = { srow, scol }
  end
  answer.thinking_mark = b:highlight("RyanThinking", answer.thinking_start[1], answer.thinking_start[2], erow, ecol, answer.thinking_mark)
end

--- Tool cards -------------------------------------------------------------------------------------

local STATUS_HL = {
  ok = "RyanToolOk",
  error = "RyanToolError",
  denied = "RyanToolDenied",
}

---How a tool is named in the chat: `server › tool` for an MCP server's tool (from the event's
---`server` and `tool`, or, for a stored call that lacks them, read from its `mcp__server__tool` name),
---else its name.
---@param ev table a `toolCall` or `toolResult` event, or a stored tool call
---@return string
function M.tool_label(ev)
  if type(ev.server) == "string" and type(ev.tool) == "string" then
    return ev.server .. " › " .. ev.tool
  end
  local name = tostring(ev.name or "?")
  local server, tool = name:match("^mcp__(.-)__(.+)$")
  if server and server ~= "" then
    return server .. " › " .. tool
  end
  return name
end

---A tool card: `**tool** name arguments` with its status as virtual text. A live call is
---"… running" until its result; a stored one shows its status (or waits for its tool message).
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param ev table a `toolCall` event, or a stored message's tool call
function M.tool_call(b, answer, ev)
  M.section(b, answer, "tool")
  b:ensure_newline()
  local srow = b:end_pos()
  b:append(("**tool** `%s` %s"):format(M.tool_label(ev), M.summarize_args(ev.arguments)))
  local status = ev.status == nil and "… running" or STATUS_HL[ev.status] and ev.status or ""
  local id = b:set_mark(srow, 0, {
    virt_text = { { "  " .. status, STATUS_HL[ev.status] or "RyanToolPending" } },
    virt_text_pos = "eol",
  })
  b:append("\n")
  if ev.callId then
    answer.tools[ev.callId] = id
  end
end

---What a result line says: for a command, how it ended (`exit code 1`, `stopped: still running
---after 120 s (the time limit)`, from the last line of its output; its output is in the fold above);
---else the start of the output.
---@param ev table a `toolResult` event (or a stored tool message as one)
---@return string
function M.result_summary(ev)
  local output = tostring(ev.output or "")
  if ev.name == "run_command" or ev.tool == nil and ev.name == nil then
    local last = output:gsub("%s+$", ""):match("([^\n]*)$") or ""
    local ended = last:match("^%[(exit code %-?%d+)%]$") or last:match("^%[(stopped: .*)%]$")
    if ended then
      return ended
    end
  end
  return one_line(output, 200)
end

---A tool's result: its card's status updated, and a line with what the tool returned.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param ev table a `toolResult` event (or a stored tool message as one)
function M.tool_result(b, answer, ev)
  M.section(b, answer, "tool")
  local status = ev.status or "ok"
  local hl = STATUS_HL[status] or "RyanToolError"
  local id = ev.callId and answer.tools[ev.callId]
  if id then
    local row = b:mark_row(id)
    if row then
      pcall(b.set_mark, b, row, 0, {
        id = id,
        virt_text = { { "  " .. status, hl } },
        virt_text_pos = "eol",
      })
    end
  end
  b:ensure_newline()
  b:line(("  ↳ %s: %s"):format(status, M.result_summary(ev)), hl)
end

--- Ends of an answer ------------------------------------------------------------------------------

---The "(stopped)" line of an answer the user stopped.
---@param b ryan.chat.Buffer
function M.stopped(b)
  b:ensure_newline()
  b:line("_(stopped)_", "RyanMeta")
end

---An error line.
---@param b ryan.chat.Buffer
---@param msg string
function M.error(b, msg)
  b:ensure_blank_line()
  b:line("**Error:** " .. msg, "RyanError")
end

---The end of an answer from its `ryan/chat` result: the text a server that did not stream sends
---only here, then model, time, speed and context used after the header, and why it stopped if not
---at its end.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param result table
function M.finish(b, answer, result)
  if answer.thinking_len == 0 and type(result.thinking) == "string" and result.thinking ~= "" then
    M.thinking(b, answer, result.thinking)
  end
  if answer.content_len == 0 and type(result.content) == "string" and result.content ~= "" then
    M.content(b, answer, result.content)
  end
  b:ensure_newline()
  local info = {}
  if result.model or answer.model then
    info[#info + 1] = result.model or answer.model
  end
  local timing = type(result.timing) == "table" and result.timing or {}
  if type(timing.totalMs) == "number" then
    info[#info + 1] = ("%.1f s"):format(timing.totalMs / 1000)
  end
  if type(timing.tokensPerSecond) == "number" and timing.tokensPerSecond > 0 then
    info[#info + 1] = ("%.1f tok/s"):format(timing.tokensPerSecond)
  end
  local context = M.context_percent(result.usage)
  if context ~= "" then
    info[#info + 1] = context
  end
  if result.stopReason and result.stopReason ~= protocol.stop_reason.stop then
    info[#info + 1] = "stopped: " .. result.stopReason
  end
  M.header_info(b, answer, { { "  " .. table.concat(info, " · "), "RyanMeta" } })
  if result.stopReason == protocol.stop_reason.length then
    b:line("_(the answer hit the length limit)_", "RyanMeta")
  elseif result.stopReason == protocol.stop_reason.max_steps then
    b:line("_(stopped after the maximum number of tool steps)_", "RyanMeta")
  end
end

--- Regenerated answers and changed files -----------------------------------------------------------

---The line under the header of a regenerated answer (`:RyanRetry`), saying it is a new version of
---the one above. Its extmark later shows the version (`regenerated_version`).
---@param b ryan.chat.Buffer
---@return integer mark extmark id on the line
function M.regenerated(b)
  b:ensure_newline()
  local row = b:end_pos()
  b:line("_(a new version of the answer above)_", "RyanMeta")
  b:append("\n")
  return b:set_mark(row, 0, {})
end

---Show `‹ 2/2 ›` after the line `regenerated` wrote.
---@param b ryan.chat.Buffer
---@param mark integer
---@param version string
function M.regenerated_version(b, mark, version)
  local row = b:mark_row(mark)
  if row then
    pcall(b.set_mark, b, row, 0, {
      id = mark,
      virt_text = { { "  " .. version .. "  :RyanBranch prev|next", "RyanMeta" } },
      virt_text_pos = "eol",
    })
  end
end

local CHANGE_HL = {
  created = "RyanFileCreated",
  modified = "RyanFileModified",
  deleted = "RyanFileDeleted",
}

---The files a chat changed (its `checkpoint`, docs/protocol.md "Checkpoints, undo and redo"): one
---line each, `` - `path` modified +3 −1 ``, under a line with the commands that review and undo them.
---@param b ryan.chat.Buffer
---@param checkpoint table
function M.checkpoint(b, checkpoint)
  local files = type(checkpoint) == "table" and type(checkpoint.files) == "table" and checkpoint.files or {}
  if #files == 0 then
    return
  end
  b:ensure_blank_line()
  b:line(
    ("_Changed %d file%s: :RyanReview to review, :RyanUndo to undo_"):format(#files, #files == 1 and "" or "s"),
    "RyanMeta"
  )
  for _, f in ipairs(files) do
    local head = ("- `%s` "):format(tostring(f.path or f.uri or "?"))
    local change = tostring(f.change or "?")
    b:ensure_newline()
    local row = b:end_pos()
    b:append(("%s%s +%d −%d"):format(head, change, tonumber(f.added) or 0, tonumber(f.removed) or 0))
    b:highlight(CHANGE_HL[change] or "RyanMeta", row, #head, row, #head + #change)
    b:append("\n")
  end
end

--- A stored session -------------------------------------------------------------------------------

---A message that has other versions, as drawn: `:RyanBranch` switches among them.
---@class ryan.BranchPoint
---@field mark integer extmark id on the message's header
---@field id any the message's id
---@field siblings any[] the ids of its versions, oldest first

---Draw a stored session (the result of `ryan/session`: its active branch) in place of what the
---buffer holds. A message with other versions shows `‹ 2/3 ›` in its header.
---@param b ryan.chat.Buffer
---@param session table
---@return ryan.BranchPoint[] branch_points the messages with other versions, top to bottom
function M.session(b, session)
  b:clear()
  if session.title and session.title ~= "" then
    b:line("# " .. session.title)
  end
  local points = {} ---@type ryan.BranchPoint[]
  local function point(msg, mark)
    if M.version(msg) then
      points[#points + 1] = { mark = mark, id = msg.id, siblings = msg.siblings }
    end
  end
  local answer = nil ---@type ryan.Answer?
  for _, msg in ipairs(session.messages or {}) do
    local role = msg.role
    if role == "user" then
      local row = M.prompt(b, msg.content or "", nil, M.version(msg))
      point(msg, b:set_mark(row, 0, {}))
      answer = nil
    elseif role == "assistant" then
      if not answer then
        answer = state.new_answer()
        answer.header_mark = M.answer_header(b, M.version(msg))
        point(msg, answer.header_mark)
      end
      if type(msg.thinking) == "string" and msg.thinking ~= "" then
        M.thinking(b, answer, msg.thinking)
      end
      if type(msg.content) == "string" and msg.content ~= "" then
        M.content(b, answer, msg.content)
      end
      for _, call in ipairs(type(msg.toolCalls) == "table" and msg.toolCalls or {}) do
        M.tool_call(b, answer, call)
      end
      b:ensure_newline()
      if msg.status == "interrupted" then
        b:line("_(stopped)_", "RyanMeta")
      elseif msg.status == "error" then
        b:line("_(failed)_", "RyanError")
      end
    elseif role == "tool" then
      answer = answer or state.new_answer()
      local status = msg.status
      if status ~= "error" and status ~= "denied" then
        status = "ok" -- a tool message that completed
      end
      M.tool_result(b, answer, { callId = msg.toolCallId, status = status, output = msg.content, name = msg.toolName })
    end
  end
  return points
end

--- Statuses outside the buffer --------------------------------------------------------------------

---@param kind string
---@param msg string
local function notify_event(kind, msg)
  if config.options.notify_events then
    vim.notify(("Ryan: %s: %s"):format(kind, msg), vim.log.levels.INFO)
  end
end

---Show a `fallback`, `resumed` or `notice` event: through vim.notify, not in the buffer (fallbacks
---and resumptions only with `notify_events`). Retries go to the pending line (pending.lua).
---@param ev table
function M.status(ev)
  local kind = ev.kind
  local E = protocol.event
  if kind == E.fallback then
    notify_event("streaming failed, asking without streaming", tostring(ev.reason or ""))
  elseif kind == E.resumed then
    notify_event("the connection broke, the model continues", ("attempt %s"):format(tostring(ev.attempt)))
  elseif kind == E.notice then
    vim.notify("Ryan: " .. tostring(ev.message or ev.text or ev.reason or ""), vim.log.levels.WARN)
  end
end

return M
