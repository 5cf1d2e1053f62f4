"""History-lock benchmark: does a stream keep flowing while another process holds the history's write lock?

    python bench/history_lock.py [--deltas 400] [--delay-ms 10] [--hold 3.0] [--lock-after 0.3]

Streams one answer of `--deltas` small deltas, `--delay-ms` apart, from the scripted LLM through the
real ryan-server over stdio, with `streaming.updateIntervalMs` 0 so that every delta is one `$/progress`
and the gaps between them are the server's own. Twice:
- alone;
- while a second process (python + sqlite3 on the same history file) runs `BEGIN IMMEDIATE`, sleeps
  `--hold` seconds and commits, starting `--lock-after` seconds after the first content arrived.
The server checkpoints a streaming answer about once a second, so its history writes wait for that lock
(SQLite's busy timeout is 5 s). They wait on the store's worker thread: the stream must not.

Prints, for each: time to first content, the longest gap between consecutive `$/progress`
notifications during the stream, and, with the lock, the longest gap while it was held.
Target: the longest gap with the lock held <= 100 ms (a server that wrote history on its event loop
would stall for the whole lock). Also checks that the stored answer is the streamed one.
Exits 1 when the target is missed.

To measure another server: RYAN_BENCH_SERVER="python -P -m ryan_server" with PYTHONPATH set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from relay import Client  # noqa: E402

from tests.fakes.llm_server import FakeLLM, Reply, Text  # noqa: E402

MODEL = "llama3.2:latest"
TARGET_MS = 100.0
DELTA = "tok "

LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print("released", flush=True)
"""


@dataclass
class Run:
    """One streamed answer as the client saw it; times are `time.perf_counter()` seconds."""

    sent: float = 0.0
    first_content: float = 0.0
    progress: list[float] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    locked: float | None = None
    released: float | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def first_content_ms(self) -> float:
        return (self.first_content - self.sent) * 1000

    def longest_gap_ms(self, start: float = 0.0, end: float = float("inf")) -> float:
        """The longest gap between consecutive notifications, among those overlapping [start, end]."""
        gaps = [
            b - a for a, b in zip(self.progress, self.progress[1:], strict=False) if b >= start and a <= end
        ]
        return max(gaps, default=0.0) * 1000

    def during(self, start: float, end: float) -> int:
        return sum(start <= t <= end for t in self.progress)


async def hold_lock(history: Path, hold: float, run: Run) -> None:
    """Run the lock holder; note when it has the lock and when it let go."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCK_HOLDER, str(history), str(hold), stdout=asyncio.subprocess.PIPE
    )
    assert holder.stdout is not None
    assert await holder.stdout.readline() == b"locked\n"
    run.locked = time.perf_counter()
    assert await holder.stdout.readline() == b"released\n"
    run.released = time.perf_counter()
    assert await holder.wait() == 0


async def stream(
    llm: FakeLLM, server: Client, deltas: int, delay: float, lock: tuple[Path, float, float] | None
) -> Run:
    """One chat of `deltas` deltas; with `lock` (history file, seconds after first content, hold)."""
    run = Run()
    holder: asyncio.Task[None] | None = None
    loop = asyncio.get_running_loop()

    def start_holder() -> None:
        nonlocal holder
        assert lock is not None
        holder = asyncio.ensure_future(hold_lock(lock[0], lock[2], run))

    def on_progress(value: dict[str, Any]) -> None:
        run.progress.append(time.perf_counter())
        if value.get("kind") == "content":
            run.text.append(value["text"])
            if not run.first_content:
                run.first_content = run.progress[-1]
                if lock is not None:
                    loop.call_later(lock[1], start_holder)

    llm.enqueue(Reply([Text(DELTA)] * deltas, delay=delay))
    server.on_progress = on_progress
    run.sent = time.perf_counter()
    response = await server.request("ryan/chat", {"prompt": "count", "partialResultToken": "bench"})
    assert "result" in response, response
    run.result = response["result"]
    if lock is not None:
        while holder is None:
            await asyncio.sleep(0.05)
        await holder
    assert "".join(run.text) == run.result["content"] == DELTA * deltas
    # History caught up: the stored answer is the whole streamed one.
    stored = await server.request("ryan/session", {"sessionId": run.result["sessionId"]})
    answer = stored["result"]["messages"][-1]
    assert (answer["content"], answer["status"]) == (DELTA * deltas, "complete"), answer["status"]
    return run


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deltas", type=int, default=400)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument("--hold", type=float, default=3.0, help="seconds the other process holds the lock")
    parser.add_argument("--lock-after", type=float, default=0.3, help="seconds after the first content")
    args = parser.parse_args()
    delay = args.delay_ms / 1000

    with FakeLLM(models=[MODEL]) as llm, tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "history.sqlite3"
        command = os.environ.get("RYAN_BENCH_SERVER", f"{sys.executable} -m ryan_server").split()
        server = await Client.spawn(*command)
        await server.initialize(
            {
                "baseUrl": llm.url,
                "model": MODEL,
                "historyPath": str(history),
                "tools": {"enabled": False},
                "streaming": {"updateIntervalMs": 0},
            }
        )
        await stream(llm, server, 20, 0.0, None)  # warm-up: lazy imports, the store opened
        alone = await stream(llm, server, args.deltas, delay, None)
        locked = await stream(llm, server, args.deltas, delay, (history, args.lock_after, args.hold))
        status = await server.request("ryan/status", {})
        await server.close()

    assert locked.locked is not None and locked.released is not None
    held_ms = (locked.released - locked.locked) * 1000
    stream_end = locked.progress[-1]
    gap_held = locked.longest_gap_ms(locked.locked, locked.released)
    missed = gap_held > TARGET_MS
    print(
        f"stream: {args.deltas} deltas {args.delay_ms:g} ms apart, updateIntervalMs 0;"
        f" lock held {held_ms:.0f} ms from {(locked.locked - locked.first_content) * 1000:.0f} ms"
        f" after the first content ({locked.during(locked.locked, locked.released)} of"
        f" {len(locked.progress)} notifications while held"
        f"{'; the lock outlasted the stream' if locked.released > stream_end else ''})"
    )
    for name, run in (("without the lock holder", alone), ("with the lock held", locked)):
        print(
            f"{name:24s} first content {run.first_content_ms:6.2f} ms   longest $/progress gap"
            f" {run.longest_gap_ms():7.2f} ms   stream {(run.progress[-1] - run.progress[0]):5.2f} s"
        )
    print(
        f"longest gap while the lock was held: {gap_held:.2f} ms"
        f"  (target <= {TARGET_MS:.0f} ms{': MISSED' if missed else ''})"
    )
    history_state = status.get("result", {}).get("history", {})
    print(f"history still on file after the lock: persistent={history_state.get('persistent')}")
    return 1 if missed or history_state.get("persistent") is not True else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
