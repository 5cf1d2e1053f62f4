"""Tool calls written as text, and models without tool support (tools described in the prompt), end to
end over stdio under both wire formats: what the user sees, what the model is sent, what is stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM, Reply, Text, pieces

from .conftest import Chat, configure, request
from .test_tools import apply_text_edit, edits_for

MODEL = "llama3.2:latest"
MARKERS = ("<tool_call>", "</tool_call>", "[TOOL_CALLS]", '"arguments"', '"parameters"')


@pytest.fixture(params=["ollama", "openai"])
async def wire(request: pytest.FixtureRequest, client: LanguageClient, llm: FakeLLM) -> str:
    if request.param == "openai":
        await configure(client, {"provider": "openai", "baseUrl": llm.url + "/v1"})
    return str(request.param)


def hermes(name: str, arguments: dict[str, Any]) -> str:
    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


FORMATS = {
    "hermes": lambda: "Let me look.\n" + hermes("read_file", {"path": "notes.txt"}),
    "llama": lambda: json.dumps({"name": "read_file", "parameters": {"path": "notes.txt"}}),
    "llama-fenced": lambda: (
        "```json\n" + json.dumps({"name": "read_file", "arguments": {"path": "notes.txt"}}) + "\n```"
    ),
    "mistral": lambda: (
        "[TOOL_CALLS]" + json.dumps([{"name": "read_file", "arguments": {"path": "notes.txt"}}])
    ),
}


def results(chat: Chat) -> list[dict[str, Any]]:
    return [e for e in chat.events if e["kind"] == "toolResult"]


def notices(chat: Chat) -> list[str]:
    return [e["message"] for e in chat.events if e["kind"] == "notice"]


async def stored_answers(client: LanguageClient, session_id: str) -> str:
    transcript = await request(client, "ryan/session", {"sessionId": session_id})
    return "\n".join(m["content"] for m in transcript["messages"] if m["role"] == "assistant")


@pytest.mark.parametrize("form", list(FORMATS))
async def test_a_call_written_as_text_runs_and_never_shows(
    client: LanguageClient, llm: FakeLLM, workspace: Path, wire: str, form: str
) -> None:
    (workspace / "notes.txt").write_text("buy milk\n")
    llm.enqueue(Reply(pieces(FORMATS[form]())), Reply([Text("You need milk.")]))
    chat = Chat(client, {"prompt": "what do my notes say?"})
    result = await chat.result()
    (done,) = results(chat)
    assert done["name"] == "read_file" and done["status"] == "ok" and "buy milk" in done["output"]
    shown = chat.text()
    assert shown == result["content"] and shown.endswith("You need milk.")
    assert not any(marker in shown for marker in MARKERS)
    stored = await stored_answers(client, result["sessionId"])
    assert not any(marker in stored for marker in MARKERS)
    sent = llm.chat_requests[-1].json["messages"]
    assert any("buy milk" in str(m.get("content")) for m in sent)  # the result went back to the model


async def test_a_json_example_is_the_answer(client: LanguageClient, llm: FakeLLM, wire: str) -> None:
    example = json.dumps({"name": "Ada", "parameters": {"age": 36}})
    llm.enqueue(Reply(pieces(example)))
    chat = Chat(client, {"prompt": "show me a JSON person"})
    result = await chat.result()
    assert result["content"] == example == chat.text()
    assert results(chat) == []


async def test_an_unknown_tool_is_an_error_and_the_model_tries_again(
    client: LanguageClient, llm: FakeLLM, workspace: Path, wire: str
) -> None:
    (workspace / "notes.txt").write_text("buy milk\n")
    llm.enqueue(
        Reply(pieces(hermes("open_file", {"path": "notes.txt"}))),
        Reply(pieces(hermes("read_file", {"path": "notes.txt"}))),
        Reply([Text("Milk.")]),
    )
    chat = Chat(client, {"prompt": "read my notes"})
    result = await chat.result()
    first, second = results(chat)
    assert first["status"] == "error" and "open_file" in first["output"] and "read_file" in first["output"]
    assert second["status"] == "ok" and "buy milk" in second["output"]
    assert result["content"] == "Milk."


async def test_unreadable_calls_twice_in_a_row_end_the_chat(
    client: LanguageClient, llm: FakeLLM, wire: str
) -> None:
    broken = '<tool_call>{"name": "read_file", "arguments": {"path": </tool_call>'
    llm.enqueue(Reply(pieces(broken)), Reply(pieces(broken)), Reply([Text("never asked")]))
    chat = Chat(client, {"prompt": "read"})
    await chat.result()
    assert [r["status"] for r in results(chat)] == ["error", "error"]
    assert "not valid JSON" in results(chat)[0]["output"]
    assert len(llm.chat_requests) == 2 and any("stopping" in n for n in notices(chat))


async def test_a_model_without_tools_reads_and_edits_in_prompt_mode(
    client: LanguageClient, llm: FakeLLM, workspace: Path, wire: str
) -> None:
    llm.no_tools.add(MODEL)
    notes = workspace / "notes.txt"
    notes.write_text("buy milk\n")
    client.answers.append("Allow")  # type: ignore[attr-defined]
    llm.enqueue(
        Reply(pieces(hermes("read_file", {"path": "notes.txt"}))),
        Reply(pieces(hermes("edit_file", {"path": "notes.txt", "oldText": "milk", "newText": "bread"}))),
        Reply([Text("Changed it.")]),
    )
    chat = Chat(client, {"prompt": "change milk to bread in my notes"})
    result = await chat.result()
    edits = edits_for(client, notes)  # through the editor where it applies edits, else on disk
    now = apply_text_edit(notes.read_text(), edits[0]) if edits else notes.read_text()
    assert now == "buy bread\n"
    assert [(r["name"], r["status"]) for r in results(chat)] == [("read_file", "ok"), ("edit_file", "ok")]
    assert len(client.approval_requests) == 1  # type: ignore[attr-defined]
    assert result["content"] == "Changed it."
    (notice,) = notices(chat)
    assert "prompt" in notice
    last = llm.chat_requests[-1].json
    assert "tools" not in last
    system = last["messages"][0]["content"]
    assert "<tools>" in system and '"name": "edit_file"' in system
    responses = [m for m in last["messages"] if m["role"] == "user" and "<tool_response>" in m["content"]]
    assert len(responses) == 2 and "buy milk" in responses[0]["content"]
    assert all(m["role"] in ("system", "user", "assistant") for m in last["messages"])


async def test_a_denied_edit_in_prompt_mode_leaves_the_file(
    client: LanguageClient, llm: FakeLLM, workspace: Path, wire: str
) -> None:
    await configure(client, {"tools": {"mode": "prompt"}})
    notes = workspace / "notes.txt"
    notes.write_text("buy milk\n")
    client.answers.append("Deny")  # type: ignore[attr-defined]
    llm.enqueue(
        Reply(pieces(hermes("write_file", {"path": "notes.txt", "content": "gone"}))),
        Reply([Text("Left it.")]),
    )
    chat = Chat(client, {"prompt": "wipe my notes"})
    await chat.result()
    assert notes.read_text() == "buy milk\n" and edits_for(client, notes) == []
    assert [r["status"] for r in results(chat)] == ["denied"]
    assert "tools" not in llm.chat_requests[0].json


async def test_a_refused_tools_request_switches_to_the_prompt(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    """An OpenAI-compatible server says nothing about tool support until it refuses the tools."""
    await configure(client, {"provider": "openai", "baseUrl": llm.url + "/v1"})
    llm.no_tools.add(MODEL)
    (workspace / "notes.txt").write_text("buy milk\n")
    llm.enqueue(Reply(pieces(hermes("read_file", {"path": "notes.txt"}))), Reply([Text("Milk.")]))
    chat = Chat(client, {"prompt": "read my notes"})
    result = await chat.result()
    assert result["content"] == "Milk." and [r["status"] for r in results(chat)] == ["ok"]
    (notice,) = notices(chat)
    assert "jinja" in notice and "prompt" in notice
    first, *rest = llm.chat_requests
    assert "tools" in first.json and all("tools" not in r.json for r in rest)
    again = Chat(client, {"prompt": "and again", "sessionId": result["sessionId"]})
    llm.enqueue(Reply([Text("Still milk.")]))
    await again.result()
    assert "tools" not in llm.chat_requests[-1].json and notices(again) == []  # remembered, told once


async def test_off_sends_no_tools_and_reads_nothing(client: LanguageClient, llm: FakeLLM, wire: str) -> None:
    await configure(client, {"tools": {"mode": "off"}})
    text = hermes("read_file", {"path": "notes.txt"})
    llm.enqueue(Reply(pieces(text)))
    chat = Chat(client, {"prompt": "read"})
    result = await chat.result()
    assert result["content"] == text and results(chat) == []
    body = llm.chat_requests[-1].json
    assert "tools" not in body and "<tools>" not in body["messages"][0]["content"]
