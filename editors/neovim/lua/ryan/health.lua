---@brief `:checkhealth ryan`: is the server there, does it start, did it take every setting, how
--- are its MCP servers, which backend does it reach, which models does it have — or what failed and
--- what to do about it.

local M = {}

local health = vim.health

---Wait for an async call; returns what `fn` passed to its callback, or nil on timeout.
local function await(timeout, fn)
  local done, out = false, nil
  fn(function(...)
    out = { ... }
    done = true
  end)
  vim.wait(timeout, function()
    return done
  end, 20)
  if not done then
    return nil
  end
  return out
end

---The settings the server rejected (`ryan/status`'s `settingsErrors`), one error each: a rejected
---setting keeps its previous value, which is not what the user asked for.
---@param status table
function M.report_settings(status)
  health.start("ryan: settings")
  local errors = type(status.settingsErrors) == "table" and status.settingsErrors or {}
  if #errors == 0 then
    health.ok("the server took every setting")
    return
  end
  for _, msg in ipairs(errors) do
    health.error(tostring(msg), {
      "Fix it in require('ryan').setup({ settings = { ... } }) (:help ryan-settings); until then the previous value stays",
    })
  end
end

local MCP_ADVICE = {
  failed = "Check the server's command, args and env in settings.mcpServers; it starts again when its entry changes",
  crashed = "It is started again when the model next calls one of its tools",
}

---The MCP servers of `ryan/status`'s `mcp` list: one line each with its state and tools.
---@param status table
function M.report_mcp(status)
  local servers = type(status.mcp) == "table" and status.mcp or {}
  if #servers == 0 then
    return
  end
  health.start("ryan: MCP servers")
  for _, entry in ipairs(servers) do
    local tools = type(entry.tools) == "table" and entry.tools or {}
    local state = tostring(entry.state or "?")
    local line = ("%s: %s"):format(tostring(entry.name or "?"), state)
    if #tools > 0 then
      line = line .. (" (%d tool%s: %s)"):format(#tools, #tools == 1 and "" or "s", table.concat(tools, ", "))
    end
    if type(entry.error) == "string" and entry.error ~= "" then
      line = line .. "\n" .. entry.error
    end
    if state == "ready" then
      health.ok(line)
    elseif state == "failed" then
      health.error(line, MCP_ADVICE.failed)
    elseif state == "crashed" then
      health.warn(line, MCP_ADVICE.crashed)
    else -- starting, stopped, disabled
      health.info(line)
    end
  end
end

function M.check()
  local config = require("ryan.config")
  local rclient = require("ryan.client")
  local protocol = require("ryan.protocol")
  local opts = config.options
  local timeout = opts.request_timeout_ms or 10000

  health.start("ryan: Neovim")
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim 0.10 or newer is required", { "Upgrade Neovim" })
    return
  end

  health.start("ryan: server")
  local cmd = opts.cmd
  if type(cmd) == "table" then
    local exe = cmd[1] and vim.fn.exepath(cmd[1]) or ""
    if exe == "" then
      health.error(("server command '%s' not found"):format(tostring(cmd[1])), {
        "Install it from a clone of Ryan (it is not on PyPI): pipx install /path/to/ryan",
        "Or point setup({ cmd = { '/path/to/ryan/.venv/bin/ryan-server' } }) at it",
      })
      return
    end
    health.ok(("server command: %s"):format(table.concat(vim.list_extend({ exe }, vim.list_slice(cmd, 2)), " ")))
  end

  local root = rclient.root_for(0)
  local started = await(timeout, function(done)
    rclient.with_client(root, done)
  end)
  if not started then
    health.error(("ryan-server did not answer `initialize` within %d ms"):format(timeout), {
      "Run the command in a terminal to see its error output",
      "See :LspLog",
    })
    return
  end
  local client, err = started[1], started[2]
  if not client then
    health.error("ryan-server did not start: " .. tostring(err), {
      "Run the command in a terminal to see its error output",
      "See :LspLog",
    })
    return
  end
  local info = client.server_info or {}
  local caps = rclient.capabilities(client) or {}
  health.ok(
    ("%s %s started for %s (protocol %s)"):format(
      info.name or "server",
      info.version or "",
      root,
      tostring(caps.protocolVersion or "?")
    )
  )
  if caps.protocolVersion and caps.protocolVersion ~= protocol.VERSION then
    health.warn(
      ("the server speaks protocol %s, this plugin %d"):format(tostring(caps.protocolVersion), protocol.VERSION),
      { "Update the plugin and ryan-server together" }
    )
  end
  if type(caps.tools) == "table" then
    health.info("tools: " .. (#caps.tools > 0 and table.concat(caps.tools, ", ") or "none"))
  end

  local st = await(timeout, function(done)
    rclient.call(root, protocol.method.status, nil, done)
  end)
  if not st then
    health.error(("`ryan/status` did not answer within %d ms"):format(timeout))
    return
  end
  local status, serr = st[1], st[2]
  if not status then
    health.error("`ryan/status` failed: " .. tostring(serr), { "See :LspLog" })
    return
  end
  M.report_settings(status)
  M.report_mcp(status)
  health.start("ryan: backend")
  local where = ("%s at %s"):format(tostring(status.provider or "?"), tostring(status.baseUrl or "?"))
  if not status.reachable then
    local advice = {
      "Start the backend (for Ollama: `ollama serve`)",
      "Or set settings.baseUrl / settings.provider in require('ryan').setup()",
    }
    health.error(("backend %s is not reachable: %s"):format(where, tostring(status.error or "unknown error")), advice)
    return
  end
  health.ok(("backend %s is reachable%s"):format(where, status.version and (" (version " .. status.version .. ")") or ""))

  local md = await(timeout, function(done)
    rclient.call(root, protocol.method.models, nil, done)
  end)
  local models = md and md[1]
  if not models then
    health.warn("could not list models: " .. tostring(md and md[2] or "timeout"))
    return
  end
  local names = {}
  for _, m in ipairs(models.models or {}) do
    names[#names + 1] = m.name
  end
  if #names == 0 then
    health.warn("the backend has no models", { "Pull one, e.g. `ollama pull qwen2.5-coder`" })
    return
  end
  health.ok(("models: %s"):format(table.concat(names, ", ")))
  local current = opts.model or models.current or status.model
  if current then
    if vim.tbl_contains(names, current) then
      health.ok("model for chats: " .. current)
    else
      health.warn(("model '%s' is not on the backend"):format(current), { "Pick one with :RyanModels" })
    end
  end
end

return M
