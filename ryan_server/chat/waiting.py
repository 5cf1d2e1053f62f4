"""The status while the model has sent nothing yet: "waiting for the model… N s", each second.

A cold model loading, a busy server or a port that accepts and never answers would otherwise look
like a hung editor. The count runs from the start of the chat (the probes of the model's tool
support and context window wait on the same server) until the first byte of an answer.
"""

from __future__ import annotations

import asyncio
import time

from ..ports import EventSink

WAITING_AFTER = 1.0  # seconds of silence before the status starts counting


class Waiting:
    def __init__(self, sink: EventSink) -> None:
        self._sink = sink
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Count from now, unless already counting."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._tell())

    def stop(self) -> bool:
        """Stop counting; whether it was counting."""
        task, self._task = self._task, None
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def _tell(self) -> None:
        started = time.monotonic()
        await asyncio.sleep(WAITING_AFTER)
        while True:
            self._sink.status(f"waiting for the model… {time.monotonic() - started:.0f} s")
            await asyncio.sleep(1.0)
