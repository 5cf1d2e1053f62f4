"""The agent loop end to end: tool calls in both wire formats, approvals, edits, the sandbox, limits."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

from .conftest import Chat, base_settings, configure, make_client, request, settled, start


def apply_text_edit(text: str, edit: Any) -> str:
    """Apply an LSP TextEdit (UTF-16 positions) to `text`, as an editor would."""
    lines = text.split("\n")

    def offset(position: Any) -> int:
        before = sum(len(line) + 1 for line in lines[: position.line])
        line = lines[position.line] if position.line < len(lines) else ""
        units, chars = 0, 0
        while units < position.character and chars < len(line):
            units += 2 if ord(line[chars]) > 0xFFFF else 1
            chars += 1
        return before + chars

    return text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]


def edits_for(client: LanguageClient, path: Path) -> list[Any]:
    """The TextEdits the server sent for `path`, whichever form the client's capabilities called for."""
    found = []
    for edit in client.applied_edits:  # type: ignore[attr-defined]
        for change in edit.document_changes or []:
            if isinstance(change, types.TextDocumentEdit) and change.text_document.uri == path.as_uri():
                found.extend(change.edits)
        found.extend((edit.changes or {}).get(path.as_uri(), []))
    return found


def landed(client: LanguageClient, path: Path) -> bool:
    """A write reached the editor (applyEdit) or, where the client cannot create files, the disk."""
    return bool(edits_for(client, path)) or path.exists()


def tool_pairs(chat: Chat) -> list[tuple[str, str]]:
    calls = {e["callId"]: e["name"] for e in chat.events if e["kind"] == "toolCall"}
    results = [(calls[e["callId"]], e["status"]) for e in chat.events if e["kind"] == "toolResult"]
    assert len(results) == len(calls), "every toolCall is followed by exactly one toolResult"
    return results


