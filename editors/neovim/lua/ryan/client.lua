---@brief The LSP client that talks to ryan-server: one per workspace root, started with
--- `vim.lsp.start`. Routes chat partial results (`$/progress` on our tokens) to their chat and
--- leaves every other progress to Neovim's handler, so `vim.lsp.status()` and fidget see the
--- server's work-done status (a chat watches its own work-done token too). Approvals
--- (`window/showMessageRequest`) go through approval.lua; `window/showMessage` through vim.notify,
--- once per message, so a message of several lines is one notification.

local config = require("ryan.config")
local protocol = require("ryan.protocol")

local M = {}

M.name = "ryan"

local has_011 = vim.fn.has("nvim-0.11") == 1

---@type table<string|integer, fun(value: table, ctx: table)>
local routes = {}
---@type table<string|integer, fun(value: table, ctx: table)>
local watchers = {}
---@type table<integer, fun(client: vim.lsp.Client?, err: string?)[]>
local waiting = {}
---@type table<integer, table> client id -> capabilities.experimental.ryan
local ryan_caps = {}
---@type fun(client_id: integer, message: string)[]
local exit_listeners = {}
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

---Called with (client_id, message) when a ryan-server exits.
---@param fn fun(client_id: integer, message: string)
function M.on_exit(fn)
  table.insert(exit_listeners, fn)
end

local CHAT_TOKEN = "^ryan%-chat%-"

local function progress_handler(err, params, ctx, cfg)
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
local function show_message(_, params)
  if type(params) ~= "table" or type(params.message) ~= "string" then
    return
  end
  local msg = params.message
  if not msg:find("^Ryan") then
    msg = "Ryan: " .. msg
  end
  vim.notify(msg, MESSAGE_LEVELS[params.type] or vim.log.levels.INFO)
end

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

---The workspace root for a buffer: the nearest root marker above its file, else above the current
---directory, else the current directory (the rule of the terminal `ryan` too: the same sessions).
---@param bufnr integer?
---@return string
function M.root_for(bufnr)
  bufnr = bufnr or 0
  if bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  local markers = config.options.root_markers
  if vim.api.nvim_buf_is_valid(bufnr) and vim.bo[bufnr].buftype == "" and vim.api.nvim_buf_get_name(bufnr) ~= "" then
    local root = vim.fs.root(bufnr, markers)
    if root then
      return root
    end
  end
  local cwd = vim.fn.getcwd()
  return vim.fs.root(cwd, markers) or cwd
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

---Is `bufnr` a file buffer inside `root`?
local function in_root(bufnr, root)
  if not vim.api.nvim_buf_is_loaded(bufnr) or vim.bo[bufnr].buftype ~= "" then
    return false
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" or name:match("^%a[%w+.-]*://") then
    return false
  end
  name = vim.fs.normalize(vim.fn.fnamemodify(name, ":p"))
  local r = vim.fs.normalize(root)
  return name:sub(1, #r + 1) == r .. "/"
end

---Attach file buffers of the workspace to its ryan client, so the server's tools read the
---editor's unsaved text (didOpen/didChange) rather than what is on disk.
---@param client vim.lsp.Client
---@param bufnr integer? one buffer, or every loaded buffer
function M.attach(client, bufnr)
  if not config.options.attach then
    return
  end
  local bufs = bufnr and { bufnr } or vim.api.nvim_list_bufs()
  for _, b in ipairs(bufs) do
    if in_root(b, client.root_dir) and not vim.lsp.buf_is_attached(b, client.id) then
      pcall(vim.lsp.buf_attach_client, b, client.id)
    end
  end
end

local augroup
local function watch_buffers()
  if augroup then
    return
  end
  augroup = vim.api.nvim_create_augroup("ryan_attach", { clear = true })
  vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
    group = augroup,
    callback = function(ev)
      for _, c in ipairs(vim.lsp.get_clients({ name = M.name })) do
        if c.initialized then
          M.attach(c, ev.buf)
        end
      end
    end,
  })
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
      [protocol.method.progress] = progress_handler,
      [protocol.method.show_message_request] = require("ryan.approval").handler,
      [protocol.method.show_message] = show_message,
    },
    on_init = function(client, result)
      ryan_caps[client.id] = vim.tbl_get(result or {}, "capabilities", "experimental", "ryan") or {}
      M.attach(client)
      watch_buffers()
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
