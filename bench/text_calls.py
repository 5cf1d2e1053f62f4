"""Benchmark: the cost of reading tool calls from the answer text (ryan_server/chat/text_calls.py).

    python bench/text_calls.py [--deltas 100000] [--rounds 7] [--runs 2000]

Prints:
- throughput: ordinary prose in deltas of 1–8 characters through `TextCallParser.feed`, deltas/s
  (median of `--rounds`); target ≥ 500,000/s, so that it costs the relay (50,000 deltas/s) little.
  Beside it, the same loop calling a function that returns its argument (the floor), and prose full of
  `<`, `[` and `{` (code and links: the path that looks for a marker);
- first delta: the time `feed` takes to return the first ordinary delta of a turn (a fresh parser each
  run, `--runs` runs), median and p95 in µs; target median ≤ 50 µs (the first-token budget is 5 ms);
- a call: a `<tool_call>` writing a 20 kB file, streamed in deltas of 4 characters, deltas/s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ryan_server.chat.text_calls import TextCallParser

TOOLS = ("read_file", "write_file", "edit_file", "search_files", "list_files", "run_command")
WORDS = (
    "the model reads a file and then writes the answer so that the user can see what changed in it "
    "when a test fails we look at the error first, then at the code; nothing here is a tool call."
).split()
CODE = "if a < b: xs: list[int] = [1, 2] # see [docs](x) <b>bold</b> {key: value} `code` a<b".split()


def deltas_of(words: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    text_parts: list[str] = []
    size = 0
    while size < count * 8:
        word = rng.choice(words) + rng.choice("     \n,.")
        text_parts.append(word)
        size += len(word)
    text = "".join(text_parts)
    deltas, at = [], 0
    for _ in range(count):
        step = rng.randint(1, 8)
        deltas.append(text[at : at + step])
        at += step
    return deltas


def rate(deltas: list[str], make: Callable[[], Callable[[str], str]], rounds: int) -> float:
    rates = []
    for _ in range(rounds):
        feed = make()
        started = time.perf_counter()
        for delta in deltas:
            feed(delta)
        rates.append(len(deltas) / (time.perf_counter() - started))
    return statistics.median(rates)


def parser_feed() -> Callable[[str], str]:
    parser = TextCallParser(TOOLS)
    return parser.feed


def identity() -> Callable[[str], str]:
    return lambda text: text


def first_delta(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        parser = TextCallParser(TOOLS)
        started = time.perf_counter_ns()
        shown = parser.feed("Sure")
        times.append((time.perf_counter_ns() - started) / 1000)
        assert shown == "Sure"
    return times


def call_rate(rounds: int) -> tuple[float, int]:
    content = "".join(deltas_of(WORDS, 2500, seed=3))[:20_000]
    call = json.dumps({"name": "write_file", "arguments": {"path": "notes.md", "content": content}})
    text = f"I will write it.\n<tool_call>\n{call}\n</tool_call>"
    deltas = [text[i : i + 4] for i in range(0, len(text), 4)]
    rates = []
    for _ in range(rounds):
        parser = TextCallParser(TOOLS)
        started = time.perf_counter()
        for delta in deltas:
            parser.feed(delta)
        parser.finish()
        rates.append(len(deltas) / (time.perf_counter() - started))
        assert [c.name for c in parser.calls] == ["write_file"] and parser.calls[0].error is None
    return statistics.median(rates), len(deltas)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--deltas", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()

    prose = deltas_of(WORDS, args.deltas, seed=1)
    code = deltas_of(CODE, args.deltas, seed=2)
    check = TextCallParser(TOOLS)
    assert "".join(check.feed(d) for d in prose) + check.finish() == "".join(prose)
    floor = rate(prose, identity, args.rounds)
    plain = rate(prose, parser_feed, args.rounds)
    marked = rate(code, parser_feed, args.rounds)
    first_delta(100)  # warm-up
    firsts = sorted(first_delta(args.runs))
    calls, call_deltas = call_rate(args.rounds)

    print(
        f"ordinary prose     {plain:>11,.0f} deltas/s through the parser"
        f"   a bare call {floor:>11,.0f} deltas/s   (+{(1 / plain - 1 / floor) * 1e9:.0f} ns a delta)"
        "   (target >= 500,000)"
    )
    print(f"prose with < [ {{   {marked:>11,.0f} deltas/s through the parser")
    p95 = firsts[int(len(firsts) * 0.95)]
    print(
        f"first delta        median {statistics.median(firsts):.2f} µs   p95 {p95:.2f} µs"
        f"   over {len(firsts)} turns  (target median <= 50 µs)"
    )
    print(f"a 20 kB call       {calls:>11,.0f} deltas/s   ({call_deltas:,} deltas of 4 characters, all held)")


if __name__ == "__main__":
    main()
