---@brief What the ryan-server sends the editor unasked, as the client's handlers: `$/progress` on a
--- chat's token routed to that chat (tokens made here), a work-done token also shown to whoever
--- watches it, every other progress left to Neovim's handler (so `vim.lsp.status()` and fidget see
--- the server's status); `window/showMessage` as one vim.notify a message, so a message of several
--- lines is one notification.

local protocol = require("ryan.protocol")

local M = {}

---@type table<string|integer, fun(value: table, ctx: table)>
local routes = {}
---@type table<string|integer, fun(value: table, ctx: table)>
local watchers = {}
local token_seq = 0

---A fresh token, unique within this Neovim.
---@param prefix string
---@return string
function M.new_token(prefix)
  token_seq = token_seq + 1
  return ("ryan-%s-%d-%d"):format(prefix, vim.fn.getpid(), token_seq)
end

---Send `$/progress` values for `token` to `fn` instead of Neovim's progress handler.
---@param token string|integer
---@param fn fun(value: table, ctx: table)
function M.route(token, fn)
  routes[token] = fn
end

---@param token string|integer
function M.unroute(token)
  routes[token] = nil
end

---Also show work-done `$/progress` values for `token` to `fn`; Neovim's handler still gets them.
---@param token string|integer
---@param fn fun(value: table, ctx: table)
function M.watch(token, fn)
  watchers[token] = fn
end

---@param token string|integer
function M.unwatch(token)
  watchers[token] = nil
end

local CHAT_TOKEN = "^ryan%-chat%-"

---The `$/progress` handler of a ryan client.
function M.progress(err, params, ctx, cfg)
  local token = params and params.token
  local route = token ~= nil and routes[token]
  if route then
    local ok, e = pcall(route, params.value, ctx)
    if not ok then
      vim.notify("Ryan: could not show a chat event: " .. tostring(e), vim.log.levels.ERROR)
    end
    return
  end
  if type(token) == "string" and token:find(CHAT_TOKEN) then
    return -- a stopped chat's events still in flight: not work-done progress, drop them
  end
  local watcher = token ~= nil and watchers[token]
  if watcher and type(params.value) == "table" then
    local ok, e = pcall(watcher, params.value, ctx)
    if not ok then
      vim.notify("Ryan: could not show a status: " .. tostring(e), vim.log.levels.ERROR)
    end
  end
  -- Work-done progress (and anything else): Neovim's handler, looked up now so overrides apply.
  local default = vim.lsp.handlers[protocol.method.progress]
  if default then
    return default(err, params, ctx, cfg)
  end
end

local MESSAGE_LEVELS = {
  [1] = vim.log.levels.ERROR,
  [2] = vim.log.levels.WARN,
  [3] = vim.log.levels.INFO,
  [4] = vim.log.levels.DEBUG,
}

---`window/showMessage`: one vim.notify per message (Neovim's own handler echoes warnings and infos,
---and a message of several lines, such as an MCP server's failure with its stderr, then waits for
---Enter).
---@param params lsp.ShowMessageParams
function M.show_message(_, params)
  if type(params) ~= "table" or type(params.message) ~= "string" then
    return
  end
  local msg = params.message
  if not msg:find("^Ryan") then
    msg = "Ryan: " .. msg
  end
  vim.notify(msg, MESSAGE_LEVELS[params.type] or vim.log.levels.INFO)
end

return M
