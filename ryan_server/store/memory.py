"""History that lives as long as the process: the fallback when no database can be used."""

from __future__ import annotations

import dataclasses
import threading

from .records import MessageRecord, SessionRecord, new_session_id, now_iso


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

    def set_title(self, session_id: str, title: str) -> None:
        with self._lock:
            if session_id in self._sessions:
                self._sessions[session_id].title = title

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
