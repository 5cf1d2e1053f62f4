---@brief Writing to a chat buffer: the scratch buffer itself, appending streamed text at its end,
--- and the highlights and extmarks on what was written. Knows nothing of turns or events
--- (render.lua and its siblings decide what to write, request.lua when).
---
--- Streaming appends only the new text at the end with `nvim_buf_set_text`, from an end position
--- kept here (validated by changedtick), so the cost of a delta does not grow with the answer.

local config = require("ryan.config")

local api = vim.api

local M = {}

---The namespace of every highlight and extmark in chat buffers.
M.ns = api.nvim_create_namespace("ryan_chat")

---@class ryan.chat.Buffer
---@field buf integer
---@field end_row integer 0-based row of the end of the text (valid while `tick` is current)
---@field end_col integer byte column of the end of the text
---@field tick integer changedtick after our last write (-1: never written)
local Buffer = {}
Buffer.__index = Buffer
M.Buffer = Buffer

---A new scratch buffer for a chat, not shown and without options yet (see `set_options`).
---@return ryan.chat.Buffer
function M.create()
  return setmetatable({
    buf = api.nvim_create_buf(false, true),
    end_row = 0,
    end_col = 0,
    tick = -1,
  }, Buffer)
end

---Make it a read-only markdown scratch buffer: written only through `append`, no undo history.
function Buffer:set_options()
  local bo = vim.bo[self.buf]
  bo.buftype = "nofile"
  bo.bufhidden = "hide"
  bo.swapfile = false
  bo.undolevels = -1
  bo.modifiable = false
  bo.filetype = "markdown"
end

---@return boolean
function Buffer:is_valid()
  return api.nvim_buf_is_valid(self.buf)
end

---The end of the buffer as {row, col} (0-based, col in bytes), recomputed only if someone else
---changed the buffer since our last write.
---@return integer row
---@return integer col
function Buffer:end_pos()
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
function Buffer:is_empty()
  local row, col = self:end_pos()
  return row == 0 and col == 0
end

---Append `text` at the end of the buffer. O(#text): nothing before the end is read or redrawn.
---Windows whose cursor is at the end follow it (`config.follow`).
---@param text string
---@return integer start_row, integer start_col, integer end_row, integer end_col
function Buffer:append(text)
  local buf = self.buf
  local row, col = self:end_pos()
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

---Replace lines `srow` to `erow` (0-based, end exclusive; equal to insert) with `lines`, away from
---the end (a tool's output under its card). Cursors below move with their text; none is set here.
---@param srow integer
---@param erow integer
---@param lines string[]
function Buffer:set_lines(srow, erow, lines)
  local buf = self.buf
  api.nvim_set_option_value("modifiable", true, { buf = buf })
  api.nvim_buf_set_lines(buf, srow, erow, false, lines)
  api.nvim_set_option_value("modifiable", false, { buf = buf })
  self.tick = -1 -- the end may have moved: end_pos() reads it again
end

---The text of line `row` (0-based).
---@param row integer
---@return string
function Buffer:get_line(row)
  return api.nvim_buf_get_lines(self.buf, row, row + 1, false)[1] or ""
end

---Empty the buffer and drop its highlights and extmarks.
function Buffer:clear()
  local buf = self.buf
  api.nvim_set_option_value("modifiable", true, { buf = buf })
  api.nvim_buf_set_lines(buf, 0, -1, false, {})
  api.nvim_set_option_value("modifiable", false, { buf = buf })
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
end

---Highlight a span written by `append` (or move highlight `id` to it).
---@param hl string
---@param srow integer
---@param scol integer
---@param erow integer
---@param ecol integer
---@param id integer?
---@return integer id
function Buffer:highlight(hl, srow, scol, erow, ecol, id)
  return api.nvim_buf_set_extmark(self.buf, M.ns, srow, scol, {
    id = id,
    end_row = erow,
    end_col = ecol,
    hl_group = hl,
    hl_eol = true,
  })
end

---Set an extmark in the chat namespace.
---@param row integer
---@param col integer
---@param opts vim.api.keyset.set_extmark
---@return integer id
function Buffer:set_mark(row, col, opts)
  return api.nvim_buf_set_extmark(self.buf, M.ns, row, col, opts)
end

---Remove extmark `id` (gone already is fine).
---@param id integer
function Buffer:del_mark(id)
  pcall(api.nvim_buf_del_extmark, self.buf, M.ns, id)
end

---Where extmark `id` is now, or nil if it is gone (its text was deleted, the buffer cleared).
---@param id integer
---@return integer? row
function Buffer:mark_row(id)
  local mark = api.nvim_buf_get_extmark_by_id(self.buf, M.ns, id, {})
  return mark and mark[1]
end

---Make the end of the buffer the start of a line.
function Buffer:ensure_newline()
  local _, col = self:end_pos()
  if col > 0 then
    self:append("\n")
  end
end

---Make the end of the buffer the start of a line that follows an empty line (or the top).
function Buffer:ensure_blank_line()
  if self:is_empty() then
    return
  end
  self:ensure_newline()
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
function Buffer:line(text, hl)
  self:ensure_newline()
  local srow, scol, erow, ecol = self:append(text)
  if hl then
    self:highlight(hl, srow, scol, erow, ecol)
  end
  self:append("\n")
end

return M
