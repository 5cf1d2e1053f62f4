---@brief The settings as they go on the wire (`initializationOptions` and
--- `workspace/didChangeConfiguration`): the user's `settings` table with empty tables sent as JSON
--- objects, except the settings that are lists.

local config = require("ryan.config")

local M = {}

-- The settings that are lists (docs/protocol.md, ryan_server/settings.py); every other table is an
-- object, passed through as the user wrote it.
local TOOL_LISTS = { autoApprove = true, allowCommands = true }
local MCP_SERVER_LISTS = { args = true, autoApprove = true, alwaysAllow = true }

---Is the setting at `path` (keys from the top) a list?
---@param path string[]
---@return boolean
function M.is_list_setting(path)
  if #path == 2 and path[1] == "tools" then
    return TOOL_LISTS[path[2]] == true
  end
  return #path == 3 and path[1] == "mcpServers" and MCP_SERVER_LISTS[path[3]] == true
end

---Empty Lua tables encode as JSON arrays: send them as objects (`vim.empty_dict()`), except the
---settings that are lists.
---@param value any
---@param path string[]
---@return any
local function to_wire(value, path)
  if type(value) ~= "table" then
    return value
  end
  if next(value) == nil then
    return M.is_list_setting(path) and {} or vim.empty_dict()
  end
  local out = {}
  for k, v in pairs(value) do
    local sub = vim.list_extend({}, path)
    sub[#sub + 1] = tostring(k)
    out[k] = to_wire(v, sub)
  end
  return out
end

---The settings object as it goes on the wire.
---@return table
function M.wire_settings()
  return to_wire(config.options.settings or {}, {})
end

return M
