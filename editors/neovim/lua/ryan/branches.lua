---@brief Versions of messages (docs/protocol.md "Regenerate and branches"). :RyanBranch next|prev
--- shows another version of a message: the one whose header (`## You ‹ 1/2 ›`, `## Ryan ‹ 2/3 ›`)
--- is at or above the cursor in the chat window, else the last one with versions; `ryan/switchBranch`
--- makes the branch through its neighbour active, and the chat is drawn again from the answer. After
--- :RyanRetry, `show_version` puts the new answer's version on its "new version" line.

local protocol = require("ryan.protocol")
local rclient = require("ryan.client")
local versions = require("ryan.chat.versions")

local api = vim.api

local M = {}

---The message with versions that `:RyanBranch` acts on: at or above the cursor when the cursor is in
---the chat's buffer (as drawn from history), else the last one of the session's active branch.
---@param chat ryan.Chat
---@param messages table[] `ryan/session`'s messages
---@return table? message
function M.target(chat, messages)
  local by_id = {}
  local last
  for _, m in ipairs(messages) do
    if versions.version(m) then
      by_id[tostring(m.id)] = m
      last = m
    end
  end
  if api.nvim_get_current_buf() == chat.buf then
    local row = api.nvim_win_get_cursor(0)[1] - 1
    local best, best_row
    for _, p in ipairs(chat.branch_points or {}) do
      local r = chat.buffer:mark_row(p.mark)
      if r and r <= row and (not best_row or r > best_row) and by_id[tostring(p.id)] then
        best, best_row = by_id[tostring(p.id)], r
      end
    end
    if best then
      return best
    end
  end
  return last
end

---The version of `msg` `step` away (1 next, -1 previous), or nil past either end.
---@param msg table
---@param step integer
---@return any id
function M.neighbour(msg, step)
  for i, id in ipairs(msg.siblings) do
    if id == msg.id then
      return msg.siblings[i + step]
    end
  end
end

---After a regenerated answer (:RyanRetry): fetch the session and show the answer's version
---(`‹ 2/2 ›`) on its "new version" line.
---@param chat ryan.Chat
---@param mark integer the extmark of that line
function M.show_version(chat, mark)
  rclient.call(chat.root, protocol.method.session, { sessionId = chat.session_id }, function(result)
    if type(result) ~= "table" or not api.nvim_buf_is_valid(chat.buf) then
      return
    end
    local messages = type(result.messages) == "table" and result.messages or {}
    -- the answer to the last question: the first assistant message after the last user message
    local answer
    for i = #messages, 1, -1 do
      if messages[i].role == "user" then
        answer = messages[i + 1]
        break
      end
    end
    local version = answer and answer.role == "assistant" and versions.version(answer)
    if version then
      versions.regenerated_version(chat.buffer, mark, version)
    end
  end)
end

---Switch the current chat's session to the next (`"next"`) or previous (`"prev"`) version.
---@param direction "next"|"prev"
---@param cb fun(ok: boolean)?
function M.switch(direction, cb)
  local function done(ok)
    if cb then
      cb(ok)
    end
  end
  local chat = require("ryan.checkpoints").current_chat()
  if not chat then
    return done(false)
  end
  if chat.run then
    vim.notify("Ryan is still answering in this chat; :RyanStop first.", vim.log.levels.WARN)
    return done(false)
  end
  local step = direction == "prev" and -1 or 1
  rclient.call(chat.root, protocol.method.session, { sessionId = chat.session_id }, function(session, err)
    if type(session) ~= "table" then
      vim.notify("Ryan: could not read the session: " .. tostring(err), vim.log.levels.ERROR)
      return done(false)
    end
    local msg = M.target(chat, type(session.messages) == "table" and session.messages or {})
    if not msg then
      vim.notify("Ryan: no message of this session has another version (:RyanRetry makes one)", vim.log.levels.INFO)
      return done(false)
    end
    local other = M.neighbour(msg, step)
    if other == nil then
      vim.notify(("Ryan: this is the %s version (%s)"):format(step > 0 and "last" or "first", versions.version(msg)), vim.log.levels.INFO)
      return done(false)
    end
    local params = { sessionId = chat.session_id, messageId = other }
    rclient.call(chat.root, protocol.method.switch_branch, params, function(result, serr)
      if type(result) ~= "table" then
        vim.notify("Ryan: could not switch: " .. tostring(serr), vim.log.levels.ERROR)
        return done(false)
      end
      if api.nvim_buf_is_valid(chat.buf) then
        chat:render_session(result)
        -- keep the cursor on the message that changed
        for _, p in ipairs(chat.branch_points) do
          local row = tostring(p.id) == tostring(other) and chat.buffer:mark_row(p.mark)
          if row then
            for _, win in ipairs(chat:windows()) do
              pcall(api.nvim_win_set_cursor, win, { row + 1, 0 })
            end
            break
          end
        end
      end
      done(true)
    end)
  end)
end

return M
