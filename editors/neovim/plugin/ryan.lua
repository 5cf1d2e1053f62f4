-- Ryan: load guard and highlight links. Everything else starts with require("ryan").setup().
if vim.g.loaded_ryan == 1 then
  return
end
vim.g.loaded_ryan = 1

local links = {
  RyanPrompt = "Title",
  RyanAnswer = "Title",
  RyanThinking = "Comment",
  RyanMeta = "NonText",
  RyanError = "DiagnosticError",
  RyanToolPending = "DiagnosticInfo",
  RyanToolOk = "DiagnosticOk",
  RyanToolError = "DiagnosticError",
  RyanToolDenied = "DiagnosticWarn",
  RyanToolOutput = "Comment",
  RyanPending = "DiagnosticInfo",
  RyanFileCreated = "Added",
  RyanFileModified = "Changed",
  RyanFileDeleted = "Removed",
}

local function link()
  for group, target in pairs(links) do
    vim.api.nvim_set_hl(0, group, { link = target, default = true })
  end
end

link()
vim.api.nvim_create_autocmd("ColorScheme", {
  group = vim.api.nvim_create_augroup("ryan_highlights", { clear = true }),
  callback = link,
})
