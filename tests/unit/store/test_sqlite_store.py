"""What only the SQLite store does: persistence, schema, crash recovery, failures, several processes.

Other processes are real ones (`store_child.py`): killed with SIGKILL, or appending at the same time.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ryan_server.store.schema as schema
from ryan_server.store import MemoryStore, MessageRecord
from ryan_server.store.owners import process_started
from ryan_server.store.sqlite import SCHEMA_VERSION, SqliteStore, default_history_path, open_store

CHILD = Path(__file__).with_name("store_child.py")
REPO = Path(__file__).resolve().parents[3]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")


def child(*args: str, stdout: int | None = subprocess.PIPE) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=stdout, text=True, env=env)


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


# --- persistence and schema ---------------------------------------------------------------------------


def test_everything_survives_close_and_reopen(db: Path) -> None:
    store = SqliteStore(db)
    session = store.create_session(workspace="/ws", title="Hello", model="llama3")
    calls = [{"callId": "c1", "name": "read_file", "arguments": {"path": "x"}, "status": "ok"}]
    sent = [
        MessageRecord("user", "hi"),
        MessageRecord("assistant", "", thinking="hm", tool_calls=calls),
        MessageRecord("tool", "text", tool_name="read_file", tool_call_id="c1"),
        MessageRecord("assistant", "done"),
    ]
    for message in sent:
        store.append_message(session.session_id, message)
    listed = store.list_sessions("/ws")
    store.close()
    store.close()  # twice is harmless

    reopened = SqliteStore(db)
    assert reopened.list_sessions("/ws") == listed
    assert reopened.get_session(session.session_id) == listed[0]
    assert listed[0].message_count == 4
    assert reopened.messages(session.session_id) == sent
    later = MessageRecord("user", "and then?")
    reopened.append_message(session.session_id, later)
    assert later.id is not None and sent[-1].id is not None and later.id > sent[-1].id
    reopened.close()


def test_ids_are_not_reused_after_a_delete(db: Path) -> None:
    store = SqliteStore(db)
    session = store.create_session(workspace="/ws", title="t", model="m")
    first = store.append_message(session.session_id, MessageRecord("user", "a"))
    store.delete_session(session.session_id)
    store.close()
    store = SqliteStore(db)
    session = store.create_session(workspace="/ws", title="t", model="m")
    assert store.append_message(session.session_id, MessageRecord("user", "b")) > first
    store.close()


def test_file_settings_and_schema(db: Path) -> None:
    store = SqliteStore(db)
    store.close()
    conn = raw(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sessions", "messages"} <= tables
    columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    assert {"id", "session_id", "seq", "role", "content", "thinking", "tool_calls", "tool_name"} <= columns
    assert {"tool_call_id", "status", "created_at", "owner_pid"} <= columns
    foreign = conn.execute("PRAGMA foreign_key_list(messages)").fetchall()
    assert [(row[2], row[3], row[6]) for row in foreign] == [("sessions", "session_id", "CASCADE")]
    conn.close()


def test_the_queries_the_server_makes_use_indexes(db: Path) -> None:
    SqliteStore(db).close()
    conn = raw(db)
    plan = " ".join(
        str(row[3])
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM sessions WHERE workspace = ? ORDER BY updated_at DESC, rowid",
            ("/ws",),
        )
    )
    assert "sessions_by_workspace" in plan and "TEMP B-TREE" not in plan
    plan = " ".join(
        str(row[3])
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE session_id = ? ORDER BY seq", ("s",)
        )
    )
    assert "messages_by_session" in plan and "TEMP B-TREE" not in plan
    conn.close()


def test_busy_timeout_and_foreign_keys_are_on(db: Path) -> None:
    store = SqliteStore(db)
    conn = store._conn
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()


def test_migration_steps_run_in_order_from_the_files_version(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore(db)
    session = store.create_session(workspace="/ws", title="old", model="m")
    store.close()

    def to_v2(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sessions ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, to_v2])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    store = SqliteStore(db)
    assert store.get_session(session.session_id) is not None
    store.close()
    conn = raw(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert "pinned" in {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    conn.close()


def test_a_database_from_a_newer_ryan_is_not_touched(db: Path) -> None:
    SqliteStore(db).close()
    conn = raw(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    store, warning = open_store(db)
    assert isinstance(store, MemoryStore)
    assert warning is not None and str(db) in warning and "newer" in warning
    conn = raw(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
    conn.close()


# --- where the file lives -----------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_DATA_HOME is the Linux convention")
def test_default_path_is_in_the_user_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RYAN_HISTORY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_history_path() == tmp_path / "data" / "ryan" / "history.sqlite3"
    store, warning = open_store(None)
    assert warning is None and isinstance(store, SqliteStore)
    assert store.path == tmp_path / "data" / "ryan" / "history.sqlite3"
    store.close()
    assert (tmp_path / "data" / "ryan" / "history.sqlite3").is_file()


def test_env_overrides_the_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RYAN_HISTORY", str(tmp_path / "elsewhere" / "h.db"))
    assert default_history_path() == tmp_path / "elsewhere" / "h.db"
    store, warning = open_store(None)
    assert warning is None and isinstance(store, SqliteStore)
    store.close()
    assert (tmp_path / "elsewhere" / "h.db").is_file()
    # An explicit path (the historyPath setting) wins over the environment.
    store, _ = open_store(tmp_path / "explicit.db")
    assert isinstance(store, SqliteStore) and store.path == tmp_path / "explicit.db"
    store.close()


# --- files that cannot be used at open ----------------------------------------------------------------


def assert_fell_back(path: Path, *reasons: str) -> None:
    store, warning = open_store(path)
    assert isinstance(store, MemoryStore)
    assert warning is not None
    assert str(path) in warning
    assert "will not be saved" in warning
    assert any(reason in warning for reason in reasons), warning
    session = store.create_session(workspace="/ws", title="t", model="m")
    store.append_message(session.session_id, MessageRecord("user", "still works"))
    assert len(store.messages(session.session_id)) == 1


def test_corrupt_file_falls_back_to_memory(db: Path) -> None:
    db.write_bytes(os.urandom(64 * 1024))
    assert_fell_back(db, "not a database")
    assert db.stat().st_size == 64 * 1024


def test_folder_that_cannot_be_made_falls_back_to_memory(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("not a folder")
    assert_fell_back(tmp_path / "a_file" / "history.sqlite3", "a_file is not a folder")
    assert_fell_back(tmp_path / "a_file" / "deeper" / "history.sqlite3", "not a directory")


def test_path_that_is_a_folder_falls_back_to_memory(tmp_path: Path) -> None:
    (tmp_path / "history.sqlite3").mkdir()
    assert_fell_back(tmp_path / "history.sqlite3", "unable to open")


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """Act as an ordinary user: root ignores file permissions, so drop to `nobody` for the block."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    # pytest's tmp_path is private to root (0700); this folder must be reachable as `nobody`.
    folder = Path(tempfile.mkdtemp(prefix="ryan-store-"))
    folder.chmod(0o755)
    yield folder
    for item in folder.iterdir():
        item.chmod(0o644)
        item.unlink()
    folder.rmdir()


