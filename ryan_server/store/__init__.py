"""Session history: records, the `Store` protocol, the SQLite and in-memory stores, and the
`BackgroundStore` the engine talks to (blocking work on one thread, off the event loop)."""

from __future__ import annotations

from pathlib import Path

from .background import BackgroundStore
from .memory import MemoryStore
from .records import MessageRecord, SessionRecord, Store
from .sqlite import default_history_path, open_store

__all__ = [
    "BackgroundStore",
    "MemoryStore",
    "MessageRecord",
    "SessionRecord",
    "Store",
    "open_history",
    "open_store",
]


def open_history(history_path: str | None) -> BackgroundStore:
    """The engine's history at the `historyPath` setting (None: the default file); in memory, with
    `opened_warning` saying why, when that file cannot be used. Every front end opens it so."""
    path = Path(history_path).expanduser() if history_path else default_history_path()
    store, warning = open_store(path)
    return BackgroundStore(store, path=path, opened_warning=warning)
