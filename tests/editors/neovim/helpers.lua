-- Test-only helpers loaded into the headless Neovim under test (as the global `H`).
local H = {}

H.notifications = {}
H.select_calls = {}
H.select_answers = {}
H.progress = {}

---Record vim.notify calls instead of showing them.
function H.capture_notify()
  vim.notify = function(msg, level)
    table.insert(H.notifications, { msg = tostring(msg), level = level or vim.log.levels.INFO })
  end
end

---Stub vim.ui.select: each call takes the next queued answer (an item title/name, or false = dismiss).
function H.stub_select()
  vim.ui.select = function(items, opts, on_choice)
    local answer = table.remove(H.select_answers, 1)
    local labels = {}
    for i, item in ipairs(items) do
      labels[i] = opts.format_item and opts.format_item(item) or tostring(item)
    end
    table.insert(H.select_calls, { prompt = opts.prompt, kind = opts.kind, labels = labels, floats = H.floats() })
    local choice = nil
    if answer == "last" then
      choice = items[#items]
    elseif answer then
      for _, item in ipairs(items) do
        local key = type(item) == "table" and (item.title or item.name or item.sessionId) or item
        if key == answer or answer == "first" then
          choice = item
          break
        end
      end
    end
    on_choice(choice)
  end
end

---The floating windows open now: their buffer's filetype and lines.
function H.floats()
  local out = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= "" then
      local buf = vim.api.nvim_win_get_buf(win)
      table.insert(out, {
        filetype = vim.bo[buf].filetype,
        lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
        focused = win == vim.api.nvim_get_current_win(),
      })
    end
  end
  return out
end

---The virtual texts of the current chat's pending line (0 or 1 of them), with their rows.
function H.pending()
  local chat = H.chat()
  local out = {}
  if not chat then
    return out
  end
  local ns = require("ryan.chat").ns
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(chat.buf, ns, 0, -1, { details = true })) do
    local vt = m[4].virt_text
    if vt and vt[1][2] == "RyanPending" then
      table.insert(out, { row = m[2], text = vt[1][1] })
    end
  end
  return out
end

---Ask the current root's server for `ryan/status`; the answer lands in H.last_status.
function H.fetch_status()
  local rclient = require("ryan.client")
  rclient.call(rclient.root_for(0), "ryan/status", nil, function(result)
    H.last_status = result
  end)
end

---Every message in the message history (`:messages`), as one string.
function H.messages()
  return vim.api.nvim_exec2("messages", { output = true }).output
end

function H.queue_select(...)
  for _, a in ipairs({ ... }) do
    table.insert(H.select_answers, a)
  end
end

---Record every LspProgress the default handler saw.
function H.watch_progress()
  vim.api.nvim_create_autocmd("LspProgress", {
    callback = function(ev)
      local value = ev.data and ev.data.params and ev.data.params.value or {}
      table.insert(H.progress, { kind = value.kind, title = value.title, token = ev.data.params.token })
    end,
  })
end

function H.chat()
  return require("ryan.chat").current
end

---The current chat's state.
function H.state()
  local chat = H.chat()
  if not chat or not vim.api.nvim_buf_is_valid(chat.buf) then
    return { exists = false }
  end
  local lines = vim.api.nvim_buf_get_lines(chat.buf, 0, -1, false)
  return {
    exists = true,
    name = vim.api.nvim_buf_get_name(chat.buf),
    text = table.concat(lines, "\n"),
    line_count = #lines,
    running = chat.run ~= nil,
    session_id = chat.session_id,
    filetype = vim.bo[chat.buf].filetype,
    buftype = vim.bo[chat.buf].buftype,
  }
end

function H.line_count()
  local chat = H.chat()
  return chat and vim.api.nvim_buf_line_count(chat.buf) or 0
end

function H.running()
  local chat = H.chat()
  return chat ~= nil and chat.run ~= nil
end

---The text of `path` as the editor sees it (a loaded buffer wins over the disk), or nil.
function H.file_text(path)
  local full = vim.fn.fnamemodify(path, ":p")
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.api.nvim_buf_get_name(b) == full then
      return table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), "\n")
    end
  end
  local f = io.open(full, "r")
  if not f then
    return nil
  end
  local s = f:read("*a")
  f:close()
  return s
end

---Stop every LSP client at once (the test is over).
function H.shutdown()
  for _, c in ipairs(vim.lsp.get_clients()) do
    c:stop(true)
  end
end

return H
