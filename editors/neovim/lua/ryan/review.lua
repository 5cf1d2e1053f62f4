---@brief :RyanReview: what a chat changed, file by file, in Neovim's own diff mode. A new tab page
--- holds a scratch buffer (`ryan://checkpoint/<id>/<path>`, read-only) with the file as it was
--- before that chat (`before` of `ryan/diff`) on the left, and the file's own buffer on the right,
--- both with |:diffthis|: |do| (`:diffget`) in the file's window, or |dp| in the scratch, takes one
--- hunk back. `:tabclose` ends the review.

local checkpoints = require("ryan.checkpoints")
local protocol = require("ryan.protocol")
local rclient = require("ryan.client")

local api = vim.api

local M = {}

---The scratch buffer's name for `path` in checkpoint `id`.
---@param id any
---@param path string
---@return string
function M.buf_name(id, path)
  return ("ryan://checkpoint/%s/%s"):format(tostring(id), path)
end

---Text as buffer lines (a final newline ends the last line; it does not start another one).
---@param text string?
---@return string[]
function M.lines(text)
  if text == nil or text == "" then
    return {}
  end
  local lines = vim.split((text:gsub("\r\n", "\n")), "\n", { plain = true })
  if lines[#lines] == "" then
    lines[#lines] = nil
  end
  return lines
end

---The scratch buffer holding `before`, replacing an older one of the same name.
---@param id any
---@param file table an entry of `ryan/diff`'s `files`
---@return integer buf
local function scratch(id, file)
  local name = M.buf_name(id, file.path)
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_get_name(b) == name then
      pcall(api.nvim_buf_delete, b, { force = true })
    end
  end
  local buf = api.nvim_create_buf(false, true)
  local lines = M.lines(checkpoints.value(file.before))
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  api.nvim_buf_set_name(buf, name)
  local bo = vim.bo[buf]
  bo.buftype = "nofile"
  bo.bufhidden = "wipe"
  bo.swapfile = false
  bo.modifiable = false
  bo.readonly = true
  local ft = vim.filetype.match({ filename = file.path, contents = lines })
  if ft then
    bo.filetype = ft
  end
  return buf
end

---Open the review of one file of checkpoint `id`: the diff split, or, for a file that is gone now,
---the checkpoint's text alone.
---@param root string
---@param id any
---@param file table an entry of `ryan/diff`'s `files`: `{path, uri, before, current, diff}`
---@return integer scratch_buf
---@return integer? file_buf nil when the file does not exist now
function M.open(root, id, file)
  local fname = type(file.uri) == "string" and file.uri:match("^file:") and vim.uri_to_fname(file.uri)
    or checkpoints.fname(root, file.path)
  local sbuf = scratch(id, file)
  if checkpoints.value(file.current) == nil then
    vim.cmd("tab sbuffer " .. sbuf)
    vim.notify(
      ("Ryan: %s no longer exists; this is its text before the chat (:RyanUndo brings it back)"):format(file.path),
      vim.log.levels.INFO
    )
    return sbuf, nil
  end
  vim.cmd("tabedit " .. vim.fn.fnameescape(fname))
  local fwin = api.nvim_get_current_win()
  local fbuf = api.nvim_get_current_buf()
  local swin = api.nvim_open_win(sbuf, false, { split = "left", win = fwin })
  for _, win in ipairs({ swin, fwin }) do
    api.nvim_win_call(win, function()
      vim.cmd.diffthis()
    end)
  end
  api.nvim_create_autocmd("BufWipeout", {
    buffer = sbuf,
    once = true,
    callback = function()
      if api.nvim_win_is_valid(fwin) and api.nvim_win_get_buf(fwin) == fbuf then
        api.nvim_win_call(fwin, function()
          vim.cmd.diffoff()
        end)
      end
    end,
  })
  -- on the first change
  api.nvim_win_set_cursor(fwin, { 1, 0 })
  if vim.fn.diff_hlID(1, 1) == 0 then
    pcall(vim.cmd, "normal! ]c")
  end
  return sbuf, fbuf
end

---The file of `files` that `wanted` names (a path as the tools name it, or a file name), if any.
---@param root string
---@param files table[]
---@param wanted string
---@return table?
local function find_file(root, files, wanted)
  local full = vim.fs.normalize(vim.fn.fnamemodify(wanted, ":p"))
  for _, f in ipairs(files) do
    if f.path == wanted or checkpoints.fname(root, f.path) == full then
      return f
    end
  end
end

---What happened to a file, from its two sides.
---@param f table
---@return string
local function change(f)
  if checkpoints.value(f.before) == nil then
    return "created"
  elseif checkpoints.value(f.current) == nil then
    return "deleted"
  end
  return "modified"
end

---Review checkpoint `id`: fetch its diff, pick the file (`file`, the only one, or ask) and open it.
---When `file` is not one of its files and `or_checkpoint` is given, review that checkpoint instead
---(an argument of :RyanReview that may name either).
---@param root string
---@param id any
---@param file string?
---@param cb fun(scratch_buf: integer?, file_buf: integer?)?
---@param or_checkpoint string?
function M.review_checkpoint(root, id, file, cb, or_checkpoint)
  if type(id) == "string" and id:match("^%d+$") then
    id = tonumber(id) -- typed on the command line; the server's ids are numbers
  end
  local function done(...)
    if cb then
      cb(...)
    end
  end
  rclient.call(root, protocol.method.diff, { checkpointId = id }, function(result, err)
    if type(result) ~= "table" then
      vim.notify("Ryan: could not get the changes: " .. tostring(err), vim.log.levels.ERROR)
      return done(nil)
    end
    local files = type(result.files) == "table" and result.files or {}
    if #files == 0 then
      vim.notify("Ryan: that chat changed no files", vim.log.levels.INFO)
      return done(nil)
    end
    if file then
      local f = find_file(root, files, file)
      if not f and or_checkpoint then
        return M.review_checkpoint(root, or_checkpoint, nil, cb)
      end
      if not f then
        local names = vim.tbl_map(function(x)
          return x.path
        end, files)
        vim.notify(("Ryan: %s is not in that chat's changes (%s)"):format(file, table.concat(names, ", ")), vim.log.levels.WARN)
        return done(nil)
      end
      return done(M.open(root, id, f))
    end
    if #files == 1 then
      return done(M.open(root, id, files[1]))
    end
    vim.ui.select(files, {
      prompt = "Ryan: review which file? ",
      kind = "ryan_review",
      format_item = function(f)
        return ("%s  (%s)"):format(f.path, change(f))
      end,
    }, function(choice)
      if choice then
        done(M.open(root, id, choice))
      else
        done(nil)
      end
    end)
  end)
end

---:RyanReview [checkpointId] [file]: review the current session's latest checkpoint (or the one
---named) file by file. A single argument that is not one of the session's checkpoints names a file.
---@param args string[]
---@param cb fun(scratch_buf: integer?, file_buf: integer?)?
function M.review(args, cb)
  local chat = require("ryan.chat.state").valid_current()
  local root = chat and chat.root or rclient.root_for(0)
  if #args >= 2 then
    return M.review_checkpoint(root, args[1], args[2], cb)
  end
  if not (chat and chat.session_id) then
    if #args == 1 then
      return M.review_checkpoint(root, args[1], nil, cb)
    end
    checkpoints.current_chat() -- says why there is nothing to review
    return cb and cb(nil)
  end
  checkpoints.list(root, chat.session_id, function(list, err)
    if not list then
      vim.notify("Ryan: could not list the checkpoints: " .. tostring(err), vim.log.levels.ERROR)
      return cb and cb(nil)
    end
    local named = args[1] and checkpoints.latest(list, function(c)
      return tostring(c.checkpointId) == args[1]
    end)
    local cp = named or checkpoints.latest(list)
    if not cp then
      if args[1] then -- not one of this session's: another session's checkpoint, maybe
        return M.review_checkpoint(root, args[1], nil, cb)
      end
      vim.notify("Ryan: no chat of this session changed files", vim.log.levels.INFO)
      return cb and cb(nil)
    end
    if named or not args[1] then
      return M.review_checkpoint(root, cp.checkpointId, nil, cb)
    end
    -- a file of the latest checkpoint, else another session's checkpoint
    M.review_checkpoint(root, cp.checkpointId, args[1], cb, args[1])
  end)
end

return M
