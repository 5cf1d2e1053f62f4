---@brief The words a chat shows, made from protocol values: a context item's label, a tool's name and
--- arguments on one line, what a tool result says, an error a person can act on, the context used.
--- Pure string functions: no buffer, no server.

local protocol = require("ryan.protocol")

local M = {}

---"path/to/file.py:3-7" for a context item (`{uri?, range?, text}`), or "selection".
---@param item table
---@return string
function M.context_label(item)
  local label = "selection"
  if item.uri then
    local ok, fname = pcall(vim.uri_to_fname, item.uri)
    if ok then
      label = vim.fn.fnamemodify(fname, ":~:.")
    else
      label = item.uri
    end
  end
  if item.range then
    local s = item.range.start.line + 1
    local e = item.range["end"].line
    if item.range["end"].character > 0 or e < s then
      e = e + 1
    end
    label = label .. (":%d-%d"):format(s, e)
  end
  return label
end

---`s` on one line, cut to `max` bytes.
---@param s any
---@param max integer
---@return string
local function one_line(s, max)
  s = tostring(s or ""):gsub("%s*\r?\n%s*", " ")
  if #s > max then
    s = s:sub(1, max) .. "…"
  end
  return s
end

---A tool's arguments on one line, the path first; long strings shown by their size.
---@param args any an object, or the raw string the model sent
---@return string
function M.summarize_args(args)
  if type(args) == "string" then
    local ok, decoded = pcall(vim.json.decode, args)
    if ok and type(decoded) == "table" then
      args = decoded
    else
      return one_line(args, 80)
    end
  end
  if type(args) ~= "table" then
    return ""
  end
  local keys = vim.tbl_keys(args)
  table.sort(keys, function(a, b)
    -- the path first: it is what a person looks for
    if (a == "path") ~= (b == "path") then
      return a == "path"
    end
    return tostring(a) < tostring(b)
  end)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = args[k]
    if type(v) == "string" and (#v > 60 or v:find("\n")) then
      v = ("(%d bytes)"):format(#v)
    elseif type(v) == "table" then
      v = vim.json.encode(v)
    end
    parts[#parts + 1] = ("%s=%s"):format(k, one_line(v, 60))
  end
  return table.concat(parts, ", ")
end

---A message a person can act on, from a JSON-RPC error.
---@param err table
---@return string
function M.error_message(err)
  local msg = tostring(err.message or err)
  local data = type(err.data) == "table" and err.data or {}
  if err.code == protocol.error.model_not_found and type(data.available) == "table" then
    local names = {}
    for _, m in ipairs(data.available) do
      names[#names + 1] = type(m) == "table" and (m.name or vim.inspect(m)) or tostring(m)
    end
    if #names > 0 and not msg:find(names[1], 1, true) then
      msg = msg .. " Available: " .. table.concat(names, ", ") .. " (:RyanModels to pick one)"
    elseif #names == 0 then
      msg = msg .. " The backend has no models."
    end
  elseif err.code == protocol.error.session_busy then
    msg = msg .. " (:RyanStop stops it)"
  elseif err.code == protocol.error.session_not_found then
    msg = msg .. " (:RyanNew starts a new session)"
  end
  return msg
end

---`context 41%`: how much of the model's context window the last request and its answer took, from
---a `ryan/chat` result's usage; "" when the server does not know the window.
---@param usage table? `{contextWindow?, contextUsed?, ...}`
---@return string
function M.context_percent(usage)
  if type(usage) ~= "table" then
    return ""
  end
  local window, used = usage.contextWindow, usage.contextUsed
  if type(window) ~= "number" or type(used) ~= "number" or window <= 0 then
    return ""
  end
  return ("context %d%%"):format(math.floor(100 * used / window + 0.5))
end

---How a tool is named in the chat: `server › tool` for an MCP server's tool (from the event's
---`server` and `tool`, or, for a stored call that lacks them, read from its `mcp__server__tool` name),
---else its name.
---@param ev table a `toolCall` or `toolResult` event, or a stored tool call
---@return string
function M.tool_label(ev)
  if type(ev.server) == "string" and type(ev.tool) == "string" then
    return ev.server .. " › " .. ev.tool
  end
  local name = tostring(ev.name or "?")
  local server, tool = name:match("^mcp__(.-)__(.+)$")
  if server and server ~= "" then
    return server .. " › " .. tool
  end
  return name
end

---What a result line says: for a command, how it ended (`exit code 1`, `stopped: still running
---after 120 s (the time limit)`, from the last line of its output; its output is in the fold above);
---else the start of the output.
---@param ev table a `toolResult` event (or a stored tool message as one)
---@return string
function M.result_summary(ev)
  local output = tostring(ev.output or "")
  if ev.name == "run_command" or ev.tool == nil and ev.name == nil then
    local last = output:gsub("%s+$", ""):match("([^\n]*)$") or ""
    local ended = last:match("^%[(exit code %-?%d+)%]$") or last:match("^%[(stopped: .*)%]$")
    if ended then
      return ended
    end
  end
  return one_line(output, 200)
end

return M
