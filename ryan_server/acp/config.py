"""The settings of `ryan-server --acp`: the user settings file, then the command line's flags.

The environment (`OLLAMA_HOST`, `RYAN_HISTORY`, `RYAN_API_KEY`) is read by `Settings` itself, as for
every front end. A bad key costs only that key (see `settings.merge`); each problem is returned as a
line for the log and for the first answer of the session.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..settings import Settings, merge


def load_settings(
    path: Path, *, provider: str | None = None, base_url: str | None = None, model: str | None = None
) -> tuple[Settings, list[str]]:
    """Settings from the file at `path` (missing: the defaults) overridden by the flags given."""
    settings = Settings()
    problems: list[str] = []
    raw = _read(path, problems)
    if raw is not None:
        settings, errors = merge(settings, raw)
        problems += [f"{path}: {error.removeprefix('ryan.')}" for error in errors]
    flags = {"provider": provider, "baseUrl": base_url, "model": model}
    given = {key: value for key, value in flags.items() if value is not None}
    settings, errors = merge(settings, given)
    problems += [f"command line: {error.removeprefix('ryan.')}" for error in errors]
    return settings, problems


def _read(path: Path, problems: list[str]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{path}: cannot read it ({getattr(error, 'strerror', None) or error})")
        return None
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(f"{path}: not valid JSON ({error.msg} at line {error.lineno}); using the defaults")
        return None
