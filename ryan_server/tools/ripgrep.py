"""Ripgrep for search_files: finding the `rg` executable, and reading its `--json` output and errors.

`rg` is looked for beside `sys.executable` first (the venv's `bin/`, where the `ripgrep` wheel puts
it), then on PATH. When there is none, search_files falls back to a pure-Python walk.
"""

from __future__ import annotations

import base64
import os
import shutil
import sys
from functools import cache
from pathlib import Path

from .workspace import shorten


@cache
def find_rg() -> str | None:
    """The ripgrep executable: the one installed beside this Python (the `ripgrep` wheel), else PATH's."""
    beside = Path(sys.executable).parent / ("rg.exe" if os.name == "nt" else "rg")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("rg")


def rg_text(field: dict[str, str]) -> str:
    """A path or line from rg's JSON: `text` when it was valid UTF-8, else base64 `bytes`."""
    if "text" in field:
        return field["text"]
    return base64.b64decode(field["bytes"]).decode("utf-8", "replace")


def rg_error(pattern: str, stderr: str) -> str:
    """rg's complaint (exit code 2) as a message for the model: a bad regex, or why the search failed."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    reason = next(
        (line[len("error:") :].strip() for line in reversed(lines) if line.startswith("error:")), None
    )
    if reason is None:
        reason = lines[-1].removeprefix("rg: ") if lines else "ripgrep failed"
    if "regex" in stderr:
        return f"invalid regex {shorten(pattern)!r}: {reason}"
    return f"search failed: {reason}"
