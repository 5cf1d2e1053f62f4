"""Shared pieces of the VS Code panel tests and `bench/panel_render.py`: paths, the Chromium launch,
the panel loaded on its own with a stub `acquireVsCodeApi()`, and a generated 200 KB answer.
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
EXT = ROOT / "editors" / "vscode"
ARTIFACTS = ROOT / "artifacts"

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
NONCE = "test-nonce"


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_built() -> None:
    """Bundles the panel script if it is missing or older than its sources."""
    out = EXT / "dist" / "webview.js"
    sources = list((EXT / "media").glob("*.js")) + list((EXT / "src").glob("*.ts"))
    if out.exists() and all(s.stat().st_mtime <= out.stat().st_mtime for s in sources):
        return
    if not (EXT / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=EXT, check=True)
    subprocess.run(["node", "scripts/build.mjs"], cwd=EXT, check=True)


def harness_html(directory: Path, *, csp: bool = True, manual_frames: bool = False) -> Path:
    """Writes a page that loads the panel as the extension does (same CSP shape, nonce'd scripts),
    with a stub `acquireVsCodeApi()` that records what the panel posts and keeps its state.

    `manual_frames` replaces requestAnimationFrame with a queue the caller drains (`__frame()`),
    so a benchmark can render after every delta.
    """
    # The extension's policy (src/panelHtml.ts): no 'unsafe-inline' styles. The theme variables VS Code
    # provides are set here through the CSSOM, as VS Code's webview host does, which CSP allows.
    policy = f"default-src 'none'; script-src 'nonce-{NONCE}'; style-src file:; img-src data:"
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">' if csp else ""
    frames = (
        "window.__frames = [];"
        " window.requestAnimationFrame = (cb) => { window.__frames.push(cb); return 1; };"
        "window.__frame = () => { const q = window.__frames; window.__frames = [];"
        " for (const cb of q) cb(performance.now()); return q.length; };"
        if manual_frames
        else ""
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">{meta}
<link rel="stylesheet" href="{(EXT / "media" / "chat.css").as_uri()}">
</head><body><div id="app"></div>
<script nonce="{NONCE}">
for (const [name, value] of Object.entries({{
  '--vscode-font-family': "'DejaVu Sans', sans-serif",
  '--vscode-editor-font-family': "'DejaVu Sans Mono', monospace",
  '--vscode-foreground': '#cccccc', '--vscode-sideBar-background': '#181818',
}})) document.documentElement.style.setProperty(name, value);
window.__posted = []; window.__violations = [];
window.__state = JSON.parse(sessionStorage.getItem('state') || 'null');
window.acquireVsCodeApi = () => ({{
  postMessage: (m) => window.__posted.push(m),
  getState: () => window.__state,
  setState: (s) => {{ window.__state = s; sessionStorage.setItem('state', JSON.stringify(s)); }},
}});
window.__send = (m) => window.dispatchEvent(new MessageEvent('message', {{ data: m }}));
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
{frames}
</script>
<script nonce="{NONCE}" src="{(EXT / "dist" / "webview.js").as_uri()}"></script>
</body></html>
"""
    path = directory / ("panel.html" if csp else "panel-nocsp.html")
    path.write_text(page, encoding="utf-8")
    return path


_WORDS = (
    "the model streams tokens into the panel while the renderer keeps only the open block live and "
    "freezes every finished block so the cost of a delta stays flat however long the answer grows"
).split()


def make_answer(size: int = 200_000, seed: int = 7) -> str:
    """A markdown answer of about `size` characters: headings, paragraphs, lists, code, tables, quotes."""
    rnd = random.Random(seed)

    def sentence() -> str:
        words = [rnd.choice(_WORDS) for _ in range(rnd.randint(6, 18))]
        if rnd.random() < 0.3:
            words[rnd.randrange(len(words))] = f"`{rnd.choice(_WORDS)}()`"
        if rnd.random() < 0.2:
            words[rnd.randrange(len(words))] = f"**{rnd.choice(_WORDS)}**"
        return " ".join(words).capitalize() + "."

    parts: list[str] = []
    n = 0
    section = 0
    while sum(len(p) for p in parts) < size:
        kind = n % 7
        n += 1
        if kind == 0:
            section += 1
            parts.append(f"## Section {section}: {rnd.choice(_WORDS)}\n\n")
        elif kind in (1, 4):
            parts.append(" ".join(sentence() for _ in range(rnd.randint(2, 5))) + "\n\n")
        elif kind == 2:
            items = "".join(f"- {sentence()}\n" for _ in range(rnd.randint(2, 5)))
            parts.append(items + "\n")
        elif kind == 3:
            lang = rnd.choice(["python", "ts", "bash", ""])
            body = "".join(
                f"def step_{section}_{i}(x):\n    return x * {i}  # {rnd.choice(_WORDS)}\n"
                if lang == "python"
                else f"const v{i}: number = {i} * {section}; // {rnd.choice(_WORDS)}\n"
                if lang == "ts"
                else f"echo {rnd.choice(_WORDS)} {i}\n"
                for i in range(rnd.randint(3, 8))
            )
            parts.append(f"```{lang}\n{body}```\n\n")
        elif kind == 5:
            rows = "".join(
                f"| {rnd.choice(_WORDS)} | {rnd.randint(1, 999)} |\n" for _ in range(rnd.randint(2, 4))
            )
            parts.append(f"| name | value |\n|---|---|\n{rows}\n")
        else:
            parts.append(f"> {sentence()}\n> {sentence()}\n\n1. {sentence()}\n2. {sentence()}\n\n")
    parts.append(f"The end of section {section}.\n")
    return "".join(parts)


def split_deltas(text: str, count: int = 5000, seed: int = 3) -> list[str]:
    """`count` deltas of uneven length (cuts fall anywhere: mid-word, mid-fence, mid-line)."""
    rnd = random.Random(seed)
    cuts = sorted(rnd.sample(range(1, len(text)), count - 1))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]
