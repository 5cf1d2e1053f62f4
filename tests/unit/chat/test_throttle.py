"""The coalescer: first delta at once, then at most one notification per interval, never reordered."""

from __future__ import annotations

import asyncio

from ryan_server.chat.throttle import Coalescer
from ryan_server.protocol import Content, Event, Thinking


async def test_first_at_once_then_batched_then_timer() -> None:
    sent: list[tuple[float, Event]] = []
    loop = asyncio.get_running_loop()
    coalescer = Coalescer(lambda v: sent.append((loop.time(), v)), interval_ms=50)
    started = loop.time()
    coalescer.push(Content, "a")
    assert [v for _, v in sent] == [Content("a")]
    coalescer.push(Content, "b")
    coalescer.push(Content, "c")
    assert len(sent) == 1  # held back inside the interval
    await asyncio.sleep(0.08)  # the stream pauses: the timer sends what was held
    assert [v for _, v in sent] == [Content("a"), Content("bc")]
    assert sent[1][0] - started >= 0.045


async def test_kind_change_flushes_in_order() -> None:
    sent: list[Event] = []
    coalescer = Coalescer(sent.append, interval_ms=1000)
    coalescer.push(Thinking, "hmm")
    coalescer.push(Thinking, "…")
    coalescer.push(Content, "x")
    coalescer.push(Content, "y")
    coalescer.push(Thinking, "again")
    coalescer.close()
    assert sent == [
        Thinking("hmm"),
        Thinking("…"),
        Content("xy"),
        Thinking("again"),
    ]
    coalescer.push(Content, "late")
    await asyncio.sleep(0)
    assert sent[-1] == Thinking("again")  # nothing after close


async def test_drain_keeps_the_pace() -> None:
    times: list[float] = []
    loop = asyncio.get_running_loop()
    coalescer = Coalescer(lambda v: times.append(loop.time()), interval_ms=60)
    coalescer.push(Content, "a")
    coalescer.push(Content, "b")
    await coalescer.drain()
    assert len(times) == 2 and times[1] - times[0] >= 0.055


async def test_zero_interval_sends_every_delta() -> None:
    sent: list[Event] = []
    coalescer = Coalescer(sent.append, interval_ms=0)
    for ch in "abc":
        coalescer.push(Content, ch)
    assert [v.text for v in sent] == ["a", "b", "c"]
