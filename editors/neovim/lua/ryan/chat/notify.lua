---@brief The statuses of a chat that go to vim.notify instead of the buffer: a fallback to asking
--- without streaming, a resumed stream, a notice from the server.

local config = require("ryan.config")
local protocol = require("ryan.protocol")

local M = {}

---@param kind string
---@param msg string
local function notify_event(kind, msg)
  if config.options.notify_events then
    vim.notify(("Ryan: %s: %s"):format(kind, msg), vim.log.levels.INFO)
  end
end

---Show a `fallback`, `resumed` or `notice` event: through vim.notify, not in the buffer (fallbacks
---and resumptions only with `notify_events`). Retries go to the pending line (pending.lua).
---@param ev table
function M.status(ev)
  local kind = ev.kind
  local E = protocol.event
  if kind == E.fallback then
    notify_event("streaming failed, asking without streaming", tostring(ev.reason or ""))
  elseif kind == E.resumed then
    notify_event("the connection broke, the model continues", ("attempt %s"):format(tostring(ev.attempt)))
  elseif kind == E.notice then
    vim.notify("Ryan: " .. tostring(ev.message or ev.text or ev.reason or ""), vim.log.levels.WARN)
  end
end

return M
