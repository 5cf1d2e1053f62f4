---@brief The pending line: while the model has sent nothing, the end of the chat buffer says what is
--- going on, as virtual text updated in place: the server's work-done status ("waiting for the
--- model… 3 s", "waiting for approval: write_file", "running run_command…") and the latest retry
--- ("retrying (2) in 2 s: <reason>"). Anything the answer streams replaces it, as does its end.
--- Retries are shown here rather than one notification each.

local M = {}

---@param s any
---@param max integer
---@return string
local function one_line(s, max)
  s = vim.trim(tostring(s or ""):gsub("%s*\r?\n%s*", " "))
  if vim.fn.strchars(s) > max then
    s = vim.fn.strcharpart(s, 0, max) .. "…"
  end
  return s
end

---"2 s", "0.5 s": a delay in milliseconds as a person reads it.
---@param ms any
---@return string
local function seconds(ms)
  if type(ms) ~= "number" then
    return "a moment"
  end
  return ("%g s"):format(math.floor(ms / 100 + 0.5) / 10)
end

---The text of the pending line, "" for none.
---@param answer ryan.Answer
---@return string
function M.text(answer)
  local parts = {}
  if answer.pending_retry then
    parts[#parts + 1] = answer.pending_retry
  end
  if answer.pending_status then
    parts[#parts + 1] = answer.pending_status
  end
  return table.concat(parts, " · ")
end

---Draw the pending line at the end of the buffer (moved there, or removed when there is nothing).
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
local function draw(b, answer)
  local text = M.text(answer)
  if text == "" then
    if answer.pending_mark then
      b:del_mark(answer.pending_mark)
      answer.pending_mark = nil
    end
    return
  end
  local row = b:end_pos()
  answer.pending_mark = b:set_mark(row, 0, {
    id = answer.pending_mark,
    virt_text = { { "⋯ " .. text, "RyanPending" } },
    virt_text_pos = "eol",
  })
end

---A work-done `report` (or `end`) of the run's token.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param value table `{kind = "begin"|"report"|"end", message?}`
function M.work_done(b, answer, value)
  local message = type(value.message) == "string" and one_line(value.message, 120) or nil
  if value.kind == "end" then
    answer.pending_status = nil
  elseif value.kind == "report" and message then
    if message:find("^generating") then
      answer.pending_status = nil -- the answer is coming: it will say so itself
    elseif answer.pending_retry and message:find("^retrying") then
      return -- the `retry` event said it, with its reason
    else
      answer.pending_status = message
    end
  else
    return
  end
  draw(b, answer)
end

---A `retry` event: `{attempt, delayMs, reason}`.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param ev table
function M.retry(b, answer, ev)
  local reason = one_line(ev.reason, 100)
  answer.pending_retry = ("retrying (%s) in %s%s"):format(
    tostring(ev.attempt or "?"),
    seconds(ev.delayMs),
    reason ~= "" and (": " .. reason) or ""
  )
  answer.pending_status = nil
  draw(b, answer)
end

---Something arrived (or the answer ended): no pending line.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
function M.clear(b, answer)
  answer.pending_retry = nil
  answer.pending_status = nil
  draw(b, answer)
end

return M
