"""Prompt-cache benchmark: how much of each follow-up turn llama.cpp reuses from Ryan's previous request.

    python bench/prompt_cache.py [--model PATH.gguf] [--turns 3]

Starts the built-in model's server (`ryan_server.backends.embedded`, SmolLM2-135M by default), a small
recording proxy in front of it, and the real `ryan-server` over stdio pointed at the proxy (provider
`openai`, tools on, as a user would run it). It plays one session of `--turns` chats and reads, from
the final SSE chunk of each model request that passed the proxy, llama.cpp's `timings`:

    reuse = cache_n / (previous request's prompt tokens)      target ≥ 90 % on turns 2 and 3

The KV cache also holds the previous answer's tokens, so cache_n can exceed the previous prompt; the
table also shows `of prompt+answer` = cache_n / (previous prompt + completion tokens). A low figure
means Ryan's prompt prefix changed from one turn to the next (a re-rendered earlier turn, a changing
system prompt or tool list), and the model re-read the whole conversation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.relay import Client  # noqa: E402
from ryan_server.backends.embedded import EmbeddedServer  # noqa: E402

QUESTIONS = [
    "How do I reverse a list in Python?",
    "And how do I sort it in descending order instead?",
    "Which of the two is faster for a list of a million integers?",
    "Show it as a one-line example.",
]
TARGET = 0.90


class RecordingProxy:
    """Forwards TCP to the model server and keeps every response body, to read `timings` from."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.responses: list[bytes] = []
        self.port = 0

    async def start(self) -> None:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        received = bytearray()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, keep: bool) -> None:
            while data := await src.read(65536):
                if keep:
                    received.extend(data)
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True))
        self.responses.append(bytes(received))

    def timings(self) -> list[dict[str, Any]]:
        """The `timings` of each streamed chat answer, in order."""
        found = []
        for body in self.responses:
            last = None
            for line in body.decode("utf-8", "replace").splitlines():
                if line.startswith("data: {") and '"timings"' in line:
                    last = json.loads(line[6:])["timings"]
            if last is not None:
                found.append(last)
        return found


async def run(model: str | None, turns: int) -> int:
    async with EmbeddedServer(model) as llama:
        assert llama.base_url is not None
        upstream = int(llama.base_url.rsplit(":", 1)[1].split("/")[0])
        proxy = RecordingProxy(upstream)
        await proxy.start()
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "RYAN_HISTORY": str(Path(tmp) / "history.sqlite3")}
            server = await Client.spawn(sys.executable, "-m", "ryan_server", env=env)
            settings = {
                "provider": "openai",
                "baseUrl": f"http://127.0.0.1:{proxy.port}/v1",
                "apiKey": llama.api_key,
                "model": llama.model_name,
                "options": {"temperature": 0, "max_tokens": 32},
            }
            await server.initialize(settings)
            session = None
            for question in QUESTIONS[:turns]:
                params: dict[str, Any] = {"prompt": question, "partialResultToken": "bench"}
                if session:
                    params["sessionId"] = session
                answer = await server.request("ryan/chat", params)
                assert "result" in answer, answer
                session = answer["result"]["sessionId"]
            await server.close()
    timings = proxy.timings()
    print(f"{'turn':>4} {'prompt':>6} {'cache_n':>7} {'prompt_n':>8} {'reuse':>7} {'of prompt+answer':>17}")
    shares: list[float] = []
    for turn, t in enumerate(timings, 1):
        prompt = t["cache_n"] + t["prompt_n"]
        reuse = both = ""
        if turn > 1:
            before = timings[turn - 2]
            previous = before["cache_n"] + before["prompt_n"]
            share = t["cache_n"] / previous
            shares.append(share)
            reuse = f"{share:.1%}"
            both = f"{t['cache_n'] / (previous + before['predicted_n']):.1%}"
        print(f"{turn:>4} {prompt:>6} {t['cache_n']:>7} {t['prompt_n']:>8} {reuse:>7} {both:>17}")
    worst = min(shares, default=0.0)
    met = len(timings) == turns and worst >= TARGET
    print(
        f"reuse of the previous prompt on turns 2-{turns}: worst {worst:.1%}  (target >= {TARGET:.0%}): "
        f"{'met' if met else 'MISSED'}"
    )
    return 0 if met else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a GGUF file (default: the built-in SmolLM2-135M)")
    parser.add_argument("--turns", type=int, default=3, choices=range(2, len(QUESTIONS) + 1))
    args = parser.parse_args()
    return asyncio.run(run(args.model, args.turns))


if __name__ == "__main__":
    sys.exit(main())
