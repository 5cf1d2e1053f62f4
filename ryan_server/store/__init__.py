"""Session history: records, the `Store` protocol, the SQLite and in-memory stores, and the
`BackgroundStore` the engine talks to (blocking work on one thread, off the event loop)."""

from __future__ import annotations

from .background import BackgroundStore
from .memory import MemoryStore
from .records import MessageRecord, SessionRecord, Store
from .sqlite import open_store

__all__ = ["BackgroundStore", "MemoryStore", "MessageRecord", "SessionRecord", "Store", "open_store"]
