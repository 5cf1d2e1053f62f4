---@brief The chat's window: find the windows that show a chat buffer, open one as a split (or in the
--- current window) with the options a chat reads well in, and close them. The buffer stays.

local config = require("ryan.config")
local output = require("ryan.chat.output")

local api = vim.api

local M = {}

---The windows in the current tab page that show `buf`.
---@param buf integer
---@return integer[]
function M.list(buf)
  local wins = {}
  for _, win in ipairs(api.nvim_tabpage_list_wins(0)) do
    if api.nvim_win_get_buf(win) == buf then
      wins[#wins + 1] = win
    end
  end
  return wins
end

---Show `buf` in a split (or reuse the window that shows it).
---@param buf integer
---@param opts { focus: boolean? }?
---@return integer win
function M.show(buf, opts)
  opts = opts or {}
  local wopts = config.options.window
  local focus = opts.focus
  if focus == nil then
    focus = wopts.focus
  end
  local win = M.list(buf)[1]
  if not win then
    local pos = wopts.position or "right"
    if pos == "current" then
      win = api.nvim_get_current_win()
      api.nvim_win_set_buf(win, buf)
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
      win = api.nvim_open_win(buf, false, cfg)
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
    pcall(api.nvim_win_set_cursor, win, { api.nvim_buf_line_count(buf), 0 })
  end
  if focus then
    api.nvim_set_current_win(win)
  end
  return win
end

---Close the windows that show `buf` (never the last window of the tab page).
---@param buf integer
function M.close(buf)
  for _, win in ipairs(M.list(buf)) do
    if #api.nvim_tabpage_list_wins(0) > 1 then
      pcall(api.nvim_win_close, win, false)
    end
  end
end

return M
