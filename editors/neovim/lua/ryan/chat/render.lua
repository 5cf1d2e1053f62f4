---@brief What a live answer looks like: the `## You` and `## Ryan` headers and the virtual text after
--- them, thinking (dimmed), answer sections, tool cards with their status, stop and error lines, and
--- the end of an answer (model, time, speed, context used, why it stopped).
---
--- Every function writes through a ryan.chat.Buffer and keeps where things are in the ryan.Answer it
--- is given (a streaming request's ryan.Run, or a stored answer); none of them talks to the server.
--- Beside it: format.lua (the words), versions.lua (`‹ i/n ›`, regenerated answers), changes.lua
--- (the files a chat changed), stored.lua (a stored session), notify.lua (statuses to vim.notify).

local config = require("ryan.config")
local protocol = require("ryan.protocol")
local format = require("ryan.chat.format")

local M = {}

---@alias ryan.VirtText [string, string][] virt_text chunks: {text, highlight group}

--- Headers ----------------------------------------------------------------------------------------

---Write the header of a user turn: `## You` (with its version, `‹ 2/3 ›`, when it has others), the
---prompt and the context it carries.
---@param b ryan.chat.Buffer
---@param prompt string
---@param context table[]?
---@param version string?
---@return integer row the header's row
function M.prompt(b, prompt, context, version)
  b:ensure_blank_line()
  local srow = b:end_pos()
  b:append(version and ("## You  " .. version .. "\n\n") or "## You\n\n")
  b:append(prompt)
  b:ensure_newline()
  b:highlight("RyanPrompt", srow, 0, srow, 6)
  if context and #context > 0 then
    local labels = {}
    for _, item in ipairs(context) do
      labels[#labels + 1] = "`" .. format.context_label(item) .. "`"
    end
    b:append("\n")
    b:line("_context: " .. table.concat(labels, ", ") .. "_", "RyanMeta")
  end
  return srow
end

---Write `## Ryan`, the header of an answer (with its version, `‹ 2/3 ›`, when it has others).
---@param b ryan.chat.Buffer
---@param version string?
---@return integer header extmark id (ryan.Answer.header_mark)
function M.answer_header(b, version)
  b:ensure_blank_line()
  local row = b:end_pos()
  b:append(version and ("## Ryan  " .. version .. "\n\n") or "## Ryan\n\n")
  return b:set_mark(row, 0, { end_row = row, end_col = 7, hl_group = "RyanAnswer" })
end

---Set the virtual text after the answer's "## Ryan" line (model, timing, state).
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param chunks ryan.VirtText
function M.header_info(b, answer, chunks)
  if not answer.header_mark then
    return
  end
  local row = b:mark_row(answer.header_mark)
  if not row then
    return
  end
  pcall(b.set_mark, b, row, 0, {
    id = answer.header_mark,
    end_row = row,
    end_col = 7,
    hl_group = "RyanAnswer",
    virt_text = chunks,
    virt_text_pos = "eol",
  })
end

---Show the model the server answers with after the header.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param model string
function M.model(b, answer, model)
  M.header_info(b, answer, { { "  " .. model, "RyanMeta" } })
end

--- The answer -------------------------------------------------------------------------------------

---Switch the streaming section (thinking → content → tool …), separating them with a blank line.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param section "thinking"|"content"|"tool"
function M.section(b, answer, section)
  if answer.section == section then
    return
  end
  if answer.section ~= nil then
    b:ensure_blank_line()
  end
  answer.section = section
  answer.thinking_mark = nil
end

---Append answer text.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param text string
function M.content(b, answer, text)
  M.section(b, answer, "content")
  b:append(text)
end

---Append reasoning text, dimmed (nothing with `thinking = "hide"`). One highlight covers the
---section and grows with it.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param text string
function M.thinking(b, answer, text)
  if config.options.thinking == "hide" then
    return
  end
  M.section(b, answer, "thinking")
  local srow, scol, erow, ecol = b:append(text)
  if not answer.thinking_mark then
    answer.thinking_start = { srow, scol }
  end
  answer.thinking_mark = b:highlight("RyanThinking", answer.thinking_start[1], answer.thinking_start[2], erow, ecol, answer.thinking_mark)
end

--- Tool cards -------------------------------------------------------------------------------------

local STATUS_HL = {
  ok = "RyanToolOk",
  error = "RyanToolError",
  denied = "RyanToolDenied",
}

---A tool card: `**tool** name arguments` with its status as virtual text. A live call is
---"… running" until its result; a stored one shows its status (or waits for its tool message).
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param ev table a `toolCall` event, or a stored message's tool call
function M.tool_call(b, answer, ev)
  M.section(b, answer, "tool")
  b:ensure_newline()
  local srow = b:end_pos()
  b:append(("**tool** `%s` %s"):format(format.tool_label(ev), format.summarize_args(ev.arguments)))
  local status = ev.status == nil and "… running" or STATUS_HL[ev.status] and ev.status or ""
  local id = b:set_mark(srow, 0, {
    virt_text = { { "  " .. status, STATUS_HL[ev.status] or "RyanToolPending" } },
    virt_text_pos = "eol",
  })
  b:append("\n")
  if ev.callId then
    answer.tools[ev.callId] = id
  end
end


---A tool's result: its card's status updated, and a line with what the tool returned.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param ev table a `toolResult` event (or a stored tool message as one)
function M.tool_result(b, answer, ev)
  M.section(b, answer, "tool")
  local status = ev.status or "ok"
  local hl = STATUS_HL[status] or "RyanToolError"
  local id = ev.callId and answer.tools[ev.callId]
  if id then
    local row = b:mark_row(id)
    if row then
      pcall(b.set_mark, b, row, 0, {
        id = id,
        virt_text = { { "  " .. status, hl } },
        virt_text_pos = "eol",
      })
    end
  end
  b:ensure_newline()
  b:line(("  ↳ %s: %s"):format(status, format.result_summary(ev)), hl)
end

--- Ends of an answer ------------------------------------------------------------------------------

---The "(stopped)" line of an answer the user stopped.
---@param b ryan.chat.Buffer
function M.stopped(b)
  b:ensure_newline()
  b:line("_(stopped)_", "RyanMeta")
end

---An error line.
---@param b ryan.chat.Buffer
---@param msg string
function M.error(b, msg)
  b:ensure_blank_line()
  b:line("**Error:** " .. msg, "RyanError")
end

---The end of an answer from its `ryan/chat` result: the text a server that did not stream sends
---only here, then model, time, speed and context used after the header, and why it stopped if not
---at its end.
---@param b ryan.chat.Buffer
---@param answer ryan.Answer
---@param result table
function M.finish(b, answer, result)
  if answer.thinking_len == 0 and type(result.thinking) == "string" and result.thinking ~= "" then
    M.thinking(b, answer, result.thinking)
  end
  if answer.content_len == 0 and type(result.content) == "string" and result.content ~= "" then
    M.content(b, answer, result.content)
  end
  b:ensure_newline()
  local info = {}
  if result.model or answer.model then
    info[#info + 1] = result.model or answer.model
  end
  local timing = type(result.timing) == "table" and result.timing or {}
  if type(timing.totalMs) == "number" then
    info[#info + 1] = ("%.1f s"):format(timing.totalMs / 1000)
  end
  if type(timing.tokensPerSecond) == "number" and timing.tokensPerSecond > 0 then
    info[#info + 1] = ("%.1f tok/s"):format(timing.tokensPerSecond)
  end
  local context = format.context_percent(result.usage)
  if context ~= "" then
    info[#info + 1] = context
  end
  if result.stopReason and result.stopReason ~= protocol.stop_reason.stop then
    info[#info + 1] = "stopped: " .. result.stopReason
  end
  M.header_info(b, answer, { { "  " .. table.concat(info, " · "), "RyanMeta" } })
  if result.stopReason == protocol.stop_reason.length then
    b:line("_(the answer hit the length limit)_", "RyanMeta")
  elseif result.stopReason == protocol.stop_reason.max_steps then
    b:line("_(stopped after the maximum number of tool steps)_", "RyanMeta")
  end
end

return M
