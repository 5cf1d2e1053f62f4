"""run_command output: throughput and memory while a command prints a lot.

    python bench/command_output.py [--mb 100] [--interval-ms 50]

Runs `head -c N /dev/zero | tr '\\0' x` (plus a line-by-line variant) through Ryan's `run_command` plan
in this process, with the live output going through the engine's coalescer into JSON-RPC
`$/progress` bodies (serialised and dropped, as the server would write them), and prints MB/s, the
number of `toolOutput` events, what the model is given, and the process's peak RSS before and after
(`ru_maxrss`), so "memory stays flat" is a number.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ryan_server.chat.throttle import Coalescer  # noqa: E402
from ryan_server.protocol import ToolOutput  # noqa: E402
from ryan_server.tools import CommandLimits, ToolRegistry, Workspace  # noqa: E402


class NoEditor:
    async def request_approval(self, message: str, actions: object) -> str | None:
        return "Allow"

    async def apply_edit(self, path: Path, old_text: str | None, new_text: str) -> bool:
        return False

    async def open_text(self, path: Path) -> str | None:
        return None


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


async def one(registry: ToolRegistry, command: str, megabytes: int, interval_ms: int) -> None:
    events = 0
    written = 0

    def send(event: object) -> None:
        nonlocal events, written
        assert isinstance(event, ToolOutput)
        body = {
            "jsonrpc": "2.0",
            "method": "$/progress",
            "params": {
                "token": "t",
                "value": {"kind": event.kind, "callId": event.call_id, "text": event.text},
            },
        }
        written += len(json.dumps(body))
        events += 1

    live = Coalescer(send, interval_ms)  # type: ignore[arg-type]
    prepared = await registry.prepare("run_command", {"command": command, "timeoutSeconds": 600})
    output_of_call = functools.partial(ToolOutput, "call_1")
    prepared.stream_output(lambda text: live.push(output_of_call, text))
    before = peak_mb()
    started = time.perf_counter()
    result = await prepared.run()
    await live.drain()
    took = time.perf_counter() - started
    print(f"  {command[:60]}")
    print(
        f"    {megabytes / took:7.1f} MB/s  ({megabytes} MB in {took:.2f} s); {events} toolOutput events, "
        f"{written / 1e6:.1f} MB of JSON written"
    )
    print(
        f"    the model gets {len(result.encode()):,} bytes; "
        f"peak RSS {before:.0f} MB before, {peak_mb():.0f} MB after"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--interval-ms", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        registry = ToolRegistry(
            Workspace([Path(folder)]), NoEditor(), commands=CommandLimits(max_output_bytes=50_000)
        )
        size = args.mb * 1_000_000
        print(f"run_command output, {args.mb} MB, coalesced every {args.interval_ms} ms:")
        await one(registry, f"head -c {size} /dev/zero | tr '\\0' x", args.mb, args.interval_ms)
        lines = size // 80
        await one(registry, f"yes {'y' * 78} | head -n {lines}", args.mb, args.interval_ms)


if __name__ == "__main__":
    asyncio.run(main())