async def test_rename_scenario_end_to_end(client: LanguageClient, llm: FakeLLM, workspace: Path) -> None:
    (workspace / "utils.py").write_text("def helper(x):\n    return x * 2\n")
    (workspace / "main.py").write_text("from utils import helper\n\nprint(helper(21))\n")
    llm.enqueue(
        Reply([Text("Let me look. "), ToolCall("search_files", {"pattern": "helper"})]),
        Reply([ToolCall("read_file", {"path": "utils.py"})]),
        Reply(
            [ToolCall("edit_file", {"path": "utils.py", "oldText": "def helper(", "newText": "def double("})]
        ),
        Reply([Text("Renamed `helper` to `double`.")]),
    )
    client.answers.append("Allow")  # type: ignore[attr-defined]
    chat = Chat(client, {"prompt": "rename the helper in utils.py to double"})
    result = await chat.result()

    assert tool_pairs(chat) == [("search_files", "ok"), ("read_file", "ok"), ("edit_file", "ok")]
    results = {e["name"]: e["output"] for e in chat.events if e["kind"] == "toolResult"}
    assert "utils.py:1:" in results["search_files"] and "main.py:1:" in results["search_files"]
    assert "return x * 2" in results["read_file"]
    assert result["content"] == "Let me look. Renamed `helper` to `double`."
    assert [c["name"] for c in result["toolCalls"]] == ["search_files", "read_file", "edit_file"]
    assert all(c["status"] == "ok" for c in result["toolCalls"])

    # the write was asked for, naming the tool, the file and the size of the change
    (asked,) = client.approval_requests  # type: ignore[attr-defined]
    assert asked.message == (  # the question, then the change itself
        "edit_file: Ryan wants to edit utils.py (+1 −1 lines)\n\n"
        "--- a/utils.py\n+++ b/utils.py\n@@ -1,2 +1,2 @@\n-def helper(x):\n+def double(x):\n     return x * 2"
    )
    assert [a.title for a in asked.actions] == ["Allow", "Allow for session", "Deny"]

    # the edit went to the editor (undoable there), not to disk
    assert len(client.applied_edits) == 1  # type: ignore[attr-defined]
    assert (workspace / "utils.py").read_text().startswith("def helper(")
    (text_edit,) = edits_for(client, workspace / "utils.py")
    new_text = apply_text_edit((workspace / "utils.py").read_text(), text_edit)
    assert new_text == "def double(x):\n    return x * 2\n"

    # every turn offered the tools, and tool results went back in Ollama's shape
    bodies = [r.json for r in llm.chat_requests]
    assert all(len(b["tools"]) == 7 for b in bodies)
    last = bodies[-1]["messages"]
    tool_messages = [m for m in last if m["role"] == "tool"]
    assert [m["tool_name"] for m in tool_messages] == ["search_files", "read_file", "edit_file"]
    assert last[2]["tool_calls"][0]["function"] == {
        "name": "search_files",
        "arguments": {"pattern": "helper"},
    }

    transcript = await request(client, "ryan/session", {"sessionId": result["sessionId"]})
    roles = [m["role"] for m in transcript["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant", "tool", "assistant", "tool", "assistant"]
    assert transcript["messages"][1]["toolCalls"][0]["status"] == "ok"


@pytest.mark.parametrize("answer, status", [("Allow", "ok"), ("Deny", "denied"), (None, "denied")])
async def test_approval_answers(
    client: LanguageClient, llm: FakeLLM, workspace: Path, answer: str | None, status: str
) -> None:
    llm.enqueue(
        Reply([ToolCall("write_file", {"path": "notes/todo.md", "content": "- [ ] ship\n"})]),
        Reply([Text("done")]),
    )
    if answer:
        client.answers.append(answer)  # type: ignore[attr-defined]
    chat = Chat(client, {"prompt": "write a todo"})
    await chat.result()
    assert tool_pairs(chat) == [("write_file", status)]
    assert len(client.approval_requests) == 1  # type: ignore[attr-defined]
    assert "notes/todo.md" in client.approval_requests[0].message  # type: ignore[attr-defined]
    assert landed(client, workspace / "notes/todo.md") == (status == "ok")
    tool_message = next(m for m in llm.chat_requests[-1].json["messages"] if m["role"] == "tool")
    if status == "denied":
        assert "denied" in tool_message["content"]


async def test_allow_for_session(client: LanguageClient, llm: FakeLLM, workspace: Path) -> None:
    llm.enqueue(
        Reply([ToolCall("write_file", {"path": "a.txt", "content": "a"})]),
        Reply([ToolCall("write_file", {"path": "b.txt", "content": "b"})]),
        Reply([Text("two files")]),
        Reply([ToolCall("write_file", {"path": "c.txt", "content": "c"})]),
        Reply([Text("three")]),
    )
    client.answers.append("Allow for session")  # type: ignore[attr-defined]
    first = await Chat(client, {"prompt": "write two files"}).result()
    await Chat(client, {"prompt": "and another", "sessionId": first["sessionId"]}).result()
    assert len(client.approval_requests) == 1  # type: ignore[attr-defined]
    assert all(landed(client, workspace / name) for name in ("a.txt", "b.txt", "c.txt"))


async def test_reads_of_one_turn_run_side_by_side_and_answer_in_order(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    """Reads that need no approval run together: their toolCalls first, then the results in the
    model's order; the model gets the results in that order too."""
    (workspace / "a.txt").write_text("alpha\n")
    (workspace / "b.txt").write_text("beta\n")
    llm.enqueue(
        Reply(
            [
                ToolCall("read_file", {"path": "a.txt"}),
                ToolCall("read_file", {"path": "b.txt"}),
                ToolCall("list_files", {}),
            ]
        ),
        Reply([Text("read both")]),
    )
    chat = Chat(client, {"prompt": "read a and b"})
    await chat.result()
    outputs = [e["output"] for e in chat.events if e["kind"] == "toolResult"]
    assert "alpha" in outputs[0] and "beta" in outputs[1] and "a.txt" in outputs[2]
    kinds = [k for k in chat.kinds() if k.startswith("tool")]
    assert kinds == ["toolCall"] * 3 + ["toolResult"] * 3
    calls = [e["callId"] for e in chat.events if e["kind"] == "toolCall"]
    assert [e["callId"] for e in chat.events if e["kind"] == "toolResult"] == calls
    sent = [m for m in llm.chat_requests[-1].json["messages"] if m["role"] == "tool"]
    assert ["alpha" in sent[0]["content"], "beta" in sent[1]["content"], "a.txt" in sent[2]["content"]] == [
        True,
        True,
        True,
    ]


async def test_unknown_tool_and_bad_arguments(client: LanguageClient, llm: FakeLLM) -> None:
    llm.enqueue(
        Reply([ToolCall("delete_everything", {}), ToolCall("read_file", {"startLine": 3})]),
        Reply([Text("sorry")]),
    )
    chat = Chat(client, {"prompt": "go"})
    result = await chat.result()
    assert tool_pairs(chat) == [("delete_everything", "error"), ("read_file", "error")]
    outputs = [e["output"] for e in chat.events if e["kind"] == "toolResult"]
    assert "unknown tool" in outputs[0] and "read_file" in outputs[0]
    assert "path" in outputs[1]
    assert result["content"] == "sorry"


async def test_sandbox_refusals_reach_the_model(
    client: LanguageClient, llm: FakeLLM, workspace: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("TOP SECRET")
    (workspace / "link").symlink_to(outside)
    llm.enqueue(
        Reply(
            [
                ToolCall("read_file", {"path": "../secret.txt"}),
                ToolCall("read_file", {"path": str(outside)}),
                ToolCall("read_file", {"path": "link"}),
                ToolCall("write_file", {"path": ".git/hooks/pre-commit", "content": "rm -rf /"}),
            ]
        ),
        Reply([Text("I cannot.")]),
    )
    client.answers.extend(["Allow"] * 4)  # type: ignore[attr-defined]
    chat = Chat(client, {"prompt": "read the secret"})
    await chat.result()
    assert [s for _, s in tool_pairs(chat)] == ["error"] * 4
    assert all("TOP SECRET" not in e.get("output", "") for e in chat.events)
    assert not (workspace / ".git").exists()
    assert client.applied_edits == []  # type: ignore[attr-defined]


async def test_unsaved_buffer_wins_over_disk(client: LanguageClient, llm: FakeLLM, workspace: Path) -> None:
    path = workspace / "draft.py"
    path.write_text("saved = 1\n")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=path.as_uri(), language_id="python", version=3, text="unsaved = 2\n"
            )
        )
    )
    llm.enqueue(Reply([ToolCall("read_file", {"path": "draft.py"})]), Reply([Text("ok")]))
    chat = Chat(client, {"prompt": "read draft.py"})
    await chat.result()
    (output,) = [e["output"] for e in chat.events if e["kind"] == "toolResult"]
    assert "unsaved = 2" in output and "saved = 1" not in output


