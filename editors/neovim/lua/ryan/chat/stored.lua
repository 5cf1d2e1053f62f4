---@brief A stored session (the result of `ryan/session`, its active branch) drawn whole in place of
--- what the chat buffer holds, with the `‹ i/n ›` mark on each message that has other versions.

local render = require("ryan.chat.render")
local state = require("ryan.chat.state")
local versions = require("ryan.chat.versions")

local M = {}

---A message that has other versions, as drawn: `:RyanBranch` switches among them.
---@class ryan.BranchPoint
---@field mark integer extmark id on the message's header
---@field id any the message's id
---@field siblings any[] the ids of its versions, oldest first

---Draw a stored session (the result of `ryan/session`: its active branch) in place of what the
---buffer holds. A message with other versions shows `‹ 2/3 ›` in its header.
---@param b ryan.chat.Buffer
---@param session table
---@return ryan.BranchPoint[] branch_points the messages with other versions, top to bottom
function M.session(b, session)
  b:clear()
  if session.title and session.title ~= "" then
    b:line("# " .. session.title)
  end
  local points = {} ---@type ryan.BranchPoint[]
  local function point(msg, mark)
    if versions.version(msg) then
      points[#points + 1] = { mark = mark, id = msg.id, siblings = msg.siblings }
    end
  end
  local answer = nil ---@type ryan.Answer?
  for _, msg in ipairs(session.messages or {}) do
    local role = msg.role
    if role == "user" then
      local row = render.prompt(b, msg.content or "", nil, versions.version(msg))
      point(msg, b:set_mark(row, 0, {}))
      answer = nil
    elseif role == "assistant" then
      if not answer then
        answer = state.new_answer()
        answer.header_mark = render.answer_header(b, versions.version(msg))
        point(msg, answer.header_mark)
      end
      if type(msg.thinking) == "string" and msg.thinking ~= "" then
        render.thinking(b, answer, msg.thinking)
      end
      if type(msg.content) == "string" and msg.content ~= "" then
        render.content(b, answer, msg.content)
      end
      for _, call in ipairs(type(msg.toolCalls) == "table" and msg.toolCalls or {}) do
        render.tool_call(b, answer, call)
      end
      b:ensure_newline()
      if msg.status == "interrupted" then
        b:line("_(stopped)_", "RyanMeta")
      elseif msg.status == "error" then
        b:line("_(failed)_", "RyanError")
      end
    elseif role == "tool" then
      answer = answer or state.new_answer()
      local status = msg.status
      if status ~= "error" and status ~= "denied" then
        status = "ok" -- a tool message that completed
      end
      render.tool_result(b, answer, { callId = msg.toolCallId, status = status, output = msg.content, name = msg.toolName })
    end
  end
  return points
end

return M
