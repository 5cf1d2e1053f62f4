---@brief The files a chat changed, drawn after its answer when the `ryan/chat` result carries a
--- checkpoint: one line a file with its change and line counts, under the commands that review and
--- undo them.

local M = {}

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

return M
