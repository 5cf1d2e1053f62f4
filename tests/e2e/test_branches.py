"""Regenerate and branches end to end: answers again as siblings, a new version of a message, switching
branches, continuing the active one, and all of it after a restart."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM, Reply, Text

from .conftest import Chat, base_settings, make_client, request, start


async def _started(llm: FakeLLM, workspace: Path, tmp_path: Path) -> LanguageClient:
    client = make_client()
    await client.start_io(sys.executable, "-m", "ryan_server")
    await start(client, "neovim", workspace, base_settings(llm, tmp_path))
    return client


def _sent(llm: FakeLLM) -> list[tuple[str, str]]:
    """The conversation of the last request to the model, without the system prompt."""
    return [(m["role"], m["content"]) for m in llm.chat_requests[-1].json["messages"][1:]]


def _shown(session: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(m["role"], m["content"], len(m["siblings"])) for m in session["messages"]]


async def test_regenerate_switch_continue_and_restart(llm: FakeLLM, workspace: Path, tmp_path: Path) -> None:
    client = await _started(llm, workspace, tmp_path)
    llm.enqueue(Reply([Text("first joke")]), Reply([Text("second joke")]), Reply([Text("third joke")]))
    first = await Chat(client, {"prompt": "tell a joke"}).result()
    session_id = first["sessionId"]
    again = await Chat(client, {"sessionId": session_id, "regenerate": True}).result()
    assert again["content"] == "second joke" and again["userMessageId"] == first["userMessageId"]
    assert _sent(llm) == [("user", "tell a joke")], "the earlier answer is not in the regenerated request"
    await Chat(client, {"sessionId": session_id, "regenerate": True, "prompt": "ignored"}).result()

    session = await request(client, "ryan/session", {"sessionId": session_id})
    assert _shown(session) == [("user", "tell a joke", 1), ("assistant", "third joke", 3)]
    answers = session["messages"][1]["siblings"]
    assert session["headId"] == answers[2] == session["messages"][1]["id"]

    switched = await request(client, "ryan/switchBranch", {"sessionId": session_id, "messageId": answers[0]})
    assert _shown(switched) == [("user", "tell a joke", 1), ("assistant", "first joke", 3)]
    assert switched["headId"] == answers[0]

    llm.enqueue(Reply([Text("a pun")]))
    await Chat(client, {"sessionId": session_id, "prompt": "another"}).result()
    assert _sent(llm) == [("user", "tell a joke"), ("assistant", "first joke"), ("user", "another")]
    await client.shutdown_session()
    await client.stop()

    client = await _started(llm, workspace, tmp_path)
    try:
        session = await request(client, "ryan/session", {"sessionId": session_id})
        assert _shown(session) == [
            ("user", "tell a joke", 1),
            ("assistant", "first joke", 3),
            ("user", "another", 1),
            ("assistant", "a pun", 1),
        ]
        assert session["messages"][1]["siblings"] == answers
        # back to the third answer: the branch through it, which ends there
        switched = await request(
            client, "ryan/switchBranch", {"sessionId": session_id, "messageId": answers[2]}
        )
        assert _shown(switched)[-1] == ("assistant", "third joke", 3)
        # and to the first again: its newest continuation comes with it
        switched = await request(
            client, "ryan/switchBranch", {"sessionId": session_id, "messageId": answers[0]}
        )
        assert [m["content"] for m in switched["messages"]][-1] == "a pun"
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_edit_of_an_earlier_message(llm: FakeLLM, workspace: Path, tmp_path: Path) -> None:
    client = await _started(llm, workspace, tmp_path)
    try:
        llm.enqueue(Reply([Text("A")]), Reply([Text("B")]), Reply([Text("C")]))
        first = await Chat(client, {"prompt": "one"}).result()
        session_id = first["sessionId"]
        second = await Chat(client, {"sessionId": session_id, "prompt": "two"}).result()
        edited = await Chat(
            client, {"sessionId": session_id, "prompt": "two, better", "editOf": second["userMessageId"]}
        ).result()
        assert _sent(llm) == [("user", "one"), ("assistant", "A"), ("user", "two, better")]
        session = await request(client, "ryan/session", {"sessionId": session_id})
        assert _shown(session) == [
            ("user", "one", 1),
            ("assistant", "A", 1),
            ("user", "two, better", 2),
            ("assistant", "C", 1),
        ]
        assert session["messages"][2]["siblings"] == [second["userMessageId"], edited["userMessageId"]]
        old = await request(
            client, "ryan/switchBranch", {"sessionId": session_id, "messageId": second["userMessageId"]}
        )
        assert [m["content"] for m in old["messages"]] == ["one", "A", "two", "B"]
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_bad_branch_requests_are_explained(llm: FakeLLM, workspace: Path, tmp_path: Path) -> None:
    client = await _started(llm, workspace, tmp_path)
    try:
        with pytest.raises(JsonRpcException, match="regenerate needs a sessionId"):
            await request(client, "ryan/chat", {"regenerate": True})
        llm.enqueue(Reply([Text("A")]))
        first = await Chat(client, {"prompt": "one"}).result()
        session_id = first["sessionId"]
        answer = (await request(client, "ryan/session", {"sessionId": session_id}))["messages"][1]["id"]
        with pytest.raises(JsonRpcException, match=f"editOf: {answer} is not a user message"):
            await request(client, "ryan/chat", {"sessionId": session_id, "prompt": "x", "editOf": answer})
        with pytest.raises(JsonRpcException, match="no message 9999"):
            await request(client, "ryan/switchBranch", {"sessionId": session_id, "messageId": 9999})
        with pytest.raises(JsonRpcException, match="no session"):
            await request(client, "ryan/switchBranch", {"sessionId": "nope", "messageId": answer})
        # nothing was lost by the refusals
        assert len((await request(client, "ryan/session", {"sessionId": session_id}))["messages"]) == 2
    finally:
        await client.shutdown_session()
        await client.stop()
