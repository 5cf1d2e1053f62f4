---@brief The LSP client that talks to ryan-server: one per workspace root, started with
--- `vim.lsp.start`, found again for its root, and the requests and notifications sent through it.
--- This is the public API (`require("ryan.client")`); the parts live beside it and are re-exported:
---   handlers.lua  what the server sends unasked: `$/progress` routed by token, `window/showMessage`
---   settings.lua  the settings as they go on the wire
---   workspace.lua a buffer's workspace root, attaching file buffers to the client
--- Approvals (`window/showMessageRequest`) go through approval.lua.

local config = require("ryan.config")
local handlers = require("ryan.client.handlers")
local protocol = require("ryan.protocol")
local wire = require("ryan.client.settings")
local workspace = require("ryan.client.workspace")

local M = {}

M.name = "ryan"

local has_011 = vim.fn.has("nvim-0.11") == 1

---@type table<integer, fun(client: vim.lsp.Client?, err: string?)[]>
local waiting = {}
---@type table<integer, table> client id -> capabilities.experimental.ryan
local ryan_caps = {}
---@type fun(client_id: integer, message: string)[]
local exit_listeners = {}

-- The parts' functions, under the names callers use.
M.new_token = handlers.new_token
M.route = handlers.route
M.unroute = handlers.unroute
M.watch = handlers.watch
M.unwatch = handlers.unwatch
M.is_list_setting = wire.is_list_setting
M.wire_settings = wire.wire_settings
M.root_for = workspace.root_for
M.attach = workspace.attach

---Called with (client_id, message) when a ryan-server exits.
---@param fn fun(client_id: integer, message: string)
function M.on_exit(fn)
  table.insert(exit_listeners, fn)
end

---The running ryan client for `root`, if any.
---@param root string
---@return vim.lsp.Client?
function M.find(root)
  for _, c in ipairs(vim.lsp.get_clients({ name = M.name })) do
    local stopped = has_011 and c:is_stopped() or (not has_011 and c.is_stopped())
    if not stopped and c.root_dir == root then
      return c
    end
  end
end

---The `capabilities.experimental.ryan` the server advertised, once initialized.
---@param client vim.lsp.Client
---@return table?
function M.capabilities(client)
  return ryan_caps[client.id]
end

local function flush(client_id, client, err)
  local cbs = waiting[client_id]
  waiting[client_id] = nil
  for _, cb in ipairs(cbs or {}) do
    cb(client, err)
  end
end

---Start the server for `root`.
---@param root string
---@return integer? client_id
---@return string? err
local function start(root)
  local opts = config.options
  local cmd = opts.cmd
  if type(cmd) == "table" then
    if not cmd[1] or vim.fn.executable(cmd[1]) ~= 1 then
      return nil,
        ("server command '%s' not found. Install it from a clone of Ryan (pipx install /path/to/ryan) or set `cmd` in require('ryan').setup()."):format(
          tostring(cmd[1])
        )
    end
  end
  local settings = M.wire_settings()
  local lsp_config = {
    name = M.name,
    cmd = cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    init_options = settings,
    settings = { ryan = settings },
    handlers = {
      [protocol.method.progress] = handlers.progress,
      [protocol.method.show_message_request] = require("ryan.approval").handler,
      [protocol.method.show_message] = handlers.show_message,
    },
    on_init = function(client, result)
      ryan_caps[client.id] = vim.tbl_get(result or {}, "capabilities", "experimental", "ryan") or {}
      workspace.attach(client)
      workspace.watch_buffers(M.name)
      flush(client.id, client, nil)
    end,
    on_exit = function(code, signal, client_id)
      ryan_caps[client_id] = nil
      local msg = ("ryan-server exited (code %s%s). Run :checkhealth ryan."):format(
        tostring(code),
        (signal and signal ~= 0) and (", signal " .. signal) or ""
      )
      vim.schedule(function()
        flush(client_id, nil, msg)
        for _, fn in ipairs(exit_listeners) do
          pcall(fn, client_id, msg)
        end
      end)
    end,
  }
  local ok, id_or_err
  if has_011 then
    ok, id_or_err = pcall(vim.lsp.start, lsp_config, {
      attach = false,
      silent = true,
      -- find() already looked for a running client of this root; never pick a stopping one
      reuse_client = function()
        return false
      end,
    })
  else
    ok, id_or_err = pcall(vim.lsp.start_client, lsp_config)
  end
  if not ok or not id_or_err then
    return nil, ("could not start %s: %s"):format(
      vim.inspect(cmd),
      ok and "the process did not start" or tostring(id_or_err)
    )
  end
  return id_or_err, nil
end

---Call `cb(client)` once the server for `root` is initialized, starting it if needed;
---`cb(nil, err)` if it cannot start. `cb` always runs later, never inside this call.
---@param root string
---@param cb fun(client: vim.lsp.Client?, err: string?)
function M.with_client(root, cb)
  local client = M.find(root)
  if client and client.initialized then
    vim.schedule(function()
      cb(client, nil)
    end)
    return
  end
  local id, err
  if client then
    id = client.id
  else
    id, err = start(root)
  end
  if not id then
    vim.schedule(function()
      cb(nil, err)
    end)
    return
  end
  waiting[id] = waiting[id] or {}
  table.insert(waiting[id], cb)
  -- reused clients initialized between find() and now
  local c = vim.lsp.get_client_by_id(id)
  if c and c.initialized and ryan_caps[id] then
    vim.schedule(function()
      flush(id, c, nil)
    end)
  end
end

---Send a request; returns ok and the request id.
---@param client vim.lsp.Client
---@param method string
---@param params table
---@param handler fun(err: table?, result: any)
---@return boolean ok
---@return integer? request_id
function M.request(client, method, params, handler)
  local wrapped = function(err, result)
    handler(err, result)
  end
  if has_011 then
    return client:request(method, params, wrapped)
  end
  return client.request(method, params, wrapped)
end

---Cancel a running request (`$/cancelRequest`).
---@param client vim.lsp.Client
---@param request_id integer
function M.cancel(client, request_id)
  if has_011 then
    client:cancel_request(request_id)
  else
    client.cancel_request(request_id)
  end
end

---@param client vim.lsp.Client
---@param method string
---@param params table
function M.notify(client, method, params)
  if has_011 then
    client:notify(method, params)
  else
    client.notify(method, params)
  end
end

---Send the current settings to every running ryan client.
function M.push_settings()
  local settings = M.wire_settings()
  for _, c in ipairs(vim.lsp.get_clients({ name = M.name })) do
    c.settings = { ryan = settings }
    if c.initialized then
      M.notify(c, protocol.method.did_change_configuration, { settings = { ryan = settings } })
    end
  end
end

---Call `cb(result, err_message)` with the result of a one-off request to the server for `root`.
---@param root string
---@param method string
---@param params table?
---@param cb fun(result: any, err: string?, code: integer?, data: any)
function M.call(root, method, params, cb)
  M.with_client(root, function(client, err)
    if not client then
      cb(nil, err)
      return
    end
    local ok = M.request(client, method, params or vim.empty_dict(), function(rerr, result)
      if rerr then
        cb(nil, rerr.message or tostring(rerr), rerr.code, rerr.data)
      else
        cb(result, nil)
      end
    end)
    if not ok then
      cb(nil, "the server is not running")
    end
  end)
end

return M
