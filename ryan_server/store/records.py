"""What history is made of: session and message records, and the `Store` protocol every store keeps.

`SqliteStore` (sqlite.py) implements it, on a file or in memory (`MemoryStore`, memory.py); the
engine reaches it through `BackgroundStore` (background.py), which keeps the blocking work off the
event loop.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


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
    head_id: int | None = None  # the last message of the active branch


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
    parent_id: int | None = None  # the message it follows (None: the first of its session)


def active_branch(head: int | None, messages: list[MessageRecord]) -> list[MessageRecord]:
    """The path from the first message to `head` through `messages` (a session's tree), oldest first."""
    by_id = {m.id: m for m in messages}
    branch: list[MessageRecord] = []
    node = by_id.get(head)
    while node is not None:
        branch.append(node)
        node = by_id.get(node.parent_id)
    branch.reverse()
    return branch


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

    def messages(self, session_id: str) -> list[MessageRecord]:
        """The session's active branch (the path to its head), oldest first."""
        ...

    def tree(self, session_id: str) -> tuple[int | None, list[MessageRecord]]:
        """The session's head and all its messages, every branch, in the order they were stored."""
        ...

    def set_head(self, session_id: str, message_id: int | None) -> None:
        """Make the branch ending at `message_id` active (None: before the first message)."""
        ...

    def run(self, op: Callable[[sqlite3.Connection], T]) -> T:
        """Run `op` on the store's database (the checkpoint queries)."""
        ...

    def close(self) -> None: ...
