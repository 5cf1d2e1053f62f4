---@brief The server's questions (`window/showMessageRequest`) through `vim.ui.select` over its
--- actions. A tool approval (`Allow` / `Allow for session` / `Deny`, kind "ryan_approval") shows the
--- unified diff the server sends after the question (after the first blank line, docs/protocol.md
--- "Approval") in a floating window with 'filetype' diff, open while the prompt is and closed when
--- it is answered. Any other question (an undo that would overwrite your edits: `Overwrite` / `Keep
--- my changes`, kind "ryan_question") is asked as it is, whole, with no diff.

local api = vim.api

local M = {}

---The question and the diff of an approval message: everything up to the first blank line is the
---question, what follows it (if anything) the diff.
---@param message string
---@return string question
---@return string[]? diff lines, nil when there is none
function M.split(message)
  local question, rest = message:match("^(.-)\r?\n[ \t]*\r?\n(.*)$")
  if not question then
    return message, nil
  end
  rest = rest:gsub("\r\n", "\n"):gsub("\n+$", "")
  local lines = vim.split(rest, "\n", { plain = true })
  if #lines == 0 or (#lines == 1 and lines[1] == "") then
    return question, nil
  end
  return question, lines
end

---The `vim.ui.select` prompt for a question: one line, naming Ryan.
---@param question string
---@return string
function M.prompt(question)
  question = question:gsub("%s*\r?\n%s*", " ")
  if not question:find("^Ryan") then
    question = "Ryan: " .. question
  end
  return question .. " "
end

---The titles of a tool approval's actions (docs/protocol.md "Approval").
local APPROVAL_ACTIONS = { Allow = true, ["Allow for session"] = true, Deny = true }

---Is this request a tool approval (rather than another question with actions of its own)?
---@param actions table[]
---@return boolean
function M.is_approval(actions)
  for _, action in ipairs(actions) do
    if not APPROVAL_ACTIONS[action.title] then
      return false
    end
  end
  return #actions > 0
end

---Open the diff in a float at the top of the editor (clear of the command line, where the default
---`vim.ui.select` asks), not entered, so the prompt keeps the keyboard (the mouse scrolls it).
---@param lines string[]
---@param title string
---@return integer win
function M.open_diff(lines, title)
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = "diff"
  local widest = 0
  for _, line in ipairs(lines) do
    widest = math.max(widest, vim.fn.strdisplaywidth(line))
  end
  local columns, rows = vim.o.columns, vim.o.lines
  local width = math.max(20, math.min(math.max(widest + 1, vim.fn.strdisplaywidth(title) + 4), columns - 4, 120))
  if vim.fn.strchars(title) > width - 4 then
    title = vim.fn.strcharpart(title, 0, width - 5) .. "…"
  end
  -- leave room below for the prompt and its actions (the default select lists them there)
  local height = math.max(1, math.min(#lines, rows - vim.o.cmdheight - 10))
  local win = api.nvim_open_win(buf, false, {
    relative = "editor",
    row = 1,
    col = math.max(0, math.floor((columns - width) / 2) - 1),
    width = width,
    height = height,
    style = "minimal",
    border = "rounded",
    title = " " .. title .. " ",
    title_pos = "center",
    zindex = 60,
  })
  vim.wo[win].wrap = false
  return win
end

---@param win integer?
local function close(win)
  if win and api.nvim_win_is_valid(win) then
    pcall(api.nvim_win_close, win, true)
  end
end

---The `window/showMessageRequest` handler: the user's choice (an action), or null when dismissed.
---Runs in the coroutine Neovim's client gives server requests.
---@param params lsp.ShowMessageRequestParams
---@return table|userdata
function M.handler(_, params)
  local actions = params.actions or {}
  local co, is_main = coroutine.running()
  if not co or is_main or #actions == 0 then
    return vim.NIL
  end
  local approval = M.is_approval(actions)
  local question, diff = params.message or "", nil
  if approval then
    question, diff = M.split(question)
  end
  local float
  if diff then
    local ok, win = pcall(M.open_diff, diff, (question:gsub("%s*\r?\n%s*", " ")))
    float = ok and win or nil
    pcall(vim.cmd.redraw) -- the default select blocks in inputlist(): draw the float first
  end
  local resumed = false
  local ok, err = pcall(vim.ui.select, actions, {
    prompt = M.prompt(question),
    kind = approval and "ryan_approval" or "ryan_question",
    format_item = function(action)
      return (action.title or ""):gsub("\r?\n", " ")
    end,
  }, function(choice)
    if resumed then
      return
    end
    resumed = true
    close(float)
    -- scheduled: a synchronous vim.ui.select would otherwise resume before we yield
    vim.schedule(function()
      coroutine.resume(co, choice or vim.NIL)
    end)
  end)
  if not ok then
    close(float)
    vim.notify("Ryan: approval prompt failed: " .. tostring(err), vim.log.levels.ERROR)
    return vim.NIL
  end
  return coroutine.yield()
end

return M
