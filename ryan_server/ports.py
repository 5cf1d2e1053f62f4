"""The ports through which the core meets the editor, so the core never imports a front end.

Each front end implements `Editor` (approvals, edits, open buffers) and `EventSink` (a chat's events
and status line) over its own protocol; a test implements each in a few lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from .protocol import Event


class EditRejected(Exception):
    """The editor was asked to apply an edit and refused it (its reason is the message)."""


class Editor(Protocol):
    async def request_approval(self, message: str, actions: Sequence[str]) -> str | None:
        """Ask the user; return the chosen action's title, or None when the request was dismissed."""
        ...

    async def apply_edit(self, path: Path, old_text: str | None, new_text: str | None) -> bool:
        """Replace the whole text of `path` (whose current text is `old_text`; None = create the file)
        with `new_text` (None = delete the file).

        Returns False when the editor cannot apply edits (the caller then writes to disk itself);
        raises EditRejected when it could but refused.
        """
        ...

    async def open_text(self, path: Path) -> str | None:
        """The editor's current (possibly unsaved) text of `path` if it has it open, else None."""
        ...


class EventSink(Protocol):
    """Where a chat's events go: the partial-result stream and the editor's status line."""

    def event(self, event: Event) -> None:
        """Report one event of the chat (see protocol.Event), in order."""
        ...

    def status(self, message: str) -> None:
        """Report a short status ("generating…", "retrying in 2 s…"), as a status line shows it."""
        ...
