---@brief A chat's request: `ryan/chat` sent for a prompt (or to answer again, `regenerate`), its
--- `$/progress` events routed to the drawing as they stream, its work-done status to the pending
--- line, its answer or error at the end, and stopping it (by the user, or when its server exits).
--- The ryan.Chat methods ask, retry and stop (init.lua) come here.

local changes = require("ryan.chat.changes")
local config = require("ryan.config")
local format = require("ryan.chat.format")
local notify = require("ryan.chat.notify")
local output = require("ryan.chat.output")
local pending = require("ryan.chat.pending")
local protocol = require("ryan.protocol")
local rclient = require("ryan.client")
local render = require("ryan.chat.render")
local state = require("ryan.chat.state")
local versions = require("ryan.chat.versions")

local api = vim.api
local E = protocol.event

local M = {}

---Handle one `$/progress` value of a run.
---@param chat ryan.Chat
---@param run ryan.Run
---@param ev table
local function on_event(chat, run, ev)
  if run.stopped or type(ev) ~= "table" or not api.nvim_buf_is_valid(chat.buf) then
    return
  end
  local kind = ev.kind
  local b = chat.buffer
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
      chat:set_session(ev.sessionId)
    end
    if ev.model then
      run.model = ev.model
      render.model(chat.buffer, run, ev.model)
    end
  elseif kind == E.tool_call then
    render.tool_call(chat.buffer, run, ev)
  elseif kind == E.tool_result then
    output.finish(run, ev.callId ~= nil and tostring(ev.callId) or nil)
    render.tool_result(chat.buffer, run, ev)
  else
    notify.status(ev)
  end
end

