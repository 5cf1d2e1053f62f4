"""Session history in one SQLite file per user, behind the same `Store` protocol as `MemoryStore`.

`open_store` is the entry point the server uses: it never raises for a database it cannot use (corrupt,
unreadable, read-only, a folder it cannot create) but hands back a `MemoryStore` and a message for the
user. Once open, a `SqliteStore` survives the database failing under it (disk full, file corrupted or
made unwritable mid-session): it copies the history into an in-memory database, carries on there for
the rest of the process, and leaves a one-time warning for the server to show (`take_warning()`).

Concurrency: one connection (`check_same_thread=False`) guarded by a lock serves the asyncio thread and
worker threads; WAL mode and `BEGIN IMMEDIATE` write transactions let several servers (editor windows)
share the file. Each call commits on its own.

Crash recovery: a streaming answer is stored with status "streaming" and the pid (and, on Linux, the
start time) of the process writing it. On open, such rows whose owner process is gone are marked
"interrupted", keeping the last checkpointed text; a live owner's rows are left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from .memory import MemoryStore
from .records import MessageRecord, SessionRecord, Store, new_session_id, now_iso

__all__ = ["SCHEMA_VERSION", "SqliteStore", "default_history_path", "open_store"]

_T = TypeVar("_T")

_STREAMING = "streaming"  # protocol.MessageStatus values, spelled here to keep chat/ free of the wire module
_INTERRUPTED = "interrupted"

BUSY_TIMEOUT_S = 5.0


# --- schema -------------------------------------------------------------------------------------------


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


# Step i takes the schema from version i to i + 1. A new version is one more function here.
_MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_0_to_1]
SCHEMA_VERSION = len(_MIGRATIONS)


class _UnusableDatabase(Exception):
    """The file is a database this version cannot use (made by a newer Ryan)."""


@contextlib.contextmanager
def _write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
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


def _migrate(conn: sqlite3.Connection) -> None:
    with _write_transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise _UnusableDatabase(
                f"its schema version {version} is newer than this Ryan understands ({SCHEMA_VERSION})"
            )
        for step in _MIGRATIONS[version:]:
            step(conn)
        if version != SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


# --- process identity (crash recovery) ----------------------------------------------------------------


def _linux_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) of `pid` from /proc, or None where unavailable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; the fields after it do not.
    rest = raw[raw.rfind(")") + 2 :].split()
    if len(rest) < 20:
        return None
    return rest[0], rest[19]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _process_started(pid: int) -> str | None:
    """An identity for the process `pid` that a later process reusing the pid will not share."""
    stat = _linux_stat(pid)
    return f"{_boot_id()}:{stat[1]}" if stat else None


if sys.platform == "win32":

    def _pid_alive(pid: int) -> bool:
        # os.kill(pid, 0) would send CTRL_C_EVENT on Windows; ask the kernel instead.
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(ctypes.GetLastError() == 5)  # ERROR_ACCESS_DENIED: it exists
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)

else:

    def _pid_alive(pid: int) -> bool:
        if pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # exists, owned by someone else
        except OSError:
            return False
        stat = _linux_stat(pid)
        return not (stat and stat[0] in ("Z", "X"))  # a killed but not yet reaped process is gone


def _owner_alive(pid: int | None, started: str | None) -> bool:
    if pid is None or not _pid_alive(pid):
        return False
    if started is not None:
        current = _process_started(pid)
        if current is not None and current != started:
            return False  # the pid now belongs to another process
    return True


# --- the store ----------------------------------------------------------------------------------------

_SESSION_COLUMNS = "id, title, model, workspace, created_at, updated_at, message_count"
_MESSAGE_COLUMNS = "id, role, content, thinking, tool_calls, tool_name, tool_call_id, status, created_at"


def _session_from_row(row: tuple[Any, ...]) -> SessionRecord:
    return SessionRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6])


def _message_from_row(row: tuple[Any, ...]) -> MessageRecord:
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
    )


def _tool_calls_json(message: MessageRecord) -> str | None:
    return json.dumps(message.tool_calls, ensure_ascii=False) if message.tool_calls is not None else None


@dataclass
class _Kept:
    """What this process knows of a session it wrote to, to rebuild it if the file becomes unreadable."""

    session: SessionRecord
    messages: dict[int, tuple[int, MessageRecord]] = field(default_factory=dict)  # id -> (seq, message)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def _connect(target: str) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; every write opens BEGIN IMMEDIATE itself.
    conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


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
        self._started = _process_started(self._pid)
        self._persistent = True
        self._warning: str | None = None
        self._kept: dict[str, _Kept] = {}
        self._kept_ids: dict[int, str] = {}
        self._streaming: set[int] = set()
        self._closed = False
        conn = _connect(str(path))
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode == "wal":
                # Durable against a crashed or killed process; only a power cut may lose the last commits.
                conn.execute("PRAGMA synchronous = NORMAL")
            _migrate(conn)
            self._recover(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    # -- beyond the protocol

    @property
    def persistent(self) -> bool:
        """True while writes reach the file; False after a failure moved history into memory."""
        return self._persistent

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
            with _write_transaction(conn):
                conn.execute(
                    f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0)",
                    (record.session_id, title, model, workspace, stamp, stamp),
                )

        with self._lock:
            self._call(op)
            if self._persistent:
                self._kept[record.session_id] = _Kept(replace(record))
        return record

    def get_session(self, session_id: str) -> SessionRecord | None:
        def op(conn: sqlite3.Connection) -> SessionRecord | None:
            row = conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
            return _session_from_row(row) if row else None

        return self._call(op)

    def list_sessions(self, workspace: str) -> list[SessionRecord]:
        """Sessions made in `workspace`, most recently updated first."""

        def op(conn: sqlite3.Connection) -> list[SessionRecord]:
            rows = conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE workspace = ?"
                " ORDER BY updated_at DESC, rowid",
                (workspace,),
            ).fetchall()
            return [_session_from_row(row) for row in rows]

        return self._call(op)

    def delete_session(self, session_id: str) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            with _write_transaction(conn):
                return conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

        with self._lock:
            deleted = self._call(op)
            kept = self._kept.pop(session_id, None)
            if kept:
                for message_id in kept.messages:
                    self._kept_ids.pop(message_id, None)
            return deleted

    def _row_values(self, message: MessageRecord) -> tuple[Any, ...]:
        """The message's columns from `role` to `owner_started`, in table order."""
        return (
            message.role,
            message.content,
            message.thinking,
            _tool_calls_json(message),
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

        def op(conn: sqlite3.Connection) -> tuple[int, int, str, int]:
            stamp = now_iso()
            with _write_transaction(conn):
                row = conn.execute(
                    "SELECT message_count FROM sessions WHERE id = ?", (session_id,)
                ).fetchone()
                if row is None:
                    raise KeyError(session_id)
                seq = conn.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE session_id = ?", (session_id,)
                ).fetchone()[0]
                cursor = conn.execute(
                    "INSERT INTO messages (session_id, seq, role, content, thinking, tool_calls, tool_name,"
                    " tool_call_id, status, created_at, owner_pid, owner_started)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (session_id, seq, *values),
                )
                conn.execute(
                    "UPDATE sessions SET message_count = message_count + 1, updated_at = ? WHERE id = ?",
                    (stamp, session_id),
                )
                assert cursor.lastrowid is not None
                return cursor.lastrowid, seq, stamp, row[0] + 1

        with self._lock:
            message_id, seq, stamp, count = self._call(op)
            message.id = message_id
            if message.status == _STREAMING:
                self._streaming.add(message_id)
            if self._persistent:
                self._keep_appended(session_id, seq, replace(message), stamp, count)
            return message_id

    def update_message(self, message: MessageRecord) -> None:
        """Overwrite a stored message (by `message.id`): a streaming answer's checkpoint or final state."""
        assert message.id is not None
        message_id = message.id
        values = (*self._row_values(message), message_id)

        def op(conn: sqlite3.Connection) -> str | None:
            stamp = now_iso()
            with _write_transaction(conn):
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
            if message.status == _STREAMING:
                self._streaming.add(message_id)
            else:
                self._streaming.discard(message_id)
            session_id = self._kept_ids.get(message_id)
            if self._persistent and stamp is not None and session_id is not None:
                kept = self._kept[session_id]
                kept.messages[message_id] = (kept.messages[message_id][0], replace(message))
                kept.session.updated_at = stamp

    def messages(self, session_id: str) -> list[MessageRecord]:
        def op(conn: sqlite3.Connection) -> list[MessageRecord]:
            rows = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq", (session_id,)
            ).fetchall()
            return [_message_from_row(row) for row in rows]

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
                    with _write_transaction(self._conn):
                        self._conn.execute(
                            f"UPDATE messages SET status = ? WHERE status = ? AND id IN ({marks})",
                            (_INTERRUPTED, _STREAMING, *ids),
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
        memory = _connect(":memory:")
        try:
            # Everything committed so far, other processes' sessions included, if the file still reads.
            self._conn.backup(memory)
            if memory.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("the copy is damaged")
            if memory.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                raise sqlite3.DatabaseError("the copy has no schema")
        except sqlite3.Error:
            memory.close()
            memory = _connect(":memory:")
            _migrate(memory)
            self._restore_kept(memory)
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        self._conn = memory
        self._persistent = False
        self._kept.clear()
        self._kept_ids.clear()
        self._warning = (
            f"Ryan could not write its history to {self.path} ({_describe(exc)}). "
            "History is kept in memory and will not be saved for the rest of this session."
        )

    def _restore_kept(self, conn: sqlite3.Connection) -> None:
        """Rebuild, in an empty database, the sessions this process wrote to, as it knows them."""
        with _write_transaction(conn):
            for kept in self._kept.values():
                s = kept.session
                conn.execute(
                    f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        s.session_id,
                        s.title,
                        s.model,
                        s.workspace,
                        s.created_at,
                        s.updated_at,
                        len(kept.messages),
                    ),
                )
                for message_id, (seq, m) in kept.messages.items():
                    conn.execute(
                        "INSERT INTO messages (id, session_id, seq, role, content, thinking, tool_calls,"
                        " tool_name, tool_call_id, status, created_at, owner_pid, owner_started)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            message_id,
                            s.session_id,
                            seq,
                            m.role,
                            m.content,
                            m.thinking,
                            _tool_calls_json(m),
                            m.tool_name,
                            m.tool_call_id,
                            m.status,
                            m.created_at,
                            self._pid,
                            self._started,
                        ),
                    )

    def _keep_appended(
        self, session_id: str, seq: int, message: MessageRecord, stamp: str, count: int
    ) -> None:
        kept = self._kept.get(session_id)
        if kept is None:
            # A session from before this process: remember its earlier turns too, so the live
            # conversation survives even if the file later becomes unreadable.
            kept = self._load_kept(session_id)
            if kept is None:
                return
            self._kept[session_id] = kept
            for message_id in kept.messages:
                self._kept_ids[message_id] = session_id
        assert message.id is not None
        kept.messages[message.id] = (seq, message)
        self._kept_ids[message.id] = session_id
        kept.session.updated_at = stamp
        kept.session.message_count = count

    def _load_kept(self, session_id: str) -> _Kept | None:
        try:
            row = self._conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
            if row is None:
                return None
            rows = self._conn.execute(
                f"SELECT seq, {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq",
                (session_id,),
            ).fetchall()
        except sqlite3.Error:
            return None
        return _Kept(_session_from_row(row), {r[1]: (r[0], _message_from_row(r[1:])) for r in rows})

    def _recover(self, conn: sqlite3.Connection) -> None:
        """Mark interrupted the streaming answers whose writing process is gone (crashed or killed)."""
        owners = conn.execute(
            "SELECT DISTINCT owner_pid, owner_started FROM messages WHERE status = ?", (_STREAMING,)
        ).fetchall()
        dead = [(pid, started) for pid, started in owners if not _owner_alive(pid, started)]
        if not dead:
            return
        with _write_transaction(conn):
            for pid, started in dead:
                conn.execute(
                    "UPDATE messages SET status = ?"
                    " WHERE status = ? AND owner_pid IS ? AND owner_started IS ?",
                    (_INTERRUPTED, _STREAMING, pid, started),
                )


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
    except (sqlite3.Error, OSError, _UnusableDatabase) as exc:
        reason = _describe(exc) + _permission_hint(target)
    return MemoryStore(), (
        f"Ryan cannot use the history database {target} ({reason}). History will not be saved this session."
    )
