"""Checkpoints in the history database: what a chat's writes replaced, and restores that can be redone.

Each function takes the store's connection (run them with `Store.run`) and commits on its own. File
contents are text; `None` means the file did not exist. Paths are absolute (the sandbox's real paths).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from .records import now_iso
from .schema import write_transaction

ACTIVE, FINAL, REDONE = "active", "final", "redone"  # restores.state


@dataclass
class CheckpointFile:
    path: str
    before: str | None
    after: str | None


@dataclass
class CheckpointRecord:
    checkpoint_id: int
    session_id: str
    message_id: int
    created_at: str
    prompt: str
    files: list[CheckpointFile] = field(default_factory=list)
    undone: bool = False


@dataclass
class RestoreRecord:
    restore_id: int
    session_id: str
    files: dict[str, tuple[str | None, str | None]]  # path -> (what it replaced, what it wrote)


def record_before(
    conn: sqlite3.Connection,
    checkpoint_id: int | None,
    session_id: str,
    message_id: int,
    path: str,
    text: str | None,
) -> int:
    """Note `path`'s content before a chat's write, unless the chat's checkpoint has it already; returns
    the checkpoint's id. The first write of a chat (`checkpoint_id` None) makes its checkpoint, which ends
    what earlier restores could redo."""
    with write_transaction(conn):
        if checkpoint_id is None:
            conn.execute(
                "UPDATE restores SET state = ? WHERE session_id = ? AND state = ?",
                (FINAL, session_id, ACTIVE),
            )
            cursor = conn.execute(
                "INSERT INTO checkpoints (session_id, message_id, created_at) VALUES (?, ?, ?)",
                (session_id, message_id, now_iso()),
            )
            assert cursor.lastrowid is not None
            checkpoint_id = cursor.lastrowid
        conn.execute(
            "INSERT OR IGNORE INTO checkpoint_files (checkpoint_id, path, before, after) VALUES (?, ?, ?, ?)",
            (checkpoint_id, path, text, text),
        )
        return int(checkpoint_id)


def record_after(
    conn: sqlite3.Connection, checkpoint_id: int, session_id: str, path: str, text: str | None
) -> None:
    """Note what a chat's write left in `path`."""
    with write_transaction(conn):
        conn.execute(
            "UPDATE checkpoint_files SET after = ? WHERE checkpoint_id = ? AND path = ?",
            (text, checkpoint_id, path),
        )
        _wrote(conn, session_id, path, text)


def wrote(conn: sqlite3.Connection, session_id: str, path: str, text: str | None) -> None:
    """Note what a restore or a redo left in `path`."""
    with write_transaction(conn):
        _wrote(conn, session_id, path, text)


def _wrote(conn: sqlite3.Connection, session_id: str, path: str, text: str | None) -> None:
    conn.execute(
        "INSERT INTO last_written (session_id, path, content) VALUES (?, ?, ?)"
        " ON CONFLICT (session_id, path) DO UPDATE SET content = excluded.content",
        (session_id, path, text),
    )


def last_written(conn: sqlite3.Connection, session_id: str) -> dict[str, str | None]:
    """What Ryan last left in each file it wrote in the session."""
    rows = conn.execute("SELECT path, content FROM last_written WHERE session_id = ?", (session_id,))
    return {path: content for path, content in rows}


def checkpoints(conn: sqlite3.Connection, session_id: str) -> list[CheckpointRecord]:
    """The session's checkpoints, oldest first, with their files and whether a restore undid them."""
    rows = conn.execute(
        "SELECT c.id, c.session_id, c.message_id, c.created_at, COALESCE(m.content, '') FROM checkpoints c"
        " LEFT JOIN messages m ON m.id = c.message_id WHERE c.session_id = ? ORDER BY c.id",
        (session_id,),
    ).fetchall()
    return _with_files(conn, [CheckpointRecord(*row) for row in rows])


def checkpoint(conn: sqlite3.Connection, checkpoint_id: int) -> CheckpointRecord | None:
    row = conn.execute(
        "SELECT c.id, c.session_id, c.message_id, c.created_at, COALESCE(m.content, '') FROM checkpoints c"
        " LEFT JOIN messages m ON m.id = c.message_id WHERE c.id = ?",
        (checkpoint_id,),
    ).fetchone()
    return _with_files(conn, [CheckpointRecord(*row)])[0] if row else None


def _with_files(conn: sqlite3.Connection, records: list[CheckpointRecord]) -> list[CheckpointRecord]:
    if not records:
        return records
    by_id = {r.checkpoint_id: r for r in records}
    marks = ",".join("?" * len(by_id))
    rows = conn.execute(
        f"SELECT checkpoint_id, path, before, after FROM checkpoint_files WHERE checkpoint_id IN ({marks})"
        " ORDER BY checkpoint_id, path",
        tuple(by_id),
    )
    for checkpoint_id, path, before, after in rows:
        by_id[checkpoint_id].files.append(CheckpointFile(path, before, after))
    covering = conn.execute(
        "SELECT checkpoint_id, last_checkpoint_id FROM restores WHERE session_id = ? AND state != ?",
        (records[0].session_id, REDONE),
    ).fetchall()
    for record in records:
        record.undone = any(first <= record.checkpoint_id <= last for first, last in covering)
    return records


def targets(conn: sqlite3.Connection, record: CheckpointRecord) -> dict[str, str | None]:
    """What restoring `record` puts in each file: its content before the earliest checkpoint, from
    `record` on, that touched it."""
    rows = conn.execute(
        "SELECT f.path, f.before FROM checkpoint_files f JOIN checkpoints c ON c.id = f.checkpoint_id"
        " WHERE c.session_id = ? AND c.id >= ? ORDER BY c.id DESC",
        (record.session_id, record.checkpoint_id),
    )
    return {path: before for path, before in rows}  # the earliest checkpoint's row comes last and wins


def begin_restore(
    conn: sqlite3.Connection, record: CheckpointRecord, files: dict[str, tuple[str | None, str | None]]
) -> int:
    """Store a restore of `record` before it writes: per path, what it replaces and what it writes."""
    with write_transaction(conn):
        last = conn.execute(
            "SELECT MAX(id) FROM checkpoints WHERE session_id = ?", (record.session_id,)
        ).fetchone()[0]
        cursor = conn.execute(
            "INSERT INTO restores (session_id, checkpoint_id, last_checkpoint_id, state, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (record.session_id, record.checkpoint_id, last, ACTIVE, now_iso()),
        )
        assert cursor.lastrowid is not None
        conn.executemany(
            "INSERT INTO restore_files (restore_id, path, replaced, restored) VALUES (?, ?, ?, ?)",
            [(cursor.lastrowid, path, replaced, restored) for path, (replaced, restored) in files.items()],
        )
        return int(cursor.lastrowid)


def redoable(conn: sqlite3.Connection, session_id: str) -> RestoreRecord | None:
    """The session's latest restore that can be redone."""
    row = conn.execute(
        "SELECT id FROM restores WHERE session_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
        (session_id, ACTIVE),
    ).fetchone()
    if row is None:
        return None
    rows = conn.execute("SELECT path, replaced, restored FROM restore_files WHERE restore_id = ?", (row[0],))
    return RestoreRecord(
        row[0], session_id, {path: (replaced, restored) for path, replaced, restored in rows}
    )


def mark_redone(conn: sqlite3.Connection, restore_id: int) -> None:
    with write_transaction(conn):
        conn.execute("UPDATE restores SET state = ? WHERE id = ?", (REDONE, restore_id))
