"""Benchmark the history store at scale: what `ryan/sessions` and `ryan/session` cost with a big history.

Builds a database of 1,000 sessions x 50 messages (one workspace, the worst case for listing; realistic
message sizes, tool calls included) in one transaction, opens it as the server does, then times over 50
calls each, including the conversion to dicts the server does (`dataclasses.asdict`):
  - `list_sessions(workspace)`             (ryan/sessions; target <= 50 ms)
  - `get_session(id)` + `messages(id)`     (ryan/session;  target <= 50 ms)
then the same two requests through the real ryan-server over stdio (JSON-RPC, serialisation included),
and, for the chat path, `open_store` and one `append_message` / `update_message` (a streaming checkpoint).

    python bench/history.py [--sessions 1000] [--messages 50] [--keep PATH]

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from relay import Client

from ryan_server.store.records import MessageRecord, new_session_id
from ryan_server.store.sqlite import SqliteStore, open_store

TARGET_MS = 50.0
CALLS = 50
WORKSPACE = "/home/user/projects/ryan"

WORDS = "the model reads a file and then edits the function so that tests pass again with care".split()


def text(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


def build(path: Path, sessions: int, per_session: int) -> float:
    """Fill `path` with the store's schema and `sessions` x `per_session` messages; return seconds taken."""
    SqliteStore(path).close()  # schema
    rng = random.Random(6)
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    session_rows: list[tuple[object, ...]] = []
    message_rows: list[tuple[object, ...]] = []
    for s in range(sessions):
        session_id = new_session_id()
        stamp = (
            f"2025-{1 + s * 12 // sessions:02d}-{1 + s % 28:02d}T{s % 24:02d}:{s % 60:02d}:00.{s % 1000:03d}Z"
        )
        session_rows.append(
            (session_id, text(rng, 60), "qwen2.5-coder:7b", WORKSPACE, stamp, stamp, per_session)
        )
        for seq in range(1, per_session + 1):
            kind = seq % 5
            row: tuple[str, str, str | None, str | None, str | None, str | None]
            if kind == 1:  # user prompt
                row = ("user", text(rng, 300), None, None, None, None)
            elif kind == 2:  # assistant asks for a tool
                calls = [{"callId": f"c{seq}", "name": "read_file", "arguments": {"path": "src/app.py"}}]
                row = ("assistant", "", text(rng, 400), json.dumps(calls), None, None)
            elif kind == 3:  # the tool's result
                row = ("tool", text(rng, 3000), None, None, "read_file", f"c{seq - 1}")
            else:  # answers
                row = ("assistant", text(rng, 1500), None, None, None, None)
            message_rows.append((session_id, seq, *row, "complete", stamp, 4242, None))
    conn.executemany(
        "INSERT INTO sessions (id, title, model, workspace, created_at, updated_at, message_count)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        session_rows,
    )
    conn.executemany(
        "INSERT INTO messages (session_id, seq, role, content, thinking, tool_calls, tool_name, tool_call_id,"
        " status, created_at, owner_pid, owner_started) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        message_rows,
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def timed(call: Callable[[], object], count: int = CALLS) -> tuple[float, float]:
    """Median and p95 of `count` calls, in milliseconds."""
    samples: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]


async def through_server(path: Path, ids: list[str]) -> dict[str, tuple[float, float]]:
    """`ryan/sessions` and `ryan/session` as an editor sees them: request to response over stdio."""
    server = await Client.spawn(sys.executable, "-m", "ryan_server")
    await server.request(
        "initialize",
        {
            "processId": None,
            "rootUri": Path(WORKSPACE).as_uri(),
            "capabilities": {},
            "initializationOptions": {"historyPath": str(path)},
        },
    )
    server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    rng = random.Random(2)
    results = {}
    for name, method, params in (
        ("ryan/sessions over stdio", "ryan/sessions", lambda: {}),
        ("ryan/session over stdio", "ryan/session", lambda: {"sessionId": rng.choice(ids)}),
    ):
        samples = []
        for _ in range(CALLS + 1):
            started = time.perf_counter()
            reply = await server.request(method, params())
            samples.append((time.perf_counter() - started) * 1000)
            assert "result" in reply, reply
        samples = sorted(samples[1:])  # the first call opens the store
        results[name] = (statistics.median(samples), samples[round(0.95 * len(samples)) - 1])
    listed = (await server.request("ryan/sessions", {}))["result"]["sessions"]
    assert len(listed) == len(ids) + 1, len(listed)
    await server.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "history.sqlite3"
        seconds = build(path, args.sessions, args.messages)
        size_mb = path.stat().st_size / 1e6
        print(
            f"built {args.sessions} sessions x {args.messages} messages in {seconds:.2f} s ({size_mb:.1f} MB)"
        )

        started = time.perf_counter()
        store, warning = open_store(path)
        open_ms = (time.perf_counter() - started) * 1000
        assert warning is None and isinstance(store, SqliteStore), warning
        ids = [s.session_id for s in store.list_sessions(WORKSPACE)]
        assert len(ids) == args.sessions
        rng = random.Random(1)

        def sessions() -> object:
            return [dataclasses.asdict(s) for s in store.list_sessions(WORKSPACE)]

        def session() -> object:
            session_id = rng.choice(ids)
            record = store.get_session(session_id)
            assert record is not None
            messages = [dataclasses.asdict(m) for m in store.messages(session_id)]
            assert len(messages) == args.messages
            return dataclasses.asdict(record), messages

        live = store.create_session(workspace=WORKSPACE, title="live", model="m")
        answer = MessageRecord("assistant", "", status="streaming")

        def append() -> object:
            return store.append_message(live.session_id, MessageRecord("user", text(rng, 300)))

        def checkpoint() -> None:
            if answer.id is None:
                store.append_message(live.session_id, answer)
            answer.content += text(rng, 80)
            store.update_message(answer)

        results = {
            "ryan/sessions: list_sessions + asdict": timed(sessions),
            "ryan/session: get_session + messages + asdict": timed(session),
            "append_message (one commit)": timed(append),
            "update_message (streaming checkpoint)": timed(checkpoint),
        }
        store.close()
        results |= asyncio.run(through_server(path, ids))

    print(f"open_store: {open_ms:.2f} ms")
    failed = False
    for name, (median, p95) in results.items():
        targeted = name.startswith("ryan/")
        over = targeted and p95 > TARGET_MS
        failed |= over
        note = f"  (target <= {TARGET_MS:.0f} ms{': MISSED' if over else ''})" if targeted else ""
        print(f"{name:48s} median {median:7.2f} ms   p95 {p95:7.2f} ms{note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
