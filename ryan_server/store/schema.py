"""The history file's layout and how to talk to it: tables, migrations, connections, rows to records.

A database's `PRAGMA user_version` is its schema version; `migrate` brings an older file up to
`SCHEMA_VERSION` one step at a time and refuses a newer one (`UnusableDatabase`). Every connection is
made by `connect` (busy timeout, foreign keys, no implicit transactions) and every write runs inside
`write_transaction` (`BEGIN IMMEDIATE`), so several processes can share the file.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

from .records import MessageRecord, SessionRecord

STREAMING = "streaming"  # protocol.MessageStatus values, spelled here to keep chat/ free of the wire module
INTERRUPTED = "interrupted"

BUSY_TIMEOUT_S = 5.0

SESSION_COLUMNS = "id, title, model, workspace, created_at, updated_at, message_count, head_id"
MESSAGE_COLUMNS = (
    "id, role, content, thinking, tool_calls, tool_name, tool_call_id, status, created_at, parent_id"
)


def _migrate_0_to_1(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE sessions (
            id            TEXT PRIMARY KEY,
            title         TEXT NOT NULL,
            model         TEXT NOT NULL,
            workspace     TEXT NOT NULL,
            created_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL,
            message_count INTEGER NOT NULL DEFAULT 0
        )"""
    )
    # Serves list_sessions(workspace) newest first straight from the index (rowid breaks ties).
    conn.execute("CREATE INDEX sessions_by_workspace ON sessions (workspace, updated_at DESC)")
    conn.execute(
        """CREATE TABLE messages (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id    TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            seq           INTEGER NOT NULL,
            role          TEXT NOT NULL,
            content       TEXT NOT NULL,
            thinking      TEXT,
            tool_calls    TEXT,
            tool_name     TEXT,
            tool_call_id  TEXT,
            status        TEXT NOT NULL,
            created_at    TEXT NOT NULL,
            owner_pid     INTEGER,
            owner_started TEXT
        )"""
    )
    # Order within a session, and the index the ON DELETE CASCADE and messages(session_id) use.
    conn.execute("CREATE UNIQUE INDEX messages_by_session ON messages (session_id, seq)")
    # Only the few rows still streaming, for crash recovery at open.
    conn.execute("CREATE INDEX messages_streaming ON messages (owner_pid) WHERE status = 'streaming'")


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Branches (each message follows its parent; a session's head is the leaf of its active branch)
    and checkpoints (what a chat's writes replaced, and the restores that can be redone)."""
    conn.execute("ALTER TABLE messages ADD COLUMN parent_id INTEGER")
    conn.execute(
        """UPDATE messages SET parent_id = (
            SELECT m.id FROM messages m WHERE m.session_id = messages.session_id AND m.seq < messages.seq
            ORDER BY m.seq DESC LIMIT 1)"""
    )
    conn.execute("ALTER TABLE sessions ADD COLUMN head_id INTEGER")
    conn.execute(
        "UPDATE sessions SET head_id = (SELECT id FROM messages WHERE session_id = sessions.id"
        " ORDER BY seq DESC LIMIT 1)"
    )
    conn.execute(
        """CREATE TABLE checkpoints (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )
    # before/after NULL: the file did not exist (before the chat / after it).
    conn.execute(
        """CREATE TABLE checkpoint_files (
            checkpoint_id INTEGER NOT NULL REFERENCES checkpoints (id) ON DELETE CASCADE,
            path          TEXT NOT NULL,
            before        TEXT,
            after         TEXT,
            PRIMARY KEY (checkpoint_id, path)
        )"""
    )
    # state: active (undone, can be redone), final (undone; a later chat's writes ended its redo),
    # redone. It covers the checkpoints from checkpoint_id to last_checkpoint_id.
    conn.execute(
        """CREATE TABLE restores (
            id                 INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id         TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            checkpoint_id      INTEGER NOT NULL,
            last_checkpoint_id INTEGER NOT NULL,
            state              TEXT NOT NULL,
            created_at         TEXT NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE restore_files (
            restore_id INTEGER NOT NULL REFERENCES restores (id) ON DELETE CASCADE,
            path       TEXT NOT NULL,
            replaced   TEXT,
            restored   TEXT,
            PRIMARY KEY (restore_id, path)
        )"""
    )
    # What Ryan last left in each file (a chat's write, a restore, a redo): a file that differs was
    # changed since by someone else, and a restore asks before overwriting it.
    conn.execute(
        """CREATE TABLE last_written (
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            path       TEXT NOT NULL,
            content    TEXT,
            PRIMARY KEY (session_id, path)
        )"""
    )


# Step i takes the schema from version i to i + 1. A new version is one more function here.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_0_to_1, _migrate_1_to_2]
SCHEMA_VERSION = len(MIGRATIONS)


class UnusableDatabase(Exception):
    """The file is a database this version cannot use (made by a newer Ryan)."""


def connect(target: str) -> sqlite3.Connection:
    """A connection to the file `target` (or ":memory:") set up as every history connection is."""
    # isolation_level=None: no implicit transactions; every write opens BEGIN IMMEDIATE itself.
    conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then writes
    # cannot wait out another process's write (SQLITE_BUSY is returned without the busy timeout).
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database to `SCHEMA_VERSION`; raises `UnusableDatabase` for a newer one."""
    with write_transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UnusableDatabase(
                f"its schema version {version} is newer than this Ryan understands ({SCHEMA_VERSION})"
            )
        for step in MIGRATIONS[version:]:
            step(conn)
        if version != SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


# --- rows and records ---------------------------------------------------------------------------------


def session_from_row(row: tuple[Any, ...]) -> SessionRecord:
    """A record from a row of `SESSION_COLUMNS`."""
    return SessionRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


def message_from_row(row: tuple[Any, ...]) -> MessageRecord:
    """A record from a row of `MESSAGE_COLUMNS`."""
    return MessageRecord(
        role=row[1],
        content=row[2],
        thinking=row[3],
        tool_calls=json.loads(row[4]) if row[4] is not None else None,
        tool_name=row[5],
        tool_call_id=row[6],
        status=row[7],
        created_at=row[8],
        id=row[0],
        parent_id=row[9],
    )


def tool_calls_json(message: MessageRecord) -> str | None:
    return json.dumps(message.tool_calls, ensure_ascii=False) if message.tool_calls is not None else None
