"""Session history in one SQLite file per user, behind the same `Store` protocol as `MemoryStore`.

`open_store` is the entry point the server uses: it never raises for a database it cannot use (corrupt,
unreadable, read-only, a folder it cannot create) but hands back a `MemoryStore` and a message for the
user. Once open, a `SqliteStore` survives the database failing under it (disk full, file corrupted or
made unwritable mid-session): it moves its history into memory (failover.py), carries on there for the
rest of the process, and leaves a one-time warning for the server to show (`take_warning()`).

Concurrency: one connection (`check_same_thread=False`) guarded by a lock serves every thread; WAL mode
and `BEGIN IMMEDIATE` write transactions (schema.py) let several servers (editor windows) share the
file. Each call commits on its own. The engine calls it from one worker thread (background.py).

Crash recovery (owners.py): a streaming answer is stored with status "streaming" and the identity of
the process writing it; on open, such rows whose owner process is gone are marked "interrupted".
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from .failover import Kept, describe, failure_warning, memory_copy
from .owners import process_started, recover
from .records import MessageRecord, SessionRecord, Store, active_branch, new_session_id, now_iso
from .schema import (
    INTERRUPTED,
    MESSAGE_COLUMNS,
    SCHEMA_VERSION,
    SESSION_COLUMNS,
    STREAMING,
    UnusableDatabase,
    connect,
    message_from_row,
    migrate,
    session_from_row,
    tool_calls_json,
    write_transaction,
)

__all__ = ["SCHEMA_VERSION", "SqliteStore", "default_history_path", "open_store"]

_T = TypeVar("_T")


class SqliteStore:
    """A `Store` on an SQLite file. Construct it through `open_store`, which handles an unusable file.

    Beyond the protocol: `path`, `persistent` (False once it fell back to memory) and `take_warning()`,
    the one-time message for the user after that fallback (None otherwise, and after it was taken).
    The constructor raises `sqlite3.Error`/`OSError` for a file it cannot use.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._started = process_started(self._pid)
        self._persistent = True
        self._warning: str | None = None
        self._failure: str | None = None
        self._kept = Kept(self._pid, self._started)
        self._streaming: set[int] = set()
        self._closed = False
        conn = connect(str(path))
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode == "wal":
                # Durable against a crashed or killed process; only a power cut may lose the last commits.
                conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn)
            recover(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    # -- beyond the protocol

    @property
    def persistent(self) -> bool:
        """True while writes reach the file; False after a failure moved history into memory."""
        return self._persistent

    @property
    def failure(self) -> str | None:
        """Why history moved into memory mid-session (kept after `take_warning`); None while persistent."""
        return self._failure

    def take_warning(self) -> str | None:
        """The message to show the user once after a fallback to memory; None otherwise."""
        with self._lock:
            warning, self._warning = self._warning, None
            return warning

    # -- the Store protocol

    def create_session(self, *, workspace: str, title: str, model: str) -> SessionRecord:
        stamp = now_iso()
        record = SessionRecord(new_session_id(), title, model, workspace, stamp, stamp)

        def op(conn: sqlite3.Connection) -> None:
            with write_transaction(conn):
                conn.execute(
                    f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0, NULL)",
                    (record.session_id, title, model, workspace, stamp, stamp),
                )

        with self._lock:
            self._call(op)
            if self._persistent:
                self._kept.created(record)
        return record

    def get_session(self, session_id: str) -> SessionRecord | None:
        def op(conn: sqlite3.Connection) -> SessionRecord | None:
            row = conn.execute(
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
            return session_from_row(row) if row else None

        return self._call(op)

    def list_sessions(self, workspace: str) -> list[SessionRecord]:
        """Sessions made in `workspace`, most recently updated first."""

        def op(conn: sqlite3.Connection) -> list[SessionRecord]:
            rows = conn.execute(
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE workspace = ? ORDER BY updated_at DESC, rowid",
                (workspace,),
            ).fetchall()
            return [session_from_row(row) for row in rows]

        return self._call(op)

    def set_title(self, session_id: str, title: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            with write_transaction(conn):
                conn.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, session_id))

        with self._lock:
            self._call(op)
            self._kept.titled(session_id, title)

    def delete_session(self, session_id: str) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            with write_transaction(conn):
                return conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

        with self._lock:
            deleted = self._call(op)
            self._kept.deleted(session_id)
            return deleted

    def _row_values(self, message: MessageRecord) -> tuple[Any, ...]:
        """The message's columns from `role` to `owner_started`, in table order."""
        return (
            message.role,
            message.content,
            message.thinking,
            tool_calls_json(message),
            message.tool_name,
            message.tool_call_id,
            message.status,
            message.created_at,
            self._pid,
            self._started,
        )

    def append_message(self, session_id: str, message: MessageRecord) -> int:
        """Store `message` at the end of the session; returns its id (also set on `message.id`).

        Raises KeyError for an unknown session, like `MemoryStore`.
        """
        values = self._row_values(message)

        def op(conn: sqlite3.Connection) -> tuple[int, int, str, int, int | None]:
            stamp = now_iso()
            with write_transaction(conn):
                row = conn.execute(
                    "SELECT message_count, head_id FROM sessions WHERE id = ?", (session_id,)
                ).fetchone()
                if row is None:
                    raise KeyError(session_id)
                seq = conn.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE session_id = ?", (session_id,)
                ).fetchone()[0]
                cursor = conn.execute(
                    "INSERT INTO messages (session_id, seq, role, content, thinking, tool_calls, tool_name,"
                    " tool_call_id, status, created_at, owner_pid, owner_started, parent_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (session_id, seq, *values, row[1]),
                )
                assert cursor.lastrowid is not None
                conn.execute(
                    "UPDATE sessions SET message_count = message_count + 1, updated_at = ?, head_id = ?"
                    " WHERE id = ?",
                    (stamp, cursor.lastrowid, session_id),
                )
                return cursor.lastrowid, seq, stamp, row[0] + 1, row[1]

        with self._lock:
            message_id, seq, stamp, count, parent_id = self._call(op)
            message.id = message_id
            message.parent_id = parent_id
            if message.status == STREAMING:
                self._streaming.add(message_id)
            if self._persistent:
                self._kept.appended(self._conn, session_id, seq, message, stamp, count)
            return message_id

    def update_message(self, message: MessageRecord) -> None:
        """Overwrite a stored message (by `message.id`): a streaming answer's checkpoint or final state."""
        assert message.id is not None
        message_id = message.id
        values = (*self._row_values(message), message_id)

        def op(conn: sqlite3.Connection) -> str | None:
            stamp = now_iso()
            with write_transaction(conn):
                # No UPDATE ... RETURNING: it needs SQLite 3.35, newer than some distributions ship.
                row = conn.execute("SELECT session_id FROM messages WHERE id = ?", (message_id,)).fetchone()
                if row is None:
                    return None
                conn.execute(
                    "UPDATE messages SET role = ?, content = ?, thinking = ?, tool_calls = ?, tool_name = ?,"
                    " tool_call_id = ?, status = ?, created_at = ?, owner_pid = ?, owner_started = ?"
                    " WHERE id = ?",
                    values,
                )
                conn.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (stamp, row[0]))
                return stamp

        with self._lock:
            stamp = self._call(op)
            if message.status == STREAMING:
                self._streaming.add(message_id)
            else:
                self._streaming.discard(message_id)
            if self._persistent and stamp is not None:
                self._kept.updated(message, stamp)

    def messages(self, session_id: str) -> list[MessageRecord]:
        """The session's active branch, oldest first."""
        head, messages = self.tree(session_id)
        return active_branch(head, messages)

    def tree(self, session_id: str) -> tuple[int | None, list[MessageRecord]]:
        def op(conn: sqlite3.Connection) -> tuple[int | None, list[MessageRecord]]:
            head = conn.execute("SELECT head_id FROM sessions WHERE id = ?", (session_id,)).fetchone()
            rows = conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq", (session_id,)
            ).fetchall()
            return (head[0] if head else None), [message_from_row(row) for row in rows]

        return self._call(op)

    def set_head(self, session_id: str, message_id: int | None) -> None:
        def op(conn: sqlite3.Connection) -> None:
            with write_transaction(conn):
                conn.execute("UPDATE sessions SET head_id = ? WHERE id = ?", (message_id, session_id))

        with self._lock:
            self._call(op)
            self._kept.headed(session_id, message_id)

    def run(self, op: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `op` (the queries of checkpoints.py) on the database."""
        return self._call(op)

    def close(self) -> None:
        """Mark this store's still-streaming answers interrupted and close the connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(sqlite3.Error):
                if self._streaming:
                    ids = sorted(self._streaming)
                    marks = ",".join("?" * len(ids))
                    with write_transaction(self._conn):
                        self._conn.execute(
                            f"UPDATE messages SET status = ? WHERE status = ? AND id IN ({marks})",
                            (INTERRUPTED, STREAMING, *ids),
                        )
                if self._persistent:
                    self._conn.execute("PRAGMA optimize")
            self._conn.close()

    # -- internals

    def _call(self, op: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `op` on the file; if the file fails, move to memory and run it there."""
        with self._lock:
            if self._persistent:
                try:
                    return op(self._conn)
                except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.NotSupportedError):
                    raise  # our bug or a closed store, not a failing file
                except sqlite3.DatabaseError as exc:  # I/O error, disk full, read-only, malformed, busy
                    self._fail_over(exc)
            return op(self._conn)

    def _fail_over(self, exc: BaseException) -> None:
        memory = memory_copy(self._conn, self._kept)
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        self._conn = memory
        self._persistent = False
        self._kept.clear()
        self._warning = self._failure = failure_warning(self.path, exc)


# --- opening ------------------------------------------------------------------------------------------


def default_history_path() -> Path:
    """`$RYAN_HISTORY` if set, else `history.sqlite3` in the user data folder (platformdirs)."""
    override = os.environ.get("RYAN_HISTORY")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("ryan", appauthor=False)) / "history.sqlite3"


def _permission_hint(path: Path) -> str:
    """Why SQLite's "unable to open database file" or "readonly database" happened, when it is permissions."""
    effective = {"effective_ids": True} if os.access in os.supports_effective_ids else {}
    try:
        if path.exists():
            if not os.access(path, os.R_OK, **effective):
                return ": no permission to read it"
            if not os.access(path, os.W_OK, **effective):
                return ": no permission to write it"
            if path.is_file() and not os.access(path.parent, os.W_OK | os.X_OK, **effective):
                return f": no permission to write in {path.parent}"
        elif path.parent.is_dir() and not os.access(path.parent, os.W_OK | os.X_OK, **effective):
            return f": no permission to create files in {path.parent}"
    except OSError:
        pass
    return ""


def open_store(path: Path | None = None) -> tuple[Store, str | None]:
    """The history store at `path` (None: `default_history_path()`), and a warning for the user or None.

    Never raises for an unusable database: it returns a `MemoryStore` and a warning naming the file and
    the reason.
    """
    target = (path if path is not None else default_history_path()).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStore(target), None
    except FileExistsError as exc:  # what mkdir says when a parent is a file
        reason = f"{exc.filename} is not a folder"
    except (sqlite3.Error, OSError, UnusableDatabase) as exc:
        reason = describe(exc) + _permission_hint(target)
    from .memory import MemoryStore  # a SqliteStore in memory: imported here to avoid a cycle

    return MemoryStore(), (
        f"Ryan cannot use the history database {target} ({reason}). History will not be saved this session."
    )
