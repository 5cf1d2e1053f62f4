"""The engine's door to history: every store call runs on one worker thread, off the event loop.

SQLite can block: another editor window may hold the database's write lock for seconds (the busy
timeout), and a slow disk stalls any write. The engine must keep relaying the model's deltas meanwhile,
so writes (append, update) are queued and return at once, and reads are awaited. One thread, in order:
a read sees every write queued before it, and an update follows its message's append. A single-worker
executor is exactly that queue; anyio's thread pool would not keep the order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .records import MessageRecord, SessionRecord, Store

log = logging.getLogger(__name__)
T = TypeVar("T")


class BackgroundStore:
    """A `Store` driven from asyncio: `await` the reads, fire the writes.

    `path` is the database the user asked for, `opened_warning` why it could not be used (history is
    then in memory), as `ryan/status` reports them.
    """

    def __init__(self, store: Store, *, path: Path | None = None, opened_warning: str | None = None) -> None:
        self.store = store
        self.path = path
        self.opened_warning = opened_warning
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ryan-history")

    # -- writes: queued, never waited for

    def append_message(self, session_id: str, message: MessageRecord) -> None:
        """Queue `message`; its `id` is set once stored (later updates of it find it by then)."""
        snapshot = dataclasses.replace(message)

        def op() -> None:
            message.id = self.store.append_message(session_id, snapshot)
            message.parent_id = snapshot.parent_id

        self._fire(op)

    def set_title(self, session_id: str, title: str) -> None:
        """Queue naming the session."""
        self._fire(lambda: self.store.set_title(session_id, title))

    def set_head(self, session_id: str, message_id: int | None) -> None:
        """Queue making the branch that ends at `message_id` the active one."""
        self._fire(lambda: self.store.set_head(session_id, message_id))

    def update_message(self, message: MessageRecord) -> None:
        """Queue an overwrite of `message` as it is now (a checkpoint, or its final state)."""
        snapshot = dataclasses.replace(message)

        def op() -> None:
            snapshot.id = message.id  # set by the append queued before this
            if snapshot.id is not None:
                self.store.update_message(snapshot)

        self._fire(op)

    # -- reads, and writes whose answer is needed

    async def create_session(self, *, workspace: str, title: str, model: str) -> SessionRecord:
        return await self._run(
            lambda: self.store.create_session(workspace=workspace, title=title, model=model)
        )

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return await self._run(lambda: self.store.get_session(session_id))

    async def list_sessions(self, workspace: str) -> list[SessionRecord]:
        return await self._run(lambda: self.store.list_sessions(workspace))

    async def delete_session(self, session_id: str) -> bool:
        return await self._run(lambda: self.store.delete_session(session_id))

    async def messages(self, session_id: str) -> list[MessageRecord]:
        return await self._run(lambda: self.store.messages(session_id))

    async def tree(self, session_id: str) -> tuple[int | None, list[MessageRecord]]:
        return await self._run(lambda: self.store.tree(session_id))

    async def run(self, op: Callable[[sqlite3.Connection], T]) -> T:
        """Run `op` (a query of checkpoints.py) on the database, in order with the queued writes."""
        return await self._run(lambda: self.store.run(op))

    async def flush(self) -> None:
        """Wait until every write queued so far is done."""
        await self._run(lambda: None)

    @property
    def persistent(self) -> bool:
        """False when history lives in memory: it could not be opened, or failed since."""
        return bool(getattr(self.store, "persistent", False))

    @property
    def warning(self) -> str | None:
        """Why history is in memory: the database could not be opened, or failed since; else None."""
        if self.persistent:
            return None
        failure: str | None = getattr(self.store, "failure", None)
        return self.opened_warning or failure

    def take_warning(self) -> str | None:
        """A one-time message after the database failed mid-session (history moved to memory)."""
        take: Callable[[], str | None] | None = getattr(self.store, "take_warning", None)
        return take() if take is not None else None

    async def aclose(self) -> None:
        """Finish the queued writes, then close the store."""
        await self._run(self.store.close)
        self._worker.shutdown(wait=False)

    def _fire(self, op: Callable[[], None]) -> None:
        self._worker.submit(op).add_done_callback(_log_failure)

    async def _run(self, op: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self._worker.submit(op))


def _log_failure(future: Future[None]) -> None:
    error = future.exception()
    if error is not None:
        log.error("a history write failed: %s", error, exc_info=error)
