---@brief A tool's live output in the chat buffer (`toolOutput` events: a command's stdout and stderr
--- as they come): lines under the call's tool card, each after `  │ `, in a fold that is closed until
--- the user opens it (`zo`), which shows the line count and the latest line while closed. Only the
--- last `output_lines` lines are kept, after a line saying how many earlier ones were cut, so a
--- command that prints a lot keeps the buffer responsive.
---
--- The lines are written where they belong (under the card), not at the end of the buffer, with
--- `nvim_buf_set_lines`: no cursor is set, so a user reading the chat stays where they are. One
--- extmark per call spans its lines: it carries the highlight and tells `foldexpr()` which lines fold.

local buffer = require("ryan.chat.buffer")
local config = require("ryan.config")

local api = vim.api

local M = {}

---What goes before each output line.
M.PREFIX = "  │ "
---The highlight of output lines; also how `foldexpr()` knows the span extmarks.
M.HL = "RyanToolOutput"
---Bytes of one output line kept; the rest of a longer line is left out.
local MAX_LINE_BYTES = 2000

---A call's output block: the lines right under its tool card.
---@class ryan.chat.OutputBlock
---@field mark integer extmark (chat namespace) spanning the block: (first row, 0) to (row after, 0)
---@field kept integer output lines in the block, not counting the "cut" line
---@field cut integer output lines dropped from the top
---@field open boolean the last line has not ended yet (the next text continues it)

---`s` without terminal escapes and control characters other than tab (colours are not rendered).
---@param s string
---@return string
local function strip_controls(s)
  s = s:gsub("\27%[[0-?]*[ -/]*[@-~]", "") -- CSI: colours, cursor moves
  s = s:gsub("\27%].-\7", ""):gsub("\27%].-\27\\", "") -- OSC: titles, links
  s = s:gsub("\27.?", ""):gsub("[%z\1-\8\11\12\14-\31\127]", "")
  return s
end

---One line as a terminal would leave it: a carriage return starts it over (progress bars).
---@param s string raw text of one line, without its newline
---@return string
local function settle(s)
  s = s:gsub("\r+$", "")
  if s:find("\r", 1, true) then
    s = s:match("[^\r]*$")
  end
  s = strip_controls(s)
  if #s > MAX_LINE_BYTES then
    s = s:sub(1, MAX_LINE_BYTES) .. " …"
  end
  return s
end

---@param cut integer
---@return string
local function cut_line(cut)
  return ("%s… %d earlier line%s cut (the model gets the whole output)"):format(
    M.PREFIX,
    cut,
    cut == 1 and "" or "s"
  )
end

---The block's first row and its number of rows.
---@param b ryan.chat.Buffer
---@param block ryan.chat.OutputBlock
---@return integer? srow
---@return integer rows
local function span(b, block)
  local mark = api.nvim_buf_get_extmark_by_id(b.buf, buffer.ns, block.mark, {})
  return mark and mark[1], block.kept + (block.cut > 0 and 1 or 0)
end

---Make the block's extmark span `rows` rows from `srow`. While we write (`growing`), lines inserted
---at its end join it, so the fold is right when Neovim computes it for them (at the insert); between
---events it does not grow, so text written after the block is never taken into it.
---@param b ryan.chat.Buffer
---@param block ryan.chat.OutputBlock?
---@param srow integer
---@param rows integer
---@param growing boolean?
---@return integer id
local function set_span(b, block, srow, rows, growing)
  return b:set_mark(srow, 0, {
    id = block and block.mark,
    end_row = srow + rows,
    end_col = 0,
    hl_group = M.HL,
    hl_eol = false,
    right_gravity = false,
    end_right_gravity = growing == true,
  })
end

