"""Fixtures for driving the `ryan` terminal client as a user would: a subprocess or a pseudo-terminal.

Every test gets its own HOME, history file and workspace folder, so nothing touches the real user's
data, and its own scripted LLM server (`tests/fakes/llm_server.py`) passed as `--base-url`.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pyte
import pytest

from ryan_server.client.rpc import RyanClient
from tests.fakes.llm_server import FakeLLM

RYAN = [sys.executable, "-m", "ryan_server.client.cli"]
ENV_DROP = (
    "OLLAMA_HOST",
    "RYAN_API_KEY",
    "RYAN_CONFIG",
    "RYAN_SERVER_CMD",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "NO_COLOR",
    "FORCE_COLOR",
)


class Ryan:
    """Runs `ryan` in one test's sandbox (cwd = workspace, HOME and RYAN_HISTORY under tmp)."""

    def __init__(self, tmp_path: Path, llm: FakeLLM) -> None:
        self.llm = llm
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.workspace = tmp_path / "ws"
        self.workspace.mkdir()
        self.history = tmp_path / "history.sqlite3"
        env = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
        env.update(
            HOME=str(self.home),
            RYAN_HISTORY=str(self.history),
            TERM="xterm-256color",
            PYTHONUNBUFFERED="1",
            COLUMNS="120",
            LINES="40",
        )
        self.env = env

    def argv(self, *args: str, base_url: str | None = None) -> list[str]:
        """`ryan ARGS --base-url URL`; base_url="" leaves the flag to ARGS."""
        if base_url == "":
            return [*RYAN, *args]
        return [*RYAN, *args, "--base-url", base_url or self.llm.url]

    def run(
        self, *args: str, base_url: str | None = None, timeout: float = 60, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args, base_url=base_url),
            env=self.env,
            cwd=self.workspace,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin if stdin is not None else "",
        )

    def popen(self, *args: str, base_url: str | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args, base_url=base_url),
            env=self.env,
            cwd=self.workspace,
            text=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def spawn(self, *args: str, base_url: str | None = None, timeout: float = 20) -> pexpect.spawn:
        argv = self.argv(*args, base_url=base_url)
        child = pexpect.spawn(
            argv[0],
            argv[1:],
            env=self.env,
            cwd=str(self.workspace),
            encoding="utf-8",
            timeout=timeout,
            dimensions=(40, 120),
            codec_errors="replace",
        )
        child.logfile_read = io.StringIO()  # everything it printed, for `screen()`
        return child


def screen(child: pexpect.spawn) -> list[str]:
    """The non-blank lines a user sees on the terminal now: the child's output played on a 120x40 screen."""
    shown = pyte.Screen(120, 40)
    pyte.Stream(shown).feed(child.logfile_read.getvalue())
    return [line.rstrip() for line in shown.display if line.strip()]


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(models=["llama3.2:latest", "qwen2.5-coder:7b"]) as server:
        yield server


@pytest.fixture
def ryan(tmp_path: Path, llm: FakeLLM) -> Ryan:
    return Ryan(tmp_path, llm)


@pytest.fixture
def dead_url() -> str:
    """An address where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


_capabilities: dict[str, Any] = {}


def server_capabilities(tmp: Path, env: dict[str, str]) -> dict[str, Any]:
    """The server's `experimental.ryan` capability, asked once per test run over stdio."""
    if not _capabilities:

        async def ask() -> dict[str, Any]:
            client = RyanClient(root=tmp, settings={"baseUrl": "http://127.0.0.1:9"}, env=env)
            try:
                return await client.start()
            finally:
                await client.close()

        result = asyncio.run(ask())
        _capabilities.update(((result.get("capabilities") or {}).get("experimental") or {}).get("ryan") or {})
    return _capabilities


@pytest.fixture
def needs_write_file(ryan: Ryan) -> None:
    tools = server_capabilities(ryan.workspace, ryan.env).get("tools") or []
    if "write_file" not in tools:
        pytest.skip(f"the server does not advertise write_file yet (tools: {tools})")
