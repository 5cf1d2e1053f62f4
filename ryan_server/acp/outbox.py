"""One session's `session/update` notifications, sent in order by one task.

The engine reports events synchronously (`EventSink.event`), and the SDK sends a notification with an
`await`: the outbox takes each update at once and sends them one after another, so they reach the
client in the engine's order. `flush()` waits until everything put before it was sent: a permission
request follows the `tool_call` it refers to, and a prompt's answer follows its last update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from acp.interfaces import Client

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, conn: Client, session_id: str) -> None:
        self._conn = conn
        self._session_id = session_id
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.first_sent: float | None = None  # loop time of the first update (for the log's timings)

    def put(self, update: Any) -> None:
        """Queue `update` (an ACP session update model) to be sent after those before it."""
        self._queue.put_nowait(update)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ryan-acp-outbox")

    async def flush(self) -> None:
        """Wait until every update queued so far has been sent (or failed to)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.put(done)
        await done

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, asyncio.Future):
                if not item.done():
                    item.set_result(None)
                continue
            try:
                await self._conn.session_update(session_id=self._session_id, update=item)
            except ConnectionError:
                pass  # the client is gone: the process ends with the connection
            except Exception:
                log.exception("a session/update could not be sent")
            if self.first_sent is None:
                self.first_sent = asyncio.get_running_loop().time()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