---Show `text` (a `toolOutput` event's) under the card of call `call_id`.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param call_id string
---@param text string
function M.append(b, answer, call_id, text)
  if text == "" then
    return
  end
  local block = answer.outputs[call_id]
  local srow, rows
  if block then
    srow, rows = span(b, block)
  else
    local card = answer.tools[call_id]
    local card_row = card and b:mark_row(card)
    if not card_row then
      return -- no card to put it under (its text was deleted)
    end
    srow, rows = card_row + 1, 0
  end
  if not srow then
    return
  end
  local pieces = vim.split(text, "\n", { plain = true })
  local ended = pieces[#pieces] == ""
  if ended then
    pieces[#pieces] = nil
  end
  if block and block.open and #pieces > 0 then -- (inside the span: no need to grow it first)
    -- the first piece finishes the line the last event began
    local row = srow + rows - 1
    local so_far = b:get_line(row):sub(#M.PREFIX + 1)
    b:set_lines(row, row + 1, { M.PREFIX .. settle(so_far .. table.remove(pieces, 1)) })
  end
  if not block then
    block = { mark = set_span(b, nil, srow, 0, true), kept = 0, cut = 0, open = false }
    answer.outputs[call_id] = block
  else
    set_span(b, block, srow, rows, true)
  end
  local max = math.max(1, config.options.output_lines or 2000)
  local skipped = 0 -- lines of this text that would be cut at once: never written
  if #pieces > max then
    skipped = #pieces - max
    pieces = vim.list_slice(pieces, skipped + 1)
  end
  if #pieces > 0 then
    local lines = {}
    for i, piece in ipairs(pieces) do
      lines[i] = M.PREFIX .. settle(piece)
    end
    b:set_lines(srow + rows, srow + rows, lines)
    block.kept = block.kept + #lines
  end
  block.open = not ended
  local drop = math.max(0, block.kept - max)
  if drop > 0 or skipped > 0 then
    -- the old "cut" line (if any) and the dropped lines become one new "cut" line
    local first = block.cut > 0 and 1 or 0
    block.cut = block.cut + skipped + drop
    block.kept = block.kept - drop
    b:set_lines(srow, srow + first + drop, { cut_line(block.cut) })
  end
  set_span(b, block, srow, block.kept + (block.cut > 0 and 1 or 0))
end

---The call's output is complete (its result came): the next text for it starts a new line.
---@param answer ryan.Answer
---@param call_id string?
function M.finish(answer, call_id)
  local block = call_id and answer.outputs[call_id]
  if block then
    block.open = false
  end
end

--- Folding ----------------------------------------------------------------------------------------

---'foldexpr' of chat windows: 1 on a line of a tool's output, else 0. The prefix check keeps it
---cheap; the extmark check keeps an answer line that happens to start the same way unfolded.
---@return integer
function M.foldexpr()
  local row = vim.v.lnum - 1
  local buf = api.nvim_get_current_buf()
  local line = api.nvim_buf_get_lines(buf, row, row + 1, false)[1]
  if not line or line:sub(1, #M.PREFIX) ~= M.PREFIX then
    return 0
  end
  local marks = api.nvim_buf_get_extmarks(buf, buffer.ns, { row, 0 }, { row, 0 }, { overlap = true, details = true })
  for _, m in ipairs(marks) do
    local d = m[4]
    if d.hl_group == M.HL and m[2] <= row and row < (d.end_row or -1) then
      return 1
    end
  end
  return 0
end

---'foldtext' of chat windows: how many lines, and the latest one.
---@return string
function M.foldtext()
  local first, last = vim.v.foldstart, vim.v.foldend
  local n = last - first + 1
  local latest = vim.fn.getline(last):sub(#M.PREFIX + 1)
  latest = vim.trim(latest)
  if vim.fn.strchars(latest) > 80 then
    latest = vim.fn.strcharpart(latest, 0, 80) .. "…"
  end
  return ("  ▸ output, %d line%s%s"):format(n, n == 1 and "" or "s", latest ~= "" and (": " .. latest) or "")
end

---Fold tools' output in `win` (a window showing a chat buffer): closed until the user opens it.
---Set for the chat buffer in that window only.
---@param win integer
function M.setup_window(win)
  local wo = vim.wo[win][0]
  wo.foldmethod = "expr"
  wo.foldexpr = "v:lua.require'ryan.chat.output'.foldexpr()"
  wo.foldtext = "v:lua.require'ryan.chat.output'.foldtext()"
  wo.foldlevel = 0
  wo.foldminlines = 0
  wo.foldenable = true
end

return M
