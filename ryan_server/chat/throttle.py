"""Coalescing of streamed text into few notifications: the first delta at once, then at most one per
interval, never reordered.

Editors redraw on every notification; a model can emit hundreds of deltas a second (and a command
thousands of lines). Text of one kind (content, thinking, or one tool call's output) is buffered and
flushed when the interval has passed, by a timer when the stream pauses, when the kind changes, and
at the end of a turn once the interval has passed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..protocol import Content, Event

TextEvent = Callable[[str], Event]  # Content, Thinking, or a call's ToolOutput with its callId bound


class Coalescer:
    """Buffers text for `send`; `push(Content, "text")` adds to it."""

    def __init__(self, send: Callable[[Event], None], interval_ms: int) -> None:
        self._send = send
        self._interval = interval_ms / 1000
        self._loop = asyncio.get_running_loop()
        self._clock = self._loop.time
        self._kind: TextEvent = Content
        self._parts: list[str] = []
        self._last_flush = float("-inf")
        self._timer: asyncio.TimerHandle | None = None

    def push(self, kind: TextEvent, text: str) -> None:
        if kind != self._kind:
            if self._parts:
                self.flush()
            self._kind = kind
        self._parts.append(text)
        now = self._clock()
        if now - self._last_flush >= self._interval:
            self.flush(now)
        elif self._timer is None:
            self._timer = self._loop.call_at(self._last_flush + self._interval, self.flush)

    def flush(self, now: float | None = None) -> None:
        """Send what is buffered now (called before any other event, and at the end)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._parts:
            text = self._parts[0] if len(self._parts) == 1 else "".join(self._parts)
            self._parts = []
            self._send(self._kind(text))
            self._last_flush = self._clock() if now is None else now

    async def drain(self) -> None:
        """Flush what is buffered, waiting out the interval first so the pace holds to the end."""
        if self._parts:
            wait = self._last_flush + self._interval - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            self.flush()

    def close(self) -> None:
        """Flush and stop: nothing is sent after this."""
        self.flush()
        self._send = _drop


def _drop(_event: Event) -> None:
    pass
