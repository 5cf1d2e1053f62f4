"""History across server processes: restarts, SIGKILL mid-answer, bad database files, two servers, scoping."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM, Reply, Text

from .conftest import Chat, base_settings, configure, make_client, request, start


@asynccontextmanager
async def server(llm: FakeLLM, workspace: Path, history: Path) -> AsyncIterator[LanguageClient]:
    client = make_client()
    await client.start_io(sys.executable, "-m", "ryan_server")
    try:
        settings = base_settings(llm, history.parent) | {"historyPath": str(history)}
        await start(client, "visual-studio-code", workspace, settings)
        yield client
        if client._server is not None and client._server.returncode is None:
            await client.shutdown_session()
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()


async def wait_until(predicate: Callable[[], bool], timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def checkpointed(history: Path) -> str:
    """The text of the answer being streamed, as the server last checkpointed it in the database."""
    with closing(sqlite3.connect(history, timeout=5)) as db:
        try:
            row = db.execute("SELECT content FROM messages WHERE status = 'streaming'").fetchone()
        except sqlite3.OperationalError:  # the server has not made its tables yet
            return ""
    return row[0] if row else ""


async def test_history_survives_restart(llm: FakeLLM, workspace: Path, tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    llm.enqueue(Reply([Text("Blue.")]))
    async with server(llm, workspace, history) as client:
        first = await Chat(client, {"prompt": "Favourite colour?"}).result()
    llm.enqueue(Reply([Text("Because it is calm.")]))
    async with server(llm, workspace, history) as client:
        listed = await request(client, "ryan/sessions")
        assert [s["sessionId"] for s in listed["sessions"]] == [first["sessionId"]]
        assert listed["sessions"][0]["title"] == "Favourite colour?"
        await Chat(client, {"prompt": "Why?", "sessionId": first["sessionId"]}).result()
        sent = [(m["role"], m["content"]) for m in llm.chat_requests[-1].json["messages"][1:]]
        assert sent == [("user", "Favourite colour?"), ("assistant", "Blue."), ("user", "Why?")]
        transcript = await request(client, "ryan/session", {"sessionId": first["sessionId"]})
        assert [m["content"] for m in transcript["messages"]] == [
            "Favourite colour?",
            "Blue.",
            "Why?",
            "Because it is calm.",
        ]


async def test_sigkill_mid_answer_keeps_partial_marked_interrupted(
    llm: FakeLLM, workspace: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.sqlite3"
    words = [f"w{i} " for i in range(100)]
    llm.enqueue(Reply([Text(w) for w in words], delay=0.03))
    async with server(llm, workspace, history) as client:
        chat = Chat(client, {"prompt": "tell a long story"})
        await wait_until(lambda: checkpointed(history) != "", timeout=10)
        seen = checkpointed(history)
        assert client._server is not None
        client._server.kill()  # SIGKILL
        await client._server.wait()
        chat.future.cancel()
    async with server(llm, workspace, history) as client:
        (session,) = (await request(client, "ryan/sessions"))["sessions"]
        transcript = await request(client, "ryan/session", {"sessionId": session["sessionId"]})
        answer = transcript["messages"][-1]
        assert answer["role"] == "assistant" and answer["status"] == "interrupted"
        # the last checkpoint before the kill survives: at least what was seen checkpointed, never more
        # than the model said
        assert answer["content"].startswith(seen) and "".join(words).startswith(answer["content"])
        assert answer["content"].startswith("w0 w1 ")


async def test_shutdown_during_an_answer_stops_it_and_keeps_what_arrived(
    llm: FakeLLM, workspace: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.sqlite3"
    llm.enqueue(Reply([Text("abc "), Text("def")], delay=0.01, stall_after=1, stall_seconds=30.0))
    async with server(llm, workspace, history) as client:
        chat = Chat(client, {"prompt": "tell a long story"})
        await chat.wait_for(lambda: chat.text() == "abc ")
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(client.shutdown_async(None), 5)
        client.exit(None)
        assert client._server is not None
        assert await asyncio.wait_for(client._server.wait(), 5) == 0
        assert asyncio.get_running_loop().time() - started < 3, "the stalled answer did not hold up the exit"
    async with server(llm, workspace, history) as client:
        (session,) = (await request(client, "ryan/sessions"))["sessions"]
        transcript = await request(client, "ryan/session", {"sessionId": session["sessionId"]})
        answer = transcript["messages"][-1]
        assert (answer["role"], answer["content"], answer["status"]) == ("assistant", "abc ", "interrupted")


async def test_corrupt_database_warns_and_works(llm: FakeLLM, workspace: Path, tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    history.write_bytes(os.urandom(8192))
    async with server(llm, workspace, history) as client:
        await wait_until(lambda: any(m.type == types.MessageType.Warning for m in client.messages))
        warning = next(m.message for m in client.messages if m.type == types.MessageType.Warning)
        assert str(history) in warning and "not be saved" in warning
        result = await Chat(client, {"prompt": "still there?"}).result()
        assert result["content"] == "Hello from the fake."
        listed = await request(client, "ryan/sessions")
        assert [s["sessionId"] for s in listed["sessions"]] == [result["sessionId"]]


async def test_unwritable_history_path_warns_and_works(llm: FakeLLM, workspace: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    async with server(llm, workspace, blocker / "history.sqlite3") as client:
        await wait_until(lambda: bool(client.messages))
        (warning,) = client.messages
        assert warning.type == types.MessageType.Warning
        assert "not-a-folder is not a folder" in warning.message and "not be saved" in warning.message
        result = await Chat(client, {"prompt": "hi"}).result()
        assert result["content"] == "Hello from the fake."
        history = (await request(client, "ryan/status"))["history"]
        assert history["persistent"] is False and "not-a-folder" in history["warning"]
        listed = await request(client, "ryan/sessions")  # the session lives in memory
        assert [s["sessionId"] for s in listed["sessions"]] == [result["sessionId"]]
    assert blocker.read_text() == "a file where a folder should be"


async def test_two_servers_share_one_database(llm: FakeLLM, workspace: Path, tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    async with server(llm, workspace, history) as one, server(llm, workspace, history) as two:

        async def chats(client: LanguageClient, name: str) -> list[Any]:
            return [await Chat(client, {"prompt": f"{name} {i}"}).result() for i in range(5)]

        results = await asyncio.gather(chats(one, "one"), chats(two, "two"))
        listed = await request(one, "ryan/sessions")
    assert len(listed["sessions"]) == 10
    assert {s["title"] for s in listed["sessions"]} == {f"{n} {i}" for n in ("one", "two") for i in range(5)}
    assert all(s["messageCount"] == 2 for s in listed["sessions"])
    assert len({r["sessionId"] for group in results for r in group}) == 10
    with sqlite3.connect(history) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_sessions_are_scoped_to_the_workspace(llm: FakeLLM, tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    first, second = tmp_path / "proj-a", tmp_path / "proj-b"
    first.mkdir()
    second.mkdir()
    async with server(llm, first, history) as client:
        made = await Chat(client, {"prompt": "in a"}).result()
    async with server(llm, second, history) as client:
        assert (await request(client, "ryan/sessions"))["sessions"] == []
    async with server(llm, first, history) as client:
        listed = (await request(client, "ryan/sessions"))["sessions"]
        assert [s["sessionId"] for s in listed] == [made["sessionId"]]


async def test_long_history_is_trimmed_to_the_context_window(
    llm: FakeLLM, workspace: Path, tmp_path: Path
) -> None:
    # the scripted backend reports an 8192-token context (2048 kept for the answer); a turn of
    # 15,000 characters is about 3,750 tokens, and the backend counts the prompts as that too
    big = "lorem ipsum " * 1250
    llm.enqueue(Reply([Text("one")], usage=(3850, 1)), Reply([Text("two")]), Reply([Text("three")]))
    async with server(llm, workspace, tmp_path / "history.sqlite3") as client:
        first = await Chat(client, {"prompt": "first " + big}).result()
        second = Chat(client, {"prompt": "second " + big, "sessionId": first["sessionId"]})
        await second.result()
        third = Chat(client, {"prompt": "third, short", "sessionId": first["sessionId"]})
        await third.result()
    # said before the request that would not have fitted, and not again while the rest fits
    notices = [e["message"] for e in second.events if e["kind"] == "notice"]
    assert len(notices) == 1 and "2 oldest messages" in notices[0] and "8192" in notices[0]
    assert [e for e in third.events if e["kind"] == "notice"] == []
    first_sent, second_sent, third_sent = (r.json["messages"] for r in llm.chat_requests)
    assert any(m["content"].startswith("first ") for m in first_sent)
    for sent in (second_sent, third_sent):
        assert sent[0]["role"] == "system" and sent[1]["role"] == "user"  # a turn goes whole
        assert not any(m["content"].startswith("first ") for m in sent)
    assert third_sent[1:] == [*second_sent[1:], {"role": "assistant", "content": "two"}, third_sent[-1]]
    assert third_sent[-1]["content"] == "third, short"
    # Ollama's num_ctx: enough for the conversation, and kept while it fits
    assert [r.json["options"]["num_ctx"] for r in llm.chat_requests] == [8192, 8192, 8192]


async def test_a_new_history_path_takes_effect_without_a_restart(
    llm: FakeLLM, workspace: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.sqlite3", tmp_path / "elsewhere" / "second.sqlite3"
    async with server(llm, workspace, first) as client:
        before = await Chat(client, {"prompt": "kept in the first file"}).result()
        await configure(client, {"historyPath": str(second)})
        for _ in range(250):  # the store is reopened off the event loop: wait until it is the new one
            if (await request(client, "ryan/status"))["history"]["path"] == str(second):
                break
            await asyncio.sleep(0.02)
        assert (await request(client, "ryan/sessions"))["sessions"] == []
        after = await Chat(client, {"prompt": "kept in the second file"}).result()
        listed = await request(client, "ryan/sessions")
        assert [s["sessionId"] for s in listed["sessions"]] == [after["sessionId"]]
    for path, session in ((first, before), (second, after)):
        with closing(sqlite3.connect(path)) as db:
            assert db.execute("SELECT id FROM sessions").fetchall() == [(session["sessionId"],)]