@posix_only
def test_read_only_file_falls_back_to_memory(shared_folder: Path) -> None:
    path = shared_folder / "history.sqlite3"
    store = SqliteStore(path)
    store.create_session(workspace="/ws", title="t", model="m")
    store.close()
    path.chmod(0o444)
    before = path.read_bytes()
    with unprivileged():
        assert_fell_back(path, "no permission to write it")
    assert path.read_bytes() == before


@posix_only
def test_unreadable_file_falls_back_to_memory(shared_folder: Path) -> None:
    path = shared_folder / "history.sqlite3"
    SqliteStore(path).close()
    path.chmod(0o000)
    with unprivileged():
        assert_fell_back(path, "no permission to read it")


@posix_only
def test_read_only_folder_for_a_new_file_falls_back_to_memory(shared_folder: Path) -> None:
    with unprivileged():
        assert_fell_back(shared_folder / "history.sqlite3", "no permission to create files in")


# --- failures after open ------------------------------------------------------------------------------


def test_file_overwritten_mid_session_keeps_the_live_session(db: Path) -> None:
    other = SqliteStore(db)
    other.create_session(workspace="/ws", title="another window's", model="m")
    other.close()
    store = SqliteStore(db)
    old = store.create_session(workspace="/ws", title="earlier", model="m")
    store.append_message(old.session_id, MessageRecord("user", "earlier question"))
    live = store.create_session(workspace="/ws", title="live", model="m")
    store.append_message(live.session_id, MessageRecord("user", "q1"))
    answer = MessageRecord("assistant", "a1", status="streaming")
    store.append_message(live.session_id, answer)
    # Everything into the main file, then another program scribbles over all of it.
    conn = raw(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    db.write_bytes(os.urandom(db.stat().st_size))

    answer.content = "a1, finished"
    answer.status = "complete"
    store.update_message(answer)  # must not raise
    assert store.persistent is False
    warning = store.take_warning()
    assert warning is not None and str(db) in warning and "memory" in warning
    assert store.take_warning() is None
    assert [(m.content, m.status) for m in store.messages(live.session_id)] == [
        ("q1", "complete"),
        ("a1, finished", "complete"),
    ]
    # The sessions this process wrote to are all there; the file could not be read for the others.
    assert [s.title for s in store.list_sessions("/ws")] == ["live", "earlier"]
    assert [m.content for m in store.messages(old.session_id)] == ["earlier question"]
    follow_up = MessageRecord("user", "q2")
    store.append_message(live.session_id, follow_up)
    assert follow_up.id is not None and answer.id is not None and follow_up.id > answer.id
    fetched = store.get_session(live.session_id)
    assert fetched is not None and fetched.message_count == 3
    time.sleep(0.003)
    new = store.create_session(workspace="/ws", title="new", model="m")
    assert store.list_sessions("/ws")[0].session_id == new.session_id
    assert store.delete_session(old.session_id)
    store.close()


def test_continued_old_session_survives_the_file_going_bad(db: Path) -> None:
    store = SqliteStore(db)
    session = store.create_session(workspace="/ws", title="yesterday", model="m")
    store.append_message(session.session_id, MessageRecord("user", "old q"))
    store.append_message(session.session_id, MessageRecord("assistant", "old a"))
    store.close()
    store = SqliteStore(db)
    store.append_message(session.session_id, MessageRecord("user", "and then?"))
    conn = raw(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    db.write_bytes(os.urandom(db.stat().st_size))
    store.append_message(session.session_id, MessageRecord("assistant", "then this"))
    assert store.persistent is False and store.take_warning() is not None
    assert [m.content for m in store.messages(session.session_id)] == [
        "old q",
        "old a",
        "and then?",
        "then this",
    ]
    store.close()


@posix_only
def test_disk_full_mid_session_keeps_everything(db: Path) -> None:
    earlier = SqliteStore(db)
    earlier.create_session(workspace="/ws", title="older", model="m")
    earlier.close()
    proc = child("fill", str(db))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    report = json.loads(out)
    assert report["errors"] == []
    assert report["persistent"] is False
    assert str(db) in report["warning"] and "will not be saved" in report["warning"]
    assert report["warning_again"] is None
    assert report["messages"] == ["before-0", "before-1", "before-2", "yyyyyyyy", "after"]
    # The file was still readable, so the memory copy has the other sessions too.
    assert report["sessions"] == ["live", "older"]
    # And the file holds what was committed before the disk filled up, intact.
    conn = raw(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r[0] for r in conn.execute("SELECT content FROM messages ORDER BY id")] == [
        "before-0",
        "before-1",
        "before-2",
    ]
    conn.close()


# --- crash recovery -----------------------------------------------------------------------------------


def start_streaming_child(db: Path) -> tuple[subprocess.Popen[str], str]:
    proc = child("stream", str(db))
    assert proc.stdout is not None
    session_id = proc.stdout.readline().strip()
    assert session_id, "the child did not start"
    return proc, session_id


@posix_only
def test_answer_of_a_killed_server_is_marked_interrupted(db: Path) -> None:
    proc, session_id = start_streaming_child(db)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    conn = raw(db)
    assert conn.execute("SELECT status FROM messages WHERE role = 'assistant'").fetchone()[0] == "streaming"
    conn.close()

    store = SqliteStore(db)
    messages = store.messages(session_id)
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "tell me", "complete"),
        ("assistant", "checkpointed text", "interrupted"),
    ]
    assert messages[1].thinking == "hmm"
    store.close()


