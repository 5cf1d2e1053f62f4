"""An older history file is brought up to date: version 1 (no branches, no checkpoints) opens as a
version 2 file whose sessions keep their order and go on where they ended."""

from __future__ import annotations

from pathlib import Path

from ryan_server.store import MessageRecord
from ryan_server.store.schema import SCHEMA_VERSION, _migrate_0_to_1, connect
from ryan_server.store.sqlite import SqliteStore


def _version_1_file(path: Path) -> None:
    conn = connect(str(path))
    _migrate_0_to_1(conn)
    conn.execute("PRAGMA user_version = 1")
    stamp = "2025-01-01T00:00:00Z"
    conn.execute("INSERT INTO sessions VALUES ('s1', 'old chat', 'm', '/w', ?, ?, 3)", (stamp, stamp))
    for seq, (role, content) in enumerate([("user", "hi"), ("assistant", "hello"), ("user", "bye")], start=1):
        conn.execute(
            "INSERT INTO messages (session_id, seq, role, content, status, created_at)"
            " VALUES ('s1', ?, ?, ?, 'complete', '2025-01-01T00:00:00Z')",
            (seq, role, content),
        )
    conn.close()


def test_a_version_1_file_migrates_and_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    _version_1_file(path)
    store = SqliteStore(path)
    try:
        assert [(m.role, m.content) for m in store.messages("s1")] == [
            ("user", "hi"),
            ("assistant", "hello"),
            ("user", "bye"),
        ]
        head, every = store.tree("s1")
        assert head == every[-1].id
        assert [m.parent_id for m in every] == [None, every[0].id, every[1].id]
        store.append_message("s1", MessageRecord(role="assistant", content="see you"))
        assert [m.content for m in store.messages("s1")][-2:] == ["bye", "see you"]
        assert store.run(lambda conn: conn.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION
    finally:
        store.close()


def test_a_new_head_starts_a_branch(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "history.sqlite3")
    try:
        session = store.create_session(workspace="/w", title="t", model="m")
        first = store.append_message(session.session_id, MessageRecord(role="user", content="q"))
        store.append_message(session.session_id, MessageRecord(role="assistant", content="a1"))
        store.set_head(session.session_id, first)
        store.append_message(session.session_id, MessageRecord(role="assistant", content="a2"))
        assert [m.content for m in store.messages(session.session_id)] == ["q", "a2"]
        assert len(store.tree(session.session_id)[1]) == 3
    finally:
        store.close()
