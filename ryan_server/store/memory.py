"""History that lives as long as the process: the fallback when no database can be used.

It is a `SqliteStore` on an in-memory database, so branches and checkpoints work the same; it reports
itself not persistent, and there is no file to fail over from.
"""

from __future__ import annotations

from pathlib import Path

from .sqlite import SqliteStore


class MemoryStore(SqliteStore):
    """History that lives as long as the process: the fallback when no database can be used."""

    def __init__(self) -> None:
        super().__init__(Path(":memory:"))
        self._persistent = False