@posix_only
def test_a_live_servers_streaming_answer_is_left_alone(db: Path) -> None:
    proc, session_id = start_streaming_child(db)
    try:
        store = SqliteStore(db)
        assert [m.status for m in store.messages(session_id)] == ["complete", "streaming"]
        store.close()
        store = SqliteStore(db)
        assert [m.status for m in store.messages(session_id)] == ["complete", "streaming"]
        store.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)
    store = SqliteStore(db)
    assert [m.status for m in store.messages(session_id)] == ["complete", "interrupted"]
    store.close()


@posix_only
def test_a_killed_but_unreaped_server_counts_as_gone(db: Path) -> None:
    proc, session_id = start_streaming_child(db)
    proc.send_signal(signal.SIGKILL)
    time.sleep(0.2)  # a zombie until waited for: os.kill(pid, 0) still succeeds
    try:
        store = SqliteStore(db)
        assert [m.status for m in store.messages(session_id)] == ["complete", "interrupted"]
        store.close()
    finally:
        proc.wait(timeout=10)


def insert_streaming_row(db: Path, owner_pid: int | None, owner_started: str | None) -> int:
    store = SqliteStore(db)
    session = store.create_session(workspace="/ws", title="t", model="m")
    message_id = store.append_message(session.session_id, MessageRecord("assistant", "x", status="streaming"))
    store._streaming.clear()  # as if this process were still streaming it, so close() leaves it
    store.close()
    conn = raw(db)
    conn.execute(
        "UPDATE messages SET owner_pid = ?, owner_started = ? WHERE id = ?",
        (owner_pid, owner_started, message_id),
    )
    conn.close()
    return message_id


