---@brief Ryan's user commands, defined in one table and created by `setup()`.

local M = {}

---@param opts table the user command's opts (args, range, line1, line2)
local function ryan(opts)
  local ryan_api = require("ryan")
  local chat_opts = {}
  if opts.range and opts.range > 0 then
    chat_opts.range = { opts.line1, opts.line2 }
    chat_opts.bufnr = vim.api.nvim_get_current_buf()
  end
  local prompt = vim.trim(opts.args or "")
  if prompt ~= "" then
    ryan_api.chat(prompt, chat_opts)
    return
  end
  vim.ui.input({ prompt = "Ryan: " }, function(input)
    if input and vim.trim(input) ~= "" then
      ryan_api.chat(input, chat_opts)
    else
      ryan_api.open()
    end
  end)
end

---@class ryan.Command
---@field impl fun(opts: table)
---@field opts table nvim_create_user_command options

---@type table<string, ryan.Command>
M.commands = {
  Ryan = {
    impl = ryan,
    opts = { nargs = "*", range = true, desc = "Ask Ryan; with a range, send the lines as context" },
  },
  RyanStop = {
    impl = function()
      if not require("ryan").stop() then
        vim.notify("Ryan: nothing is running", vim.log.levels.INFO)
      end
    end,
    opts = { nargs = 0, desc = "Stop Ryan's answer" },
  },
  RyanNew = {
    impl = function(opts)
      local prompt = vim.trim(opts.args or "")
      require("ryan").new(prompt ~= "" and prompt or nil)
    end,
    opts = { nargs = "*", desc = "Start a new Ryan chat session" },
  },
  RyanSessions = {
    impl = function()
      require("ryan").sessions()
    end,
    opts = { nargs = 0, desc = "Open an earlier Ryan chat session" },
  },
  RyanRetry = {
    impl = function()
      require("ryan").retry()
    end,
    opts = { nargs = 0, desc = "Answer the last question again (a new version)" },
  },
  RyanBranch = {
    impl = function(opts)
      local dir = vim.trim(opts.args or "")
      if dir ~= "next" and dir ~= "prev" then
        vim.notify("Ryan: :RyanBranch next or :RyanBranch prev", vim.log.levels.WARN)
        return
      end
      require("ryan").branch(dir)
    end,
    opts = {
      nargs = 1,
      complete = function()
        return { "next", "prev" }
      end,
      desc = "Show the next or previous version of a message",
    },
  },
  RyanReview = {
    impl = function(opts)
      require("ryan").review(opts.fargs)
    end,
    opts = { nargs = "*", complete = "file", desc = "Review what a Ryan chat changed, in a diff split" },
  },
  RyanUndo = {
    impl = function()
      require("ryan").undo()
    end,
    opts = { nargs = 0, desc = "Undo the file changes of Ryan's latest chat" },
  },
  RyanRedo = {
    impl = function()
      require("ryan").redo()
    end,
    opts = { nargs = 0, desc = "Redo the file changes :RyanUndo took back" },
  },
  RyanModels = {
    impl = function()
      require("ryan").models()
    end,
    opts = { nargs = 0, desc = "Pick the model for the next Ryan chats" },
  },
}

---Create every command in `M.commands`.
function M.create()
  for name, cmd in pairs(M.commands) do
    vim.api.nvim_create_user_command(name, cmd.impl, cmd.opts)
  end
end

return M
