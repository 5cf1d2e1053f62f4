---@brief Versions of a message (docs/protocol.md "Regenerate and branches"): the `‹ i/n ›` mark of a
--- message with other versions, and the "(a new version of the answer above)" line under a
--- regenerated answer's header with its version shown after it once known.

local M = {}

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

return M
