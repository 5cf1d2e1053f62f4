"""Chat panel render benchmark: main-thread time per delta while streaming a 200 KB answer.

Loads the panel script (editors/vscode/dist/webview.js) in Debian's headless Chromium with a stub
`acquireVsCodeApi()`, streams 5,000 deltas and renders after every one of them (the worst case: each
delta in its own animation frame, the frame driven by hand), forcing style and layout each time.
Reports the mean, median and p95 time per delta for the first and the last thousand deltas (each
delta's median over --repeat runs); the incremental renderer's target is last <= 1.5 x first.

    .venv/bin/python bench/panel_render.py [--deltas 5000] [--size 200000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "editors" / "vscode"))

from vscode_harness import CHROMIUM_ARGS, chromium_path, ensure_built, harness_html, make_answer, split_deltas  # noqa: E402

MEASURE_JS = """async (deltas) => {
  const log = document.querySelector('.messages');
  __send({type: 'userMessage', requestId: 'b', text: 'benchmark', context: []});
  __send({type: 'start', requestId: 'b', sessionId: 's', model: 'm'});
  __frame();
  const times = new Array(deltas.length);
  for (let i = 0; i < deltas.length; i++) {
    const t0 = performance.now();
    __send({type: 'content', requestId: 'b', text: deltas[i]});
    __frame();
    void log.scrollHeight;  // force style + layout inside the measurement
    times[i] = performance.now() - t0;
  }
  __send({type: 'done', requestId: 'b', stopReason: 'stop', model: 'm', sessionId: 's', summary: ''});
  return times;
}"""


def _summary(xs: list[float]) -> dict[str, float]:
    s = sorted(xs)
    return {
        "mean_ms": round(statistics.fmean(s), 4),
        "median_ms": round(statistics.median(s), 4),
        "p95_ms": round(s[int(len(s) * 0.95)], 4),
        "max_ms": round(s[-1], 4),
    }


def measure(
    browser: Any, workdir: Path, deltas: int = 5000, size: int = 200_000, repeats: int = 3
) -> dict[str, Any]:
    """Streams the answer `repeats` times, each in a fresh page of `browser` (a Playwright Browser),
    and keeps each delta's median over the runs: the machine is shared, and a single run's mean is
    at the mercy of a few stalls (GC, another process) that land in one thousand or the other."""
    answer = make_answer(size)
    parts = split_deltas(answer, deltas)
    runs: list[list[float]] = []
    for _ in range(repeats):
        context = browser.new_context(viewport={"width": 420, "height": 760})
        try:
            page = context.new_page()
            page.goto(harness_html(workdir, manual_frames=True).as_uri())
            page.wait_for_function("window.__posted.some(m => m.type === 'ready')")
            runs.append(page.evaluate(MEASURE_JS, parts))
        finally:
            context.close()
    times = [statistics.median(t) for t in zip(*runs, strict=True)]
    first, last = times[:1000], times[-1000:]
    f, la = _summary(first), _summary(last)
    return {
        "deltas": len(parts),
        "answer_bytes": len(answer.encode()),
        "first_1000": f,
        "last_1000": la,
        "ratio_last_to_first": round(la["mean_ms"] / f["mean_ms"], 3),
        "ratio_median": round(la["median_ms"] / f["median_ms"], 3),
        "total_s": round(sum(times) / 1000, 3),
        "repeats": repeats,
        "single_run_ratios": [
            round(statistics.fmean(r[-1000:]) / statistics.fmean(r[:1000]), 3) for r in runs
        ],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deltas", type=int, default=5000)
    ap.add_argument("--size", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs; each delta keeps its median")
    ap.add_argument("--json", type=Path, help="also write the result here")
    args = ap.parse_args()
    chromium = chromium_path()
    if chromium is None:
        print("Debian's chromium is not installed: run scripts/setup-vscode.sh", file=sys.stderr)
        return 2
    ensure_built()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            result = measure(browser, Path(tmp), args.deltas, args.size, args.repeat)
        finally:
            browser.close()
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    target = "OK" if result["ratio_last_to_first"] <= 1.5 else "ABOVE TARGET"
    print(f"last/first = {result['ratio_last_to_first']} (target <= 1.5: {target})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
