"""What history is made of: session and message records, and the `Store` protocol every store keeps.

`MemoryStore` (memory.py) and `SqliteStore` (sqlite.py) implement it; the engine reaches either through
`BackgroundStore` (background.py), which keeps the blocking work off the event loop.
"""

from __future__ import annotations

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

    def set_title(self, session_id: str, title: str) -> None:
        """Name a session made before its first prompt (an ACP client's `session/new`)."""
        ...

    def append_message(self, session_id: str, message: MessageRecord) -> int:
        """Store `message` at the end of the session; returns its id (also set on `message.id`)."""
        ...

    def update_message(self, message: MessageRecord) -> None:
        """Overwrite a stored message (by `message.id`): a streaming answer's checkpoint or final state."""
        ...

    def messages(self, session_id: str) -> list[MessageRecord]: ...

    def close(self) -> None: ...