def status_of(db: Path, message_id: int) -> str:
    conn = raw(db)
    status: str = conn.execute("SELECT status FROM messages WHERE id = ?", (message_id,)).fetchone()[0]
    conn.close()
    return status


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_reused_pid_does_not_keep_a_dead_answer_streaming(db: Path) -> None:
    # The pid is alive (it is ours) but belongs to a process started at another time.
    message_id = insert_streaming_row(db, os.getpid(), "another-boot:12345")
    SqliteStore(db).close()
    assert status_of(db, message_id) == "interrupted"


def test_this_process_is_a_live_owner(db: Path) -> None:
    message_id = insert_streaming_row(db, os.getpid(), process_started(os.getpid()))
    SqliteStore(db).close()
    assert status_of(db, message_id) == "streaming"


def test_an_answer_without_owner_is_interrupted(db: Path) -> None:
    message_id = insert_streaming_row(db, None, None)
    SqliteStore(db).close()
    assert status_of(db, message_id) == "interrupted"


def test_close_marks_this_stores_unfinished_answers(db: Path) -> None:
    store = SqliteStore(db)
    session = store.create_session(workspace="/ws", title="t", model="m")
    done = MessageRecord("assistant", "done", status="streaming")
    store.append_message(session.session_id, done)
    done.status = "complete"
    store.update_message(done)
    unfinished = MessageRecord("assistant", "half", status="streaming")
    store.append_message(session.session_id, unfinished)
    unfinished.content = "half an answ"
    store.update_message(unfinished)
    store.close()
    store = SqliteStore(db)
    assert [(m.content, m.status) for m in store.messages(session.session_id)] == [
        ("done", "complete"),
        ("half an answ", "interrupted"),
    ]
    store.close()


# --- several processes --------------------------------------------------------------------------------


@posix_only
def test_two_processes_appending_to_one_session_lose_nothing(db: Path, tmp_path: Path) -> None:
    store = SqliteStore(db)
    session = store.create_session(workspace="/ws", title="shared", model="m")
    store.close()
    go = tmp_path / "go"
    procs = [child("append", str(db), session.session_id, tag, "200", str(go), stdout=None) for tag in "ab"]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.{tag}").exists() for tag in "ab"):  # both open: start them together
        assert time.monotonic() < deadline and all(proc.poll() is None for proc in procs)
        time.sleep(0.01)
    go.touch()
    for proc in procs:
        assert proc.wait(timeout=120) == 0

    conn = raw(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    rows = conn.execute("SELECT seq, id FROM messages ORDER BY seq").fetchall()
    conn.close()
    assert [seq for seq, _ in rows] == list(range(1, 401))
    # The order is the order of commits: ids rise with it.
    assert [message_id for _, message_id in rows] == sorted(message_id for _, message_id in rows)

    store = SqliteStore(db)
    contents = [m.content for m in store.messages(session.session_id)]
    fetched = store.get_session(session.session_id)
    store.close()
    assert len(contents) == 400 and fetched is not None and fetched.message_count == 400
    for tag in "ab":
        assert [c for c in contents if c.startswith(f"{tag}-")] == [f"{tag}-{i}" for i in range(200)]
    # They did write at the same time (each pauses a little between appends).
    assert sum(1 for before, after in itertools.pairwise(contents) if before[0] != after[0]) > 2


def test_a_second_store_sees_the_firsts_writes(db: Path) -> None:
    first = SqliteStore(db)
    second = SqliteStore(db)
    session = first.create_session(workspace="/ws", title="t", model="m")
    first.append_message(session.session_id, MessageRecord("user", "from first"))
    second.append_message(session.session_id, MessageRecord("assistant", "from second"))
    assert [m.content for m in first.messages(session.session_id)] == ["from first", "from second"]
    fetched = second.get_session(session.session_id)
    assert fetched is not None and fetched.message_count == 2
    first.close()
    second.close()
