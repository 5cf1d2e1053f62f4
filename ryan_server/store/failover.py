"""When the history file fails mid-session: what the store keeps to survive it, and the move to memory.

A `SqliteStore` that hits an I/O error, a full disk, a file made read-only or corrupted under it, does
not lose the conversation: `memory_copy` copies everything the file still reads into an in-memory
database, or, when it no longer reads, rebuilds there the sessions this process wrote to from the rows
`Kept` remembers. The store carries on in memory for the rest of the process and shows the user
`failure_warning` once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path

from .records import MessageRecord, SessionRecord
from .schema import (
    MESSAGE_COLUMNS,
    SCHEMA_VERSION,
    SESSION_COLUMNS,
    connect,
    message_from_row,
    migrate,
    session_from_row,
    tool_calls_json,
    write_transaction,
)


@dataclass
class _KeptSession:
    session: SessionRecord
    messages: dict[int, tuple[int, MessageRecord]] = field(default_factory=dict)  # id -> (seq, message)


class Kept:
    """What this process knows of the sessions it wrote to, to rebuild them if the file becomes unreadable.

    Holds copies of the records as stored; the store tells it of every write while the file works.
    Rebuilt rows are owned by `pid` / `started`, this process.
    """

    def __init__(self, pid: int, started: str | None) -> None:
        self._pid = pid
        self._started = started
        self._sessions: dict[str, _KeptSession] = {}
        self._ids: dict[int, str] = {}  # message id -> session id

    def created(self, record: SessionRecord) -> None:
        self._sessions[record.session_id] = _KeptSession(replace(record))

    def appended(
        self,
        conn: sqlite3.Connection,
        session_id: str,
        seq: int,
        message: MessageRecord,
        stamp: str,
        count: int,
    ) -> None:
        """`message` (with its id) was stored as `seq`; `stamp` and `count` are the session's now."""
        kept = self._sessions.get(session_id)
        if kept is None:
            # A session from before this process: remember its earlier turns too, so the live
            # conversation survives even if the file later becomes unreadable.
            kept = _load(conn, session_id)
            if kept is None:
                return
            self._sessions[session_id] = kept
            for message_id in kept.messages:
                self._ids[message_id] = session_id
        assert message.id is not None
        kept.messages[message.id] = (seq, replace(message))
        self._ids[message.id] = session_id
        kept.session.updated_at = stamp
        kept.session.message_count = count
        kept.session.head_id = message.id

    def updated(self, message: MessageRecord, stamp: str) -> None:
        """`message` was overwritten by id at `stamp`."""
        assert message.id is not None
        session_id = self._ids.get(message.id)
        if session_id is None:
            return
        kept = self._sessions[session_id]
        kept.messages[message.id] = (kept.messages[message.id][0], replace(message))
        kept.session.updated_at = stamp

    def titled(self, session_id: str, title: str) -> None:
        kept = self._sessions.get(session_id)
        if kept:
            kept.session.title = title

    def headed(self, session_id: str, message_id: int | None) -> None:
        kept = self._sessions.get(session_id)
        if kept:
            kept.session.head_id = message_id

    def deleted(self, session_id: str) -> None:
        kept = self._sessions.pop(session_id, None)
        if kept:
            for message_id in kept.messages:
                self._ids.pop(message_id, None)

    def clear(self) -> None:
        self._sessions.clear()
        self._ids.clear()

    def restore(self, conn: sqlite3.Connection) -> None:
        """Rebuild, in an empty database, the sessions this process wrote to, as it knows them."""
        with write_transaction(conn):
            for kept in self._sessions.values():
                s = kept.session
                conn.execute(
                    f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        s.session_id,
                        s.title,
                        s.model,
                        s.workspace,
                        s.created_at,
                        s.updated_at,
                        len(kept.messages),
                        s.head_id,
                    ),
                )
                for message_id, (seq, m) in kept.messages.items():
                    conn.execute(
                        "INSERT INTO messages (id, session_id, seq, role, content, thinking, tool_calls,"
                        " tool_name, tool_call_id, status, created_at, owner_pid, owner_started, parent_id)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            message_id,
                            s.session_id,
                            seq,
                            m.role,
                            m.content,
                            m.thinking,
                            tool_calls_json(m),
                            m.tool_name,
                            m.tool_call_id,
                            m.status,
                            m.created_at,
                            self._pid,
                            self._started,
                            m.parent_id,
                        ),
                    )


def _load(conn: sqlite3.Connection, session_id: str) -> _KeptSession | None:
    try:
        row = conn.execute(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            return None
        rows = conn.execute(
            f"SELECT seq, {MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq",
            (session_id,),
        ).fetchall()
    except sqlite3.Error:
        return None
    return _KeptSession(session_from_row(row), {r[1]: (r[0], message_from_row(r[1:])) for r in rows})


def memory_copy(conn: sqlite3.Connection, kept: Kept) -> sqlite3.Connection:
    """An in-memory database to carry on in: all that `conn` committed if it still reads, else `kept`."""
    memory = connect(":memory:")
    try:
        # Everything committed so far, other processes' sessions included, if the file still reads.
        conn.backup(memory)
        if memory.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("the copy is damaged")
        if memory.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            raise sqlite3.DatabaseError("the copy has no schema")
    except sqlite3.Error:
        memory.close()
        memory = connect(":memory:")
        migrate(memory)
        kept.restore(memory)
    return memory


def describe(exc: BaseException) -> str:
    """The reason an error gives, for a message to the user."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def failure_warning(path: Path, exc: BaseException) -> str:
    """What the user is told once after the file at `path` failed with `exc`."""
    return (
        f"Ryan could not write its history to {path} ({describe(exc)}). "
        "History is kept in memory and will not be saved for the rest of this session."
    )
