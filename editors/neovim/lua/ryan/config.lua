---@brief Ryan's options: the defaults, deep-merged with what the user passes to `setup()`.

local M = {}

---@class ryan.WindowOptions
---@field position "right"|"left"|"top"|"bottom"|"current" where the chat split opens
---@field size number columns (right/left) or lines (top/bottom); below 1 = a fraction of the editor
---@field focus boolean move the cursor into the chat window when it opens

---@class ryan.Options
---@field cmd string[] the server command
---@field settings table sent to the server as initializationOptions and workspace/didChangeConfiguration
---@field root_markers string[] files that mark a workspace root (one server per root)
---@field model string? model for the next chats (nil = the server's setting); :RyanModels sets it
---@field window ryan.WindowOptions
---@field keymaps { stop: string[], close: string[] } keys in the chat buffer
---@field thinking "dim"|"hide" how reasoning is shown
---@field follow boolean keep the chat window at the end while it streams (unless scrolled up)
---@field output_lines integer lines of a tool's live output kept in the chat, per call (the last ones)
---@field notify_events boolean show fallback/resumed events through vim.notify (notices always are)
---@field request_timeout_ms integer how long :checkhealth waits for the server
---@field attach boolean attach the workspace's file buffers so the server sees unsaved text

---@type ryan.Options
M.defaults = {
  cmd = { "ryan-server" },
  settings = {},
  root_markers = { ".git" },
  model = nil,
  window = {
    position = "right",
    size = 0.4,
    focus = true,
  },
  keymaps = {
    stop = { "<C-c>", "q" },
    close = {},
  },
  thinking = "dim",
  follow = true,
  output_lines = 2000,
  notify_events = true,
  request_timeout_ms = 10000,
  attach = true,
}

-- Lists are replaced, not merged index by index (tbl_deep_extend would keep stale tail items).
local LIST_KEYS = { { "cmd" }, { "root_markers" }, { "keymaps", "stop" }, { "keymaps", "close" } }

---@type ryan.Options
M.options = vim.deepcopy(M.defaults)

---Deep-merge `opts` over the defaults and make the result current.
---@param opts table?
---@return ryan.Options
function M.setup(opts)
  opts = opts or {}
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  for _, path in ipairs(LIST_KEYS) do
    local v = vim.tbl_get(opts, unpack(path))
    if v ~= nil then
      local t = merged
      for i = 1, #path - 1 do
        t = t[path[i]]
      end
      t[path[#path]] = vim.deepcopy(v)
    end
  end
  if opts.settings ~= nil then
    -- settings belong to the server: take them as given
    merged.settings = vim.deepcopy(opts.settings)
  end
  M.options = merged
  return merged
end

return M
