"""`BackgroundStore`: the order of its one worker thread, snapshots, and an event loop that never waits.

A real `SqliteStore` on a file in `tmp_path`. To be sure writes are still queued when the test acts,
a second connection holds the database's write lock (`BEGIN IMMEDIATE`): the worker then waits inside
the first write (SQLite's busy timeout) until the test lets go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ryan_server.store import BackgroundStore, MessageRecord
from ryan_server.store.sqlite import SqliteStore

FAST_S = 0.05  # what "returns at once" means here, with room for a busy machine


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


@pytest.fixture
async def store(db: Path) -> AsyncIterator[BackgroundStore]:
    background = BackgroundStore(SqliteStore(db), path=db)
    yield background
    # A store that fell back to memory (the lock held past the busy timeout) would hide a failure.
    assert background.persistent
    await background.aclose()


@contextlib.contextmanager
def write_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Hold the database's write lock from another connection, as another editor window would."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
        conn.close()


def stored_count(db: Path) -> int:
    """Messages committed to the file, read from a connection of its own (WAL readers do not wait)."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        count: int = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        return count
    finally:
        conn.close()


async def test_a_read_sees_every_write_queued_before_it(store: BackgroundStore, db: Path) -> None:
    session = await store.create_session(workspace="/ws", title="t", model="m")
    answer = MessageRecord("assistant", "", status="streaming")
    with write_lock(db):
        for i in range(20):
            store.append_message(session.session_id, MessageRecord("user", f"m{i}"))
        store.append_message(session.session_id, answer)
        answer.content, answer.status = "done", "complete"
        store.update_message(answer)
        read = asyncio.create_task(store.messages(session.session_id))
        record = asyncio.create_task(store.get_session(session.session_id))
        await asyncio.sleep(0.1)
        assert not read.done()  # queued behind the writes, which wait for the lock
    messages = await read
    assert [m.content for m in messages] == [f"m{i}" for i in range(20)] + ["done"]
    assert messages[-1].status == "complete"
    got = await record
    assert got is not None and got.message_count == 21


async def test_an_update_right_after_its_append_updates_that_message(
    store: BackgroundStore, db: Path
) -> None:
    session = await store.create_session(workspace="/ws", title="t", model="m")
    other = MessageRecord("assistant", "other", status="streaming")
    store.append_message(session.session_id, other)
    await store.flush()
    answer = MessageRecord("assistant", "", status="streaming")
    with write_lock(db):
        store.append_message(session.session_id, answer)
        answer.content = "partial"
        store.update_message(answer)
        answer.content, answer.status = "whole answer", "complete"
        store.update_message(answer)
        assert answer.id is None  # not stored yet: the worker sets it once the append is done
    await store.flush()
    assert answer.id is not None and answer.id != other.id
    messages = await store.messages(session.session_id)
    assert [(m.id, m.content, m.status) for m in messages] == [
        (other.id, "other", "streaming"),
        (answer.id, "whole answer", "complete"),
    ]


async def test_a_record_is_stored_as_it_was_when_the_call_was_made(store: BackgroundStore, db: Path) -> None:
    session = await store.create_session(workspace="/ws", title="t", model="m")
    prompt = MessageRecord("user", "as sent")
    answer = MessageRecord("assistant", "first", status="streaming")
    with write_lock(db):
        store.append_message(session.session_id, prompt)
        prompt.content = "changed after append"
        store.append_message(session.session_id, answer)
        answer.content = "checkpoint"
        store.update_message(answer)
        answer.content, answer.status = "changed after update", "error"
        answer.tool_calls = [{"callId": "c1", "name": "x", "arguments": {}, "status": "ok"}]
    await store.flush()
    messages = await store.messages(session.session_id)
    assert [(m.content, m.status, m.tool_calls) for m in messages] == [
        ("as sent", "complete", None),
        ("checkpoint", "streaming", None),
    ]


async def test_writes_return_at_once_while_another_connection_holds_the_write_lock(
    store: BackgroundStore, db: Path
) -> None:
    session = await store.create_session(workspace="/ws", title="t", model="m")
    answer = MessageRecord("assistant", "", status="streaming")
    slowest = 0.0
    with write_lock(db):
        held = time.perf_counter()
        for i in range(10):
            started = time.perf_counter()
            if i == 0:
                store.append_message(session.session_id, answer)
            else:
                answer.content += f"part{i} "
                store.update_message(answer)
            slowest = max(slowest, time.perf_counter() - started)
            await asyncio.sleep(0.1)  # the loop keeps running meanwhile
        assert stored_count(db) == 0
        assert time.perf_counter() - held < 2.0  # ten 0.1 s sleeps: the loop was never stuck
    assert slowest < FAST_S, f"a write call took {slowest * 1000:.1f} ms"
    await store.flush()
    messages = await store.messages(session.session_id)
    assert len(messages) == 1
    assert messages[0].content == "".join(f"part{i} " for i in range(1, 10))
    assert messages[0].id == answer.id and answer.id is not None


async def test_aclose_finishes_the_queued_writes_first(db: Path) -> None:
    store = BackgroundStore(SqliteStore(db), path=db)
    session = await store.create_session(workspace="/ws", title="t", model="m")
    answer = MessageRecord("assistant", "", status="streaming")
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    for i in range(50):
        store.append_message(session.session_id, MessageRecord("user", f"m{i}"))
    store.append_message(session.session_id, answer)
    answer.content = "last checkpoint"
    store.update_message(answer)
    asyncio.get_running_loop().call_later(0.3, lock.execute, "COMMIT")  # while aclose() waits
    await store.aclose()
    lock.close()
    reopened = SqliteStore(db)
    try:
        messages = reopened.messages(session.session_id)
    finally:
        reopened.close()
    assert [m.content for m in messages] == [f"m{i}" for i in range(50)] + ["last checkpoint"]
    # close() ran after the writes: the answer it left streaming is marked interrupted.
    assert messages[-1].status == "interrupted"


async def test_a_failing_write_is_logged_not_raised(
    store: BackgroundStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="ryan_server.store.background")
    lost = MessageRecord("user", "to nowhere")
    store.append_message("no-such-session", lost)  # SqliteStore raises KeyError on the worker
    store.update_message(lost)  # its append failed: nothing to update, and no second error
    await store.flush()
    failures = [r for r in caplog.records if r.name == "ryan_server.store.background"]
    assert len(failures) == 1
    assert failures[0].levelno == logging.ERROR and "history write failed" in failures[0].getMessage()
    assert lost.id is None
    # The worker goes on with the next writes.
    session = await store.create_session(workspace="/ws", title="t", model="m")
    store.append_message(session.session_id, MessageRecord("user", "fine"))
    assert [m.content for m in await store.messages(session.session_id)] == ["fine"]
