"""Every `Store` method, with the same assertions, against `MemoryStore` and `SqliteStore`."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ryan_server.store import MemoryStore, MessageRecord, SessionRecord, Store
from ryan_server.store.sqlite import SqliteStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "history.sqlite3")
    yield made
    # A file store that quietly fell back to memory would pass every test here; it must not have.
    assert made.persistent == (request.param == "sqlite")  # type: ignore[attr-defined]
    made.close()


def tick() -> None:
    """Timestamps have millisecond resolution: let one pass so orderings are strict."""
    time.sleep(0.003)


def test_create_session_returns_a_fresh_record(store: Store) -> None:
    record = store.create_session(workspace="/ws", title="Hello", model="llama3")
    assert isinstance(record, SessionRecord)
    assert record.title == "Hello"
    assert record.model == "llama3"
    assert record.workspace == "/ws"
    assert record.message_count == 0
    assert record.created_at == record.updated_at
    assert record.created_at.endswith("Z")
    other = store.create_session(workspace="/ws", title="Hello", model="llama3")
    assert other.session_id != record.session_id


def test_get_session(store: Store) -> None:
    record = store.create_session(workspace="/ws", title="t", model="m")
    assert store.get_session(record.session_id) == record
    assert store.get_session("no-such-session") is None


def test_returned_records_are_copies(store: Store) -> None:
    record = store.create_session(workspace="/ws", title="t", model="m")
    record.title = "changed by the caller"
    fetched = store.get_session(record.session_id)
    assert fetched is not None and fetched.title == "t"
    fetched.title = "changed again"
    assert store.list_sessions("/ws")[0].title == "t"
    message = MessageRecord("user", "hi")
    store.append_message(record.session_id, message)
    message.content = "changed after append"
    got = store.messages(record.session_id)
    got[0].content = "changed after read"
    assert store.messages(record.session_id)[0].content == "hi"


def test_list_sessions_is_scoped_to_the_workspace(store: Store) -> None:
    a = store.create_session(workspace="/a", title="a", model="m")
    b = store.create_session(workspace="/b", title="b", model="m")
    assert [s.session_id for s in store.list_sessions("/a")] == [a.session_id]
    assert [s.session_id for s in store.list_sessions("/b")] == [b.session_id]
    assert store.list_sessions("/c") == []
    assert store.list_sessions("/A") == []


def test_list_sessions_newest_first_by_update(store: Store) -> None:
    first = store.create_session(workspace="/ws", title="first", model="m")
    tick()
    second = store.create_session(workspace="/ws", title="second", model="m")
    tick()
    third = store.create_session(workspace="/ws", title="third", model="m")
    assert [s.title for s in store.list_sessions("/ws")] == ["third", "second", "first"]
    tick()
    store.append_message(first.session_id, MessageRecord("user", "back to the first"))
    assert [s.title for s in store.list_sessions("/ws")] == ["first", "third", "second"]
    tick()
    message = MessageRecord("user", "x")
    store.append_message(second.session_id, message)
    tick()
    store.append_message(third.session_id, MessageRecord("user", "y"))
    tick()
    message.content = "edited"
    store.update_message(message)
    assert [s.title for s in store.list_sessions("/ws")] == ["second", "third", "first"]
    listed = store.list_sessions("/ws")
    assert listed[0] == store.get_session(second.session_id)
    assert [s.message_count for s in listed] == [1, 1, 1]


def test_append_message_assigns_ids_and_counts(store: Store) -> None:
    session = store.create_session(workspace="/ws", title="t", model="m")
    tick()
    first = MessageRecord("user", "one")
    first_id = store.append_message(session.session_id, first)
    second = MessageRecord("assistant", "two")
    second_id = store.append_message(session.session_id, second)
    assert first.id == first_id and second.id == second_id
    assert isinstance(first_id, int) and second_id > first_id
    fetched = store.get_session(session.session_id)
    assert fetched is not None
    assert fetched.message_count == 2
    assert fetched.updated_at > session.updated_at
    assert fetched.created_at == session.created_at


def test_append_to_an_unknown_session_raises_key_error(store: Store) -> None:
    with pytest.raises(KeyError):
        store.append_message("no-such-session", MessageRecord("user", "hi"))


def test_messages_round_trip_every_field_in_order(store: Store) -> None:
    session = store.create_session(workspace="/ws", title="t", model="m")
    calls = [
        {"callId": "c1", "name": "read_file", "arguments": {"path": "a.py", "n": [1, 2]}, "status": "ok"}
    ]
    sent = [
        MessageRecord("user", "read a.py please — ünïcødé ✓"),
        MessageRecord("assistant", "", thinking="I should read it", tool_calls=calls),
        MessageRecord("tool", "1: print()", tool_name="read_file", tool_call_id="c1"),
        MessageRecord("assistant", "It prints.", status="interrupted", created_at="2024-01-02T03:04:05.678Z"),
        MessageRecord("assistant", "", status="error"),
    ]
    for message in sent:
        store.append_message(session.session_id, message)
    got = store.messages(session.session_id)
    assert got == sent
    assert [dataclasses.asdict(m) for m in got] == [dataclasses.asdict(m) for m in sent]
    assert got[1].tool_calls == calls and got[0].thinking is None and got[0].tool_calls is None
    assert store.messages("no-such-session") == []


def test_messages_are_per_session(store: Store) -> None:
    a = store.create_session(workspace="/ws", title="a", model="m")
    b = store.create_session(workspace="/ws", title="b", model="m")
    store.append_message(a.session_id, MessageRecord("user", "a1"))
    store.append_message(b.session_id, MessageRecord("user", "b1"))
    store.append_message(a.session_id, MessageRecord("user", "a2"))
    assert [m.content for m in store.messages(a.session_id)] == ["a1", "a2"]
    assert [m.content for m in store.messages(b.session_id)] == ["b1"]


def test_update_message_overwrites_a_streaming_answer(store: Store) -> None:
    session = store.create_session(workspace="/ws", title="t", model="m")
    store.append_message(session.session_id, MessageRecord("user", "q"))
    answer = MessageRecord("assistant", "par", status="streaming")
    store.append_message(session.session_id, answer)
    assert store.messages(session.session_id)[1].status == "streaming"
    before = store.get_session(session.session_id)
    tick()
    answer.content = "partial answ"
    answer.thinking = "thought"
    store.update_message(answer)
    assert store.messages(session.session_id)[1] == answer
    answer.content = "partial answer, done"
    answer.status = "complete"
    answer.tool_calls = [{"callId": "c", "name": "list_files", "arguments": {}, "status": "denied"}]
    store.update_message(answer)
    got = store.messages(session.session_id)
    assert got[1] == answer
    assert got[0].content == "q"
    after = store.get_session(session.session_id)
    assert before is not None and after is not None
    assert after.message_count == 2
    assert after.updated_at > before.updated_at


def test_update_of_an_unknown_message_is_ignored(store: Store) -> None:
    session = store.create_session(workspace="/ws", title="t", model="m")
    store.append_message(session.session_id, MessageRecord("user", "q"))
    before = store.get_session(session.session_id)
    store.update_message(MessageRecord("assistant", "ghost", id=999_999))
    assert store.get_session(session.session_id) == before
    assert [m.content for m in store.messages(session.session_id)] == ["q"]


def test_delete_session_removes_it_and_its_messages(store: Store) -> None:
    doomed = store.create_session(workspace="/ws", title="doomed", model="m")
    kept = store.create_session(workspace="/ws", title="kept", model="m")
    message = MessageRecord("user", "bye")
    store.append_message(doomed.session_id, message)
    store.append_message(kept.session_id, MessageRecord("user", "stay"))
    assert store.delete_session(doomed.session_id) is True
    assert store.get_session(doomed.session_id) is None
    assert store.messages(doomed.session_id) == []
    assert [s.title for s in store.list_sessions("/ws")] == ["kept"]
    assert store.delete_session(doomed.session_id) is False
    assert store.delete_session("never-existed") is False
    # Updating a message of a deleted session neither fails nor brings it back.
    store.update_message(dataclasses.replace(message, content="late"))
    assert store.get_session(doomed.session_id) is None
    assert [m.content for m in store.messages(kept.session_id)] == ["stay"]
    with pytest.raises(KeyError):
        store.append_message(doomed.session_id, MessageRecord("user", "too late"))


def test_threads_share_one_store(store: Store) -> None:
    session = store.create_session(workspace="/ws", title="t", model="m")
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                message = MessageRecord("user", f"{n}-{i}", status="streaming")
                store.append_message(session.session_id, message)
                message.status = "complete"
                store.update_message(message)
                store.messages(session.session_id)
                store.list_sessions("/ws")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    got = store.messages(session.session_id)
    assert len(got) == 150 and all(m.status == "complete" for m in got)
    for n in range(6):
        assert [m.content for m in got if m.content.startswith(f"{n}-")] == [f"{n}-{i}" for i in range(25)]
    fetched = store.get_session(session.session_id)
    assert fetched is not None and fetched.message_count == 150
