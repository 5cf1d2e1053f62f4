-- Benchmark: the Neovim chat buffer's append path under a long streamed answer.
--
--   nvim --headless --clean -l bench/nvim_append.lua [--treesitter] [deltas] [total_bytes]
--
-- Appends 5,000 deltas of a 200 KB markdown answer through the plugin's own path
-- (ryan.chat: Chat:_on_event with `content` events, as $/progress delivers them, which renders them
-- through ryan.chat.render into ryan.chat.buffer's append), with the chat
-- shown in a window that follows the end, and prints the time per delta for the first and the
-- last thousand. The target: the last thousand no slower than 1.5x the first. Exits non-zero if
-- the target is missed.
--
-- --treesitter also attaches Neovim's markdown tree-sitter parser to the chat buffer and parses
-- after every 20th delta (what a highlighter does on redraw), timing those parses apart: they are
-- tree-sitter's cost, not the append path's, and are reported, not judged.

local script = debug.getinfo(1, "S").source:sub(2)
local root = vim.fn.fnamemodify(script, ":p:h:h")
vim.opt.rtp:prepend(root .. "/editors/neovim")
vim.cmd("runtime plugin/ryan.lua")

local numbers, treesitter = {}, false
for _, a in ipairs(arg or {}) do
  if a == "--treesitter" then
    treesitter = true
  elseif tonumber(a) then
    numbers[#numbers + 1] = tonumber(a)
  end
end
local n_deltas = numbers[1] or 5000
local total = numbers[2] or 200 * 1024
local size = math.floor(total / n_deltas)

-- A realistic markdown answer: paragraphs with inline code and bold, lists, balanced fenced Lua
-- blocks and some multibyte text, cut into equal deltas at arbitrary bytes (as tokens arrive).
local seed = 7
local function rnd(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n + 1
end
local words = { "the", "buffer", "grows", "while", "Ryan", "streams", "`vim.api`", "naïve", "→", "**bold**", "answer" }
local blocks, len = {}, 0
while len < total do
  local kind = rnd(6)
  local block
  if kind == 1 then
    local code = { "```lua" }
    for j = 1, 4 + rnd(6) do
      code[#code + 1] = ("local v%d = vim.fn.getline(%d) .. %q"):format(j, rnd(99), words[rnd(#words)])
    end
    code[#code + 1] = "```"
    block = table.concat(code, "\n")
  elseif kind == 2 then
    local items = {}
    for _ = 1, 2 + rnd(4) do
      items[#items + 1] = "- " .. words[rnd(#words)] .. " " .. words[rnd(#words)] .. " " .. words[rnd(#words)]
    end
    block = table.concat(items, "\n")
  else
    local lines = {}
    for _ = 1, 2 + rnd(4) do
      local ws = {}
      for _ = 1, 8 + rnd(8) do
        ws[#ws + 1] = words[rnd(#words)]
      end
      lines[#lines + 1] = table.concat(ws, " ")
    end
    block = table.concat(lines, "\n")
  end
  blocks[#blocks + 1] = block
  len = len + #block + 2
end
local answer = table.concat(blocks, "\n\n"):sub(1, total)
local deltas = {}
for i = 1, n_deltas do
  deltas[i] = answer:sub((i - 1) * size + 1, i == n_deltas and #answer or i * size)
end

require("ryan").setup({ window = { position = "right", focus = true } })
local chat_mod = require("ryan.chat")
local render = require("ryan.chat.render")
local chat = chat_mod.new({ root = vim.fn.getcwd() })
chat_mod.current = chat
chat:show()
render.prompt(chat.buffer, "Explain the whole codebase, at length.")
local run = require("ryan.chat.state").new_run("bench")
run.header_mark = render.answer_header(chat.buffer)
local ev = { kind = "content", text = "" }

local parser
if treesitter then
  assert(pcall(vim.treesitter.start, chat.buf, "markdown"), "no markdown tree-sitter parser")
  parser = vim.treesitter.get_parser(chat.buf)
end
local PARSE_EVERY = 20
local parses = {}

local uv = vim.uv or vim.loop
local times = {}
local start_all = uv.hrtime()
for i = 1, n_deltas do
  ev.text = deltas[i]
  local t0 = uv.hrtime()
  chat:_on_event(run, ev)
  times[i] = uv.hrtime() - t0
  if parser and i % PARSE_EVERY == 0 then
    local n = vim.api.nvim_buf_line_count(chat.buf)
    local p0 = uv.hrtime()
    parser:parse({ math.max(0, n - 80), n })
    parses[#parses + 1] = uv.hrtime() - p0
  end
end
local elapsed = (uv.hrtime() - start_all) / 1e6

local function mean_us(a, b)
  local s = 0
  for i = a, b do
    s = s + times[i]
  end
  return s / (b - a + 1) / 1000
end
local function median_us(a, b)
  local t = {}
  for i = a, b do
    t[#t + 1] = times[i]
  end
  table.sort(t)
  return t[math.floor(#t / 2) + 1] / 1000
end

local k = math.min(1000, math.floor(n_deltas / 2))
local first_mean, last_mean = mean_us(1, k), mean_us(n_deltas - k + 1, n_deltas)
local first_med, last_med = median_us(1, k), median_us(n_deltas - k + 1, n_deltas)
local bytes = run.content_len
local lines = vim.api.nvim_buf_line_count(chat.buf)
local cursor = vim.api.nvim_win_get_cursor(0)[1]

io.stdout:write(("nvim %s: %d deltas, %d bytes of answer, %d lines in the chat buffer, %.1f ms in all"):format(
  tostring(vim.version()), n_deltas, bytes, lines, elapsed), "\n")
io.stdout:write(("first %d deltas: mean %.2f us/delta, median %.2f us"):format(k, first_mean, first_med), "\n")
io.stdout:write(("last  %d deltas: mean %.2f us/delta, median %.2f us"):format(k, last_mean, last_med), "\n")
io.stdout:write(("last/first: mean %.2fx, median %.2fx (target <= 1.5x)"):format(last_mean / first_mean, last_med / first_med), "\n")
io.stdout:write(("window followed the end: %s"):format(tostring(cursor == lines)), "\n")
if parser then
  local m = #parses
  local q = math.max(1, math.floor(m / 5))
  local function pmean(a, b)
    local s = 0
    for i = a, b do
      s = s + parses[i]
    end
    return s / (b - a + 1) / 1e6
  end
  io.stdout:write(("tree-sitter markdown parse every %d deltas: first fifth %.2f ms/parse, last fifth %.2f ms/parse"):format(
    PARSE_EVERY, pmean(1, q), pmean(m - q + 1, m)), "\n")
end
io.stdout:flush()
local ok = last_mean <= 1.5 * first_mean or last_med <= 1.5 * first_med
vim.cmd(ok and "qall!" or "cquit! 1")
