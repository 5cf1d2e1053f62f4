---@brief Checkpoints of the files Ryan's tools changed (docs/protocol.md "Checkpoints, undo and
--- redo"): listing a session's checkpoints, :RyanUndo (`ryan/restore` of the latest one not undone),
--- :RyanRedo (`ryan/redo`), what a restore did told through vim.notify and in the chat, and the
--- buffers of restored files brought up to date. The server restores through `workspace/applyEdit`
--- (into buffers, like its writes) and asks before it overwrites a file changed by hand
--- (approval.lua shows that question).

local protocol = require("ryan.protocol")
local rclient = require("ryan.client")

local api = vim.api

local M = {}

---JSON null, as the client may hand it over, is nil here.
---@param v any
---@return any
function M.value(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

---The current chat and its session, or nil and why not (said with vim.notify).
---@return ryan.Chat?
function M.current_chat()
  local chat = require("ryan.chat.state").valid_current()
  if not chat or not chat.session_id then
    vim.notify("Ryan: no session in the current chat (:Ryan asks, :RyanSessions opens one)", vim.log.levels.WARN)
    return nil
  end
  return chat
end

---`cb(checkpoints)` with a session's checkpoints, oldest first; `cb(nil, err)` on failure.
---@param root string
---@param session_id string
---@param cb fun(checkpoints: table[]?, err: string?)
function M.list(root, session_id, cb)
  rclient.call(root, protocol.method.checkpoints, { sessionId = session_id }, function(result, err)
    if type(result) ~= "table" then
      cb(nil, err or "no answer")
      return
    end
    cb(type(result.checkpoints) == "table" and result.checkpoints or {}, nil)
  end)
end

---The newest checkpoint that `keep` accepts (all, without it).
---@param checkpoints table[] oldest first
---@param keep (fun(cp: table): boolean)?
---@return table?
function M.latest(checkpoints, keep)
  for i = #checkpoints, 1, -1 do
    if not keep or keep(checkpoints[i]) then
      return checkpoints[i]
    end
  end
end

---@param paths any
---@return string[]
local function strings(paths)
  local out = {}
  for _, p in ipairs(type(paths) == "table" and paths or {}) do
    out[#out + 1] = type(p) == "table" and tostring(p.path or "?") or tostring(p)
  end
  return out
end

---What a `ryan/restore` or `ryan/redo` result says, in one message, and how loud to say it.
---@param what string "undo" or "redo" (and a prompt, for the message's start)
---@param result table `{restored, skipped, conflicts, cancelled}`
---@return string message
---@return integer level
function M.describe(what, result)
  if M.value(result.cancelled) then
    return ("Ryan: %s cancelled: no file was changed"):format(what), vim.log.levels.WARN
  end
  local restored = strings(result.restored)
  local done = {}
  for _, p in ipairs(restored) do
    done[p] = true
  end
  local parts, level = {}, vim.log.levels.INFO
  if #restored > 0 then
    parts[#parts + 1] = "restored " .. table.concat(restored, ", ")
  end
  local kept, overwritten = {}, {}
  for _, p in ipairs(strings(result.conflicts)) do
    if done[p] then
      overwritten[#overwritten + 1] = p
    else
      kept[#kept + 1] = p
    end
  end
  if #overwritten > 0 then
    parts[#parts + 1] = "overwrote your changes in " .. table.concat(overwritten, ", ")
  end
  if #kept > 0 then
    parts[#parts + 1] = "kept your changes in " .. table.concat(kept, ", ")
    level = vim.log.levels.WARN
  end
  local skipped = {}
  for _, s in ipairs(type(result.skipped) == "table" and result.skipped or {}) do
    if type(s) == "table" then
      skipped[#skipped + 1] = ("%s (%s)"):format(tostring(s.path or "?"), tostring(M.value(s.reason) or "skipped"))
    else
      skipped[#skipped + 1] = tostring(s)
    end
  end
  if #skipped > 0 then
    parts[#parts + 1] = "skipped " .. table.concat(skipped, ", ")
    level = vim.log.levels.WARN
  end
  if #parts == 0 then
    parts[1] = "no file needed restoring"
  end
  return ("Ryan: %s: %s"):format(what, table.concat(parts, "; ")), level
end

---The absolute file name of a path as the tools name it (relative to the workspace root).
---@param root string
---@param path string
---@return string
function M.fname(root, path)
  if path:sub(1, 1) == "/" then
    return vim.fs.normalize(path)
  end
  return vim.fs.normalize(root .. "/" .. path)
end

---Bring the buffers of restored files up to date where the server wrote to disk: `:checktime` for
---each unmodified buffer whose file exists (a buffer the restore changed through applyEdit is
---current already, and modified).
---@param root string
---@param paths string[]
function M.reload(root, paths)
  for _, path in ipairs(paths) do
    local buf = vim.fn.bufnr(M.fname(root, path))
    if buf > 0 and api.nvim_buf_is_loaded(buf) and not vim.bo[buf].modified and vim.uv.fs_stat(api.nvim_buf_get_name(buf)) then
      pcall(vim.cmd.checktime, buf)
    end
  end
end

---Report a restore (vim.notify, and a line in the chat when it is idle) and reload its buffers.
---@param chat ryan.Chat
---@param what string
---@param result table
local function report(chat, what, result)
  local msg, level = M.describe(what, result)
  vim.notify(msg, level)
  M.reload(chat.root, strings(result.restored))
  if not chat.run and chat.buffer:is_valid() then
    chat.buffer:ensure_blank_line()
    chat.buffer:line("_(" .. msg:gsub("^Ryan: ", "") .. ")_", "RyanMeta")
  end
end

---The error of a restore, in words (nothing to undo or redo is not an error).
---@param what string
---@param err string?
---@param code integer?
local function failed(what, err, code)
  if code == protocol.error.checkpoint_not_found then
    vim.notify(("Ryan: nothing to %s (%s)"):format(what, tostring(err)), vim.log.levels.INFO)
  elseif code == protocol.error.session_busy then
    vim.notify(("Ryan: cannot %s while Ryan answers in this session (:RyanStop stops it)"):format(what), vim.log.levels.WARN)
  else
    vim.notify(("Ryan: %s failed: %s"):format(what, tostring(err)), vim.log.levels.ERROR)
  end
end

---:RyanUndo: put back the files of the current session's latest checkpoint that is not undone (and
---of any later ones) as they were before that chat.
---@param cb fun(result: table?)? called when done (tests, scripts)
function M.undo(cb)
  local chat = M.current_chat()
  if not chat then
    return cb and cb(nil)
  end
  M.list(chat.root, chat.session_id, function(checkpoints, err)
    if not checkpoints then
      failed("undo", err)
      return cb and cb(nil)
    end
    local cp = M.latest(checkpoints, function(c)
      return not M.value(c.undone)
    end)
    if not cp then
      vim.notify("Ryan: nothing to undo: no chat of this session changed files, or all are undone", vim.log.levels.INFO)
      return cb and cb(nil)
    end
    rclient.call(chat.root, protocol.method.restore, { checkpointId = cp.checkpointId }, function(result, rerr, code)
      if type(result) ~= "table" then
        failed("undo", rerr, code)
        return cb and cb(nil)
      end
      report(chat, "undo", result)
      return cb and cb(result)
    end)
  end)
end

---:RyanRedo: put back what the session's latest undo replaced.
---@param cb fun(result: table?)?
function M.redo(cb)
  local chat = M.current_chat()
  if not chat then
    return cb and cb(nil)
  end
  rclient.call(chat.root, protocol.method.redo, { sessionId = chat.session_id }, function(result, err, code)
    if type(result) ~= "table" then
      failed("redo", err, code)
      return cb and cb(nil)
    end
    report(chat, "redo", result)
    return cb and cb(result)
  end)
end

return M