---A work-done `$/progress` value of a run (the server's status: waiting, approval, tools).
---@param chat ryan.Chat
---@param run ryan.Run
---@param value table
local function on_work_done(chat, run, value)
  if run.stopped or chat.run ~= run or not api.nvim_buf_is_valid(chat.buf) then
    return
  end
  pending.work_done(chat.buffer, run, value)
end

---A run is over: stop listening for its events and take its pending line away.
---@param chat ryan.Chat
---@param run ryan.Run
local function end_run(chat, run)
  rclient.unroute(run.token)
  if run.work_token then
    rclient.unwatch(run.work_token)
  end
  if api.nvim_buf_is_valid(chat.buf) then
    pending.clear(chat.buffer, run)
  end
end

---The `ryan/chat` answer (or error) of a run.
---@param chat ryan.Chat
---@param run ryan.Run
---@param err table?
---@param result table?
local function on_response(chat, run, err, result)
  if run.stopped then
    return
  end
  end_run(chat, run)
  if chat.run == run then
    chat.run = nil
  end
  if not api.nvim_buf_is_valid(chat.buf) then
    return
  end
  if err then
    local data = type(err.data) == "table" and err.data or {}
    if err.code == protocol.error.backend_error and type(data.partialContent) == "string" and run.content_len == 0 then
      render.content(chat.buffer, run, data.partialContent)
    end
    if type(data.sessionId) == "string" then
      chat:set_session(data.sessionId)
    end
    chat:show_error(format.error_message(err))
    return
  end
  result = result or {}
  if result.sessionId then
    chat:set_session(result.sessionId)
  end
  if type(result.usage) == "table" then
    chat.usage = result.usage
  end
  render.finish(chat.buffer, run, result)
  if type(result.checkpoint) == "table" then
    changes.checkpoint(chat.buffer, result.checkpoint)
  end
  if run.regenerated_mark then
    require("ryan.branches").show_version(chat, run.regenerated_mark)
  end
  -- statuslines and winbars that show the context figure (ryan.statusline()) are not redrawn by
  -- an answer arriving: ask for it
  pcall(vim.cmd.redrawstatus, { bang = true })
end

---Run `fn`; report a failure through vim.notify instead of letting Neovim print a traceback.
local function safely(fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok then
    vim.notify("Ryan: internal error: " .. tostring(err), vim.log.levels.ERROR)
  end
end

---Send the chat request once the server is ready.
---@param chat ryan.Chat
---@param run ryan.Run
---@param params table what the request asks (`prompt` and `context`, or `regenerate`)
---@param opts table
---@param client vim.lsp.Client?
---@param err string?
local function send(chat, run, params, opts, client, err)
  if run.stopped then
    return
  end
  if not client then
    chat.run = nil
    chat:show_error(err or "the server did not start")
    return
  end
  run.client = client
  rclient.route(run.token, function(value)
    on_event(chat, run, value)
  end)
  run.work_token = rclient.new_token("work")
  rclient.watch(run.work_token, function(value)
    on_work_done(chat, run, value)
  end)
  params = vim.tbl_extend("force", params, {
    sessionId = chat.session_id,
    model = opts.model or config.options.model,
    partialResultToken = run.token,
    workDoneToken = run.work_token,
  })
  local ok, id = rclient.request(client, protocol.method.chat, params, function(rerr, result)
    safely(on_response, chat, run, rerr, result)
  end)
  if not ok then
    end_run(chat, run)
    chat.run = nil
    chat:show_error("the server is not running (:checkhealth ryan)")
    return
  end
  run.request_id = id
end

---Ask a question in this chat.
---@param chat ryan.Chat
---@param prompt string
---@param opts { context: table[]?, model: string? }?
---@return boolean started
function M.ask(chat, prompt, opts)
  opts = opts or {}
  if chat.run then
    vim.notify("Ryan is still answering in this chat; :RyanStop first.", vim.log.levels.WARN)
    return false
  end
  render.prompt(chat.buffer, prompt, opts.context)
  local run = state.new_run(rclient.new_token("chat"))
  run.header_mark = render.answer_header(chat.buffer)
  chat.run = run
  local params = { prompt = prompt }
  if opts.context and #opts.context > 0 then
    params.context = opts.context
  end
  rclient.with_client(chat.root, function(client, err)
    safely(send, chat, run, params, opts, client, err)
  end)
  return true
end

---Answer the session's last question again (`regenerate`): the new answer streams in under the
---last one, marked as a new version; the earlier answer stays in history as another branch.
---@param chat ryan.Chat
---@param opts { model: string? }?
---@return boolean started
function M.retry(chat, opts)
  opts = opts or {}
  if chat.run then
    vim.notify("Ryan is still answering in this chat; :RyanStop first.", vim.log.levels.WARN)
    return false
  end
  if not chat.session_id then
    vim.notify("Ryan: nothing to answer again in this chat yet", vim.log.levels.WARN)
    return false
  end
  local run = state.new_run(rclient.new_token("chat"))
  run.header_mark = render.answer_header(chat.buffer)
  run.regenerated_mark = versions.regenerated(chat.buffer)
  chat.run = run
  rclient.with_client(chat.root, function(client, err)
    safely(send, chat, run, { regenerate = true }, opts, client, err)
  end)
  return true
end

---Stop the running answer, keeping what came.
---@param chat ryan.Chat
---@param opts { quiet: boolean? }?
---@return boolean stopped false if nothing was running
function M.stop(chat, opts)
  local run = chat.run
  if not run then
    return false
  end
  run.stopped = true
  chat.run = nil
  end_run(chat, run)
  if run.client and run.request_id then
    rclient.cancel(run.client, run.request_id)
  end
  if not (opts and opts.quiet) and api.nvim_buf_is_valid(chat.buf) then
    render.stopped(chat.buffer)
  end
  return true
end

---Called when a server exits: fail the run that was using it.
---@param chat ryan.Chat
---@param client_id integer
---@param message string
local function on_server_exit(chat, client_id, message)
  local run = chat.run
  if run and run.client and run.client.id == client_id then
    run.stopped = true
    chat.run = nil
    end_run(chat, run)
    chat:show_error(message)
  end
end

rclient.on_exit(function(client_id, message)
  for _, chat in pairs(state.by_buf) do
    on_server_exit(chat, client_id, message)
  end
end)

return M