async def test_max_steps(client: LanguageClient, llm: FakeLLM, workspace: Path) -> None:
    await configure(client, {"tools": {"maxSteps": 2}})
    llm.enqueue(*[Reply([ToolCall("list_files", {})]) for _ in range(5)])
    chat = Chat(client, {"prompt": "loop forever"})
    result = await chat.result()
    assert result["stopReason"] == "maxSteps"
    assert len(llm.chat_requests) == 2
    assert tool_pairs(chat) == [("list_files", "ok"), ("list_files", "ok")]
    (notice,) = [e["message"] for e in chat.events if e["kind"] == "notice"]  # not silent success
    assert "step limit: 2 model turns" in notice and "raise tools.maxSteps" in notice


async def test_openai_fragmented_tool_arguments(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    await configure(client, {"provider": "openai", "baseUrl": llm.url + "/v1"})
    (workspace / "notes.md").write_text("# Notes\nremember the milk\n")
    llm.enqueue(
        Reply([ToolCall("read_file", {"path": "notes.md", "startLine": 2, "endLine": 2})]),
        Reply([Text("milk")]),
    )
    chat = Chat(client, {"prompt": "what to remember?"})
    result = await chat.result()
    (output,) = [e["output"] for e in chat.events if e["kind"] == "toolResult"]
    assert "remember the milk" in output and "# Notes" not in output
    assert result["content"] == "milk"
    messages = llm.chat_requests[-1].json["messages"]
    call = messages[-2]["tool_calls"][0]
    assert call["type"] == "function" and isinstance(call["function"]["arguments"], str)
    assert messages[-1]["role"] == "tool" and messages[-1]["tool_call_id"] == call["id"]


async def test_native_mode_model_without_tools_continues_without_them(
    client: LanguageClient, llm: FakeLLM
) -> None:
    await configure(client, {"tools": {"mode": "native"}})
    llm.no_tools.add("llama3.2:latest")
    llm.enqueue(Reply([Text("plain answer")]))
    chat = Chat(client, {"prompt": "hi"})
    result = await chat.result()
    assert result["content"] == "plain answer"
    notices = [e for e in chat.events if e["kind"] == "notice"]
    assert len(notices) == 1 and "does not support tools" in notices[0]["message"]
    assert "tools" not in llm.chat_requests[-1].json


async def test_cancel_while_waiting_for_approval_writes_nothing(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    gate = client.approval_gate = asyncio.Event()  # type: ignore[attr-defined]
    client.answers.append("Allow")  # type: ignore[attr-defined]
    llm.enqueue(Reply([ToolCall("write_file", {"path": "late.txt", "content": "x"})]))
    chat = Chat(client, {"prompt": "write"})
    await chat.wait_for(lambda: len(client.approval_requests) == 1)  # type: ignore[attr-defined]
    chat.cancel()
    with pytest.raises(JsonRpcException) as caught:
        await chat.result()
    assert caught.value.code == -32800
    assert tool_pairs(chat) == [("write_file", "error")]  # the call still got its result, before the answer
    gate.set()  # the user says "Allow", too late
    await chat.wait_for(lambda: client.approvals_answered == 1)  # type: ignore[attr-defined]
    await asyncio.sleep(0)  # let the client write its answer before the round trip below
    await settled(client)
    assert client.applied_edits == []  # type: ignore[attr-defined]
    assert not (workspace / "late.txt").exists()


async def test_writes_to_disk_without_apply_edit(llm: FakeLLM, workspace: Path, tmp_path: Path) -> None:
    capabilities = client_capabilities("neovim")
    assert capabilities.workspace is not None
    capabilities.workspace.apply_edit = False
    (workspace / "config.toml").write_text("debug = false\n")
    client = make_client()
    await client.start_io(sys.executable, "-m", "ryan_server")
    try:
        await start(client, capabilities, workspace, base_settings(llm, tmp_path))
        llm.enqueue(
            Reply(
                [
                    ToolCall("edit_file", {"path": "config.toml", "oldText": "false", "newText": "true"}),
                    ToolCall("write_file", {"path": "new/dir/file.txt", "content": "héllo 🚀\n"}),
                ]
            ),
            Reply([Text("done")]),
        )
        client.answers.extend(["Allow", "Allow"])  # type: ignore[attr-defined]
        chat = Chat(client, {"prompt": "enable debug"})
        await chat.result()
        assert tool_pairs(chat) == [("edit_file", "ok"), ("write_file", "ok")]
        assert (workspace / "config.toml").read_text() == "debug = true\n"
        assert (workspace / "new/dir/file.txt").read_text(encoding="utf-8") == "héllo 🚀\n"
        assert sorted(p.name for p in workspace.iterdir()) == ["config.toml", "new"]  # no temp files left
        await client.shutdown_session()
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()


async def test_edit_rejected_by_editor(client: LanguageClient, llm: FakeLLM, workspace: Path) -> None:
    (workspace / "a.py").write_text("x = 1\n")
    client.apply_result = False  # type: ignore[attr-defined]
    client.answers.append("Allow")  # type: ignore[attr-defined]
    llm.enqueue(
        Reply([ToolCall("edit_file", {"path": "a.py", "oldText": "1", "newText": "2"})]),
        Reply([Text("could not")]),
    )
    chat = Chat(client, {"prompt": "edit"})
    await chat.result()
    assert tool_pairs(chat) == [("edit_file", "error")]
    (output,) = [e["output"] for e in chat.events if e["kind"] == "toolResult"]
    assert "read-only buffer" in output
    assert (workspace / "a.py").read_text() == "x = 1\n"


@pytest.mark.parametrize("unsaved", [False, True], ids=["on-disk", "unsaved-buffer"])
async def test_the_read_limit_setting_applies_on_disk_and_to_unsaved_buffers(
    client: LanguageClient, llm: FakeLLM, workspace: Path, unsaved: bool
) -> None:
    """`tools.maxReadBytes` from the settings: a larger file (or open, unsaved buffer) is refused
    without a line range and read with one."""
    await configure(client, {"tools": {"maxReadBytes": 200}})
    path = workspace / "big.txt"
    text = "".join(f"line {i:03}\n" for i in range(40))  # 360 bytes
    path.write_text("small\n" if unsaved else text)
    if unsaved:
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=path.as_uri(), language_id="text", version=1, text=text
                )
            )
        )
    llm.enqueue(
        Reply([ToolCall("read_file", {"path": "big.txt"})]),
        Reply([ToolCall("read_file", {"path": "big.txt", "startLine": 39, "endLine": 40})]),
        Reply([Text("ok")]),
    )
    chat = Chat(client, {"prompt": "read big.txt"})
    await chat.result()
    whole, ranged = [e for e in chat.events if e["kind"] == "toolResult"]
    assert (
        whole["status"] == "error"
        and "360 bytes" in whole["output"]
        and "over the 200 bytes read limit" in whole["output"]
    )
    assert ranged["status"] == "ok" and "line 039" in ranged["output"]
