"""Relay benchmark: throughput, first-token overhead and cold start of ryan-server.

    python bench/relay.py [--deltas 100000] [--runs 50]

Prints, side by side:
- relay throughput: deltas/s a stdio client receives through ryan-server (coalesced `$/progress`)
  ÷ deltas/s read directly from the same backend with httpx (aiter_lines + json.loads); target ≥ 0.8;
- first-token overhead: (first `content` progress at the client) − (first delta read directly), over
  `--runs` runs, median and p95; target median ≤ 5 ms;
- cold start: spawn → `initialize` result for ryan-server ÷ the same for a bare pygls server; target ≤ 1.1.

To profile the server side: RYAN_BENCH_SERVER="python -m pyinstrument -o /tmp/relay.txt -m ryan_server".

The backend is the scripted LLM server from tests/fakes, serving a pre-rendered NDJSON body in large
chunks so that it is not the bottleneck. The client here frames JSON-RPC by hand on purpose: it must
add as little as possible to what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.llm_server import FakeLLM, Raw, Reply, Text  # noqa: E402

MODEL = "llama3.2:latest"
BARE_SERVER = "from pygls.lsp.server import LanguageServer; LanguageServer('bare', '0').start_io()"


def ndjson_body(deltas: int) -> list[bytes]:
    line = json.dumps({"model": MODEL, "message": {"role": "assistant", "content": "tok "}, "done": False})
    final = json.dumps(
        {
            "model": MODEL,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 10,
            "eval_count": deltas,
        }
    )
    body = ((line + "\n") * deltas + final + "\n").encode()
    return [body[i : i + 65536] for i in range(0, len(body), 65536)]


class Client:
    """A minimal JSON-RPC client over a server's stdio."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0
        self.waiting: dict[int, asyncio.Future[Any]] = {}
        self.on_progress: Any = None
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(cls, *argv: str, env: dict[str, str] | None = None) -> Client:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )
        return cls(process)

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            header = await stdout.readuntil(b"\r\n\r\n")
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(await stdout.readexactly(length))
            if "id" in message and ("result" in message or "error" in message):
                self.waiting.pop(message["id"]).set_result(message)
            elif message.get("method") == "$/progress" and self.on_progress:
                self.on_progress(message["params"]["value"])

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def request(self, method: str, params: Any) -> asyncio.Future[Any]:
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = future
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return future

    async def initialize(self, options: dict[str, Any] | None = None) -> None:
        await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": {},
                "initializationOptions": options or {},
            },
        )
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    async def close(self) -> None:
        await self.request("shutdown", None)
        self.send({"jsonrpc": "2.0", "method": "exit", "params": None})
        await self.process.wait()
        self.reader.cancel()


async def direct_stream(llm: FakeLLM, client: httpx.AsyncClient) -> tuple[int, float, float]:
    """Stream one answer straight from the backend: (deltas, seconds to first delta, seconds in all)."""
    started = time.perf_counter()
    first = 0.0
    count = 0
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with client.stream("POST", llm.url + "/api/chat", json=body) as response:
        async for line in response.aiter_lines():
            chunk = json.loads(line)
            if chunk["message"]["content"]:
                count += 1
                if not first:
                    first = time.perf_counter() - started
    return count, first, time.perf_counter() - started


async def relay_stream(server: Client) -> tuple[int, float, float]:
    """Stream one answer through ryan-server: (characters, seconds to first content, seconds in all)."""
    started = time.perf_counter()
    first = 0.0
    received: list[str] = []

    def on_progress(value: dict[str, Any]) -> None:
        nonlocal first
        if value.get("kind") == "content":
            if not first:
                first = time.perf_counter() - started
            received.append(value["text"])

    server.on_progress = on_progress
    response = await server.request("ryan/chat", {"prompt": "hi", "partialResultToken": "bench"})
    total = time.perf_counter() - started
    assert "result" in response, response
    text = "".join(received)
    assert text == response["result"]["content"]
    return len(text), first, total


async def throughput(llm: FakeLLM, server: Client, deltas: int, rounds: int) -> tuple[float, float]:
    body = ndjson_body(deltas)
    direct_rates, relay_rates = [], []
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(rounds):
            llm.enqueue(Raw(body))
            count, _, seconds = await direct_stream(llm, client)
            assert count == deltas
            direct_rates.append(deltas / seconds)
            llm.enqueue(Raw(body))
            chars, _, seconds = await relay_stream(server)
            assert chars == 4 * deltas
            relay_rates.append(deltas / seconds)
    return statistics.median(direct_rates), statistics.median(relay_rates)


async def first_token(llm: FakeLLM, server: Client, runs: int) -> list[float]:
    overheads = []
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(runs):
            llm.enqueue(Reply([Text("first "), Text("second")]))
            _, direct_first, _ = await direct_stream(llm, client)
            llm.enqueue(Reply([Text("first "), Text("second")]))
            _, relay_first, _ = await relay_stream(server)
            overheads.append((relay_first - direct_first) * 1000)
    return overheads


async def cold_start(rounds: int) -> tuple[float, float]:
    async def once(*argv: str) -> float:
        started = time.perf_counter()
        client = await Client.spawn(*argv)
        await client.initialize()
        elapsed = time.perf_counter() - started
        await client.close()
        return elapsed

    ryan, bare = [], []
    for _ in range(rounds):
        ryan.append(await once(sys.executable, "-m", "ryan_server"))
        bare.append(await once(sys.executable, "-c", BARE_SERVER))
    return statistics.median(ryan), statistics.median(bare)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deltas", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with FakeLLM(models=[MODEL]) as llm, tempfile.TemporaryDirectory() as tmp:
        command = os.environ.get("RYAN_BENCH_SERVER", f"{sys.executable} -m ryan_server").split()
        server = await Client.spawn(*command)
        await server.initialize(
            {"baseUrl": llm.url, "model": MODEL, "historyPath": f"{tmp}/h.db", "tools": {"enabled": False}}
        )
        await relay_stream_warmup(llm, server)
        direct, relay = await throughput(llm, server, args.deltas, args.rounds)
        overheads = await first_token(llm, server, args.runs)
        await server.close()
    ryan_start, bare_start = await cold_start(7)
    p95 = sorted(overheads)[int(len(overheads) * 0.95) - 1]
    print(
        f"relay throughput   direct {direct:>9,.0f} deltas/s   through ryan-server {relay:>9,.0f} deltas/s"
        f"   ratio {relay / direct:.2f}  (target >= 0.8)"
    )
    print(
        f"first-token        overhead median {statistics.median(overheads):.2f} ms   p95 {p95:.2f} ms"
        f"   over {len(overheads)} runs  (target median <= 5 ms)"
    )
    print(
        f"cold start         ryan-server {ryan_start * 1000:.0f} ms   bare pygls {bare_start * 1000:.0f} ms"
        f"   ratio {ryan_start / bare_start:.2f}  (target <= 1.1)"
    )


async def relay_stream_warmup(llm: FakeLLM, server: Client) -> None:
    """One chat first, so the lazy imports and the store are not counted in the first run."""
    llm.enqueue(Reply([Text("warm")]))
    await relay_stream(server)


if __name__ == "__main__":
    asyncio.run(main())
