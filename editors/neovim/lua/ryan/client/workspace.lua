---@brief The workspace of a buffer, and the buffers a workspace's server sees: the root a buffer
--- belongs to (its root marker), and attaching the file buffers inside a root to its ryan client so
--- the server's tools read the editor's unsaved text.

local config = require("ryan.config")

local M = {}

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

---Attach file buffers read or created from now on to the initialized clients named `name`.
---@param name string the clients' name (ryan.client.name)
function M.watch_buffers(name)
  if augroup then
    return
  end
  augroup = vim.api.nvim_create_augroup("ryan_attach", { clear = true })
  vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
    group = augroup,
    callback = function(ev)
      for _, c in ipairs(vim.lsp.get_clients({ name = name })) do
        if c.initialized then
          M.attach(c, ev.buf)
        end
      end
    end,
  })
end

return M
