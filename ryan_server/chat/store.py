"""Session history behind one interface: records, the `Store` protocol and an in-memory store.

The SQLite store (`chat/sqlite_store.py`) implements the same protocol; the engine only sees `Store`.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_session_id() -> str:
    return uuid.uuid4().hex


@dataclass
class SessionRecord:
    session_id: str
    title: str
    model: str
    workspace: str
    created_at: str
    updated_at: str
    message_count: int = 0


@dataclass
class MessageRecord:
    """One message of a session. `tool_calls` holds `{"callId","name","arguments","status"}` dicts."""

    role: str  # "user" | "assistant" | "tool"
    content: str
    thinking: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None
    status: str = "complete"  # protocol.MessageStatus
    created_at: str = field(default_factory=now_iso)
    id: int | None = None


class Store(Protocol):
    def create_session(self, *, workspace: str, title: str, model: str) -> SessionRecord: ...

    def get_session(self, session_id: str) -> SessionRecord | None: ...

    def list_sessions(self, workspace: str) -> list[SessionRecord]:
        """Sessions made in `workspace`, most recently updated first."""
        ...

    def delete_session(self, session_id: str) -> bool: ...

    def append_message(self, session_id: str, message: MessageRecord) -> int:
        """Store `message` at the end of the session; returns its id (also set on `message.id`)."""
        ...

    def update_message(self, message: MessageRecord) -> None:
        """Overwrite a stored message (by `message.id`): a streaming answer's checkpoint or final state."""
        ...

    def messages(self, session_id: str) -> list[MessageRecord]: ...

    def close(self) -> None: ...


class MemoryStore:
    """History that lives as long as the process: the fallback when no database can be used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, SessionRecord] = {}
        self._messages: dict[str, list[MessageRecord]] = {}
        self._by_id: dict[int, tuple[str, int]] = {}
        self._next_id = 1

    def create_session(self, *, workspace: str, title: str, model: str) -> SessionRecord:
        stamp = now_iso()
        record = SessionRecord(new_session_id(), title, model, workspace, stamp, stamp)
        with self._lock:
            self._sessions[record.session_id] = record
            self._messages[record.session_id] = []
        return dataclasses.replace(record)

    def get_session(self, session_id: str) -> SessionRecord | None:
        with self._lock:
            record = self._sessions.get(session_id)
            return dataclasses.replace(record) if record else None

    def list_sessions(self, workspace: str) -> list[SessionRecord]:
        with self._lock:
            found = [dataclasses.replace(s) for s in self._sessions.values() if s.workspace == workspace]
        return sorted(found, key=lambda s: s.updated_at, reverse=True)

    def delete_session(self, session_id: str) -> bool:
        with self._lock:
            self._messages.pop(session_id, None)
            return self._sessions.pop(session_id, None) is not None

    def append_message(self, session_id: str, message: MessageRecord) -> int:
        with self._lock:
            session = self._sessions[session_id]
            message.id = self._next_id
            self._next_id += 1
            stored = self._messages[session_id]
            self._by_id[message.id] = (session_id, len(stored))
            stored.append(dataclasses.replace(message))
            session.message_count = len(stored)
            session.updated_at = now_iso()
            return message.id

    def update_message(self, message: MessageRecord) -> None:
        assert message.id is not None
        with self._lock:
            located = self._by_id.get(message.id)
            if located is None or located[0] not in self._sessions:
                return
            session_id, index = located
            self._messages[session_id][index] = dataclasses.replace(message)
            self._sessions[session_id].updated_at = now_iso()

    def messages(self, session_id: str) -> list[MessageRecord]:
        with self._lock:
            return [dataclasses.replace(m) for m in self._messages.get(session_id, [])]

    def close(self) -> None:
        pass
