---@brief The :RyanSessions picker: a workspace's sessions, newest first, in a floating window.
--- <CR> shows the session under the cursor, `d` deletes it (after a confirmation through
--- |vim.ui.select()|), `q` or <Esc> closes the picker.

local api = vim.api

local M = {}

M.filetype = "ryan-sessions"

local function timestamp(s)
  if type(s) ~= "string" then
    return ""
  end
  return (s:gsub("T", " "):gsub("%..*$", ""):gsub("Z$", ""))
end

---One line of the picker (also the label of a session elsewhere).
---@param s table a session from `ryan/sessions`
---@return string
function M.label(s)
  return ("%s  (%s, %s messages, %s)"):format(
    s.title or s.sessionId,
    s.model or "?",
    tostring(s.messageCount or "?"),
    timestamp(s.updatedAt)
  )
end

---@class ryan.SessionActions
---@field open fun(session: table) show the session
---@field delete fun(session: table, done: fun(deleted: boolean)) delete it; `done` once it is gone (or not)

---Show `sessions` in a float and act on the keys pressed there.
---@param sessions table[] from `ryan/sessions`, newest first
---@param actions ryan.SessionActions
---@return integer buf
---@return integer win
function M.pick(sessions, actions)
  sessions = vim.list_slice(sessions)
  local buf = api.nvim_create_buf(false, true)
  local bo = vim.bo[buf]
  bo.buftype = "nofile"
  bo.bufhidden = "wipe"
  bo.swapfile = false
  bo.filetype = M.filetype

  local function draw()
    bo.modifiable = true
    api.nvim_buf_set_lines(buf, 0, -1, false, vim.tbl_map(M.label, sessions))
    bo.modifiable = false
  end
  draw()

  local title = " Ryan sessions · <CR> open · d delete · q close "
  local width = vim.fn.strdisplaywidth(title)
  for _, line in ipairs(api.nvim_buf_get_lines(buf, 0, -1, false)) do
    width = math.max(width, vim.fn.strdisplaywidth(line))
  end
  width = math.min(width + 2, math.max(vim.o.columns - 4, 20))
  local height = math.max(1, math.min(#sessions, vim.o.lines - 6))
  local win = api.nvim_open_win(buf, true, {
    relative = "editor",
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    width = width,
    height = height,
    style = "minimal",
    border = "rounded",
    title = title,
    title_pos = "center",
  })
  vim.wo[win].cursorline = true

  local function close()
    if api.nvim_win_is_valid(win) then
      api.nvim_win_close(win, true)
    end
  end
  local function under_cursor()
    return sessions[api.nvim_win_get_cursor(win)[1]]
  end
  local function map(lhs, fn, desc)
    vim.keymap.set("n", lhs, fn, { buffer = buf, nowait = true, desc = "Ryan: " .. desc })
  end

  map("<CR>", function()
    local session = under_cursor()
    close()
    if session then
      actions.open(session)
    end
  end, "show this session")
  map("d", function()
    local session = under_cursor()
    if not session then
      return
    end
    vim.ui.select({ "Delete", "Keep" }, {
      prompt = ("Delete the session %q? "):format(session.title or session.sessionId),
      kind = "ryan_confirm",
    }, function(choice)
      if choice ~= "Delete" then
        return
      end
      actions.delete(session, function(deleted)
        if not deleted or not api.nvim_buf_is_valid(buf) then
          return
        end
        for i, s in ipairs(sessions) do
          if s.sessionId == session.sessionId then
            table.remove(sessions, i)
            break
          end
        end
        if #sessions == 0 then
          close()
        else
          draw()
          api.nvim_win_set_height(win, math.max(1, math.min(#sessions, vim.o.lines - 6)))
        end
      end)
    end)
  end, "delete this session")
  for _, lhs in ipairs({ "q", "<Esc>" }) do
    map(lhs, close, "close the session picker")
  end
  return buf, win
end

return M
