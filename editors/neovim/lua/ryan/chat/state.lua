---@brief What the chats remember: every chat by its buffer, the current one, and the state of a
--- request while it streams (ryan.Run) with its answer (ryan.Answer). No drawing here (render.lua)
--- and no buffer writes (buffer.lua); request.lua changes this state as requests start, stream and
--- end.

local api = vim.api

local M = {}

---An answer as drawn in the buffer: where it is and how much of it was shown, what render.lua keeps
---between the events of one answer (a streaming one, or a stored one being drawn).
---@class ryan.Answer
---@field model string? the model the server named in `start`
---@field content_len integer bytes of answer shown
---@field thinking_len integer bytes of thinking shown
---@field section "thinking"|"content"|"tool"|nil what the end of the buffer holds
---@field thinking_mark integer? extmark id of this section's thinking
---@field thinking_start integer[]? {row, col}
---@field tools table<string, integer> callId -> extmark id of its line
---@field outputs table<string, ryan.chat.OutputBlock> callId -> its live output (output.lua)
---@field header_mark integer? extmark on the "## Ryan" line
---@field pending_mark integer? extmark of the pending line (pending.lua)
---@field pending_status string? the server's latest work-done report, while nothing streams
---@field pending_retry string? the latest retry, while nothing streams

---One `ryan/chat` request while it streams, with its answer.
---@class ryan.Run: ryan.Answer
---@field token string partialResultToken
---@field work_token string? workDoneToken
---@field client vim.lsp.Client?
---@field request_id integer?
---@field stopped boolean
---@field regenerated_mark integer? a `:RyanRetry` answer: the extmark of its "new version" line

---A stored answer to draw.
---@return ryan.Answer
function M.new_answer()
  return { content_len = 0, thinking_len = 0, tools = {}, outputs = {} }
end

---A request about to be sent.
---@param token string its partialResultToken
---@return ryan.Run
function M.new_run(token)
  return {
    token = token,
    stopped = false,
    content_len = 0,
    thinking_len = 0,
    tools = {},
    outputs = {},
  }
end

---Every chat whose buffer exists, by buffer number.
---@type table<integer, ryan.Chat>
M.by_buf = {}

---The chat that `:Ryan` and friends write to.
---@type ryan.Chat?
M.current = nil

---The buffer name of a session's chat.
---@param session_id string?
---@return string
function M.buf_name(session_id)
  return "ryan://chat/" .. (session_id or "new")
end

---@param chat ryan.Chat
function M.add(chat)
  M.by_buf[chat.buf] = chat
end

---Forget the chat of a buffer that is being wiped out.
---@param chat ryan.Chat
function M.remove(chat)
  M.by_buf[chat.buf] = nil
  if M.current == chat then
    M.current = nil
  end
end

---The chat whose buffer is named for `session_id`, if it is loaded.
---@param session_id string
---@return ryan.Chat?
function M.find_session(session_id)
  for _, chat in pairs(M.by_buf) do
    if chat.session_id == session_id and api.nvim_buf_is_valid(chat.buf) then
      return chat
    end
  end
end

---The current chat if its buffer still exists.
---@return ryan.Chat?
function M.valid_current()
  local chat = M.current
  if chat and api.nvim_buf_is_valid(chat.buf) then
    return chat
  end
end

return M
