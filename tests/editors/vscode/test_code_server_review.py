"""Reviewing and undoing a turn's edits in a real VS Code (code-server, the packaged .vsix, the real
`ryan-server`, the scripted FakeLLM): the changed-files list under the answer, the diff editor with
the checkpoint on the left, Undo this turn and Redo on disk, the question about a hand-edited file,
and Regenerate with its `‹ 2/2 ›` switcher.

Shares test_code_server.py's harness; skipped the same way when code-server is not installed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from test_code_server import (
    ARTIFACTS,
    answer_approval,
    ask,
    open_panel,
    open_workbench,
    pytestmark,  # noqa: F401  (skipped without code-server)
    run_code_server,
    wait_until,
)

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

WRITES = ["list_files", "read_file", "search_files", "write_file", "edit_file", "delete_file"]
APP = "def add(a, b):\n    return a - b\n"
OLD = "an old note\nto be deleted\n"


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(models=["qwen3:4b", "llama3.2:3b"]) as fake:
        yield fake


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory, llm: FakeLLM) -> Iterator[dict[str, Any]]:
    # The writes run without asking, so the test is about the review, not the approvals.
    with run_code_server(
        tmp_path_factory.mktemp("code-server-review"),
        llm,
        user_settings={"ryan.tools.autoApprove": WRITES},
        log_name="code-server-review.log",
    ) as server:
        yield server


def until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_changed_files_diff_undo_and_redo(code_server: dict[str, Any], llm: FakeLLM, page: Any) -> None:
    ws = code_server["workspace"]
    app, new, old = ws / "src" / "app.py", ws / "src" / "new.py", ws / "old.txt"
    old.write_text(OLD)
    open_workbench(page, code_server)
    frame = open_panel(page)

    llm.enqueue(
        Reply([Text("Making the changes. "), ToolCall("write_file", {"path": "src/new.py", "content": "x = 1\ny = 2\n"})]),
        Reply([ToolCall("edit_file", {"path": "src/app.py", "oldText": "a - b", "newText": "a + b"})]),
        Reply([ToolCall("delete_file", {"path": "old.txt"})]),
        Reply([Text("Done: `add` adds, `new.py` exists and `old.txt` is gone.")]),
    )
    ask(frame, "Fix add, add new.py, remove old.txt")
    frame.wait_for_selector(".msg.assistant.done", timeout=30_000)

    # 1. The answer lists the files its turn changed.
    review = frame.locator(".msg.assistant.done .turn-review")
    review.wait_for(timeout=10_000)
    assert review.locator(".review-title").inner_text() == "Changed 3 files"
    rows = review.locator(".review-file")
    files = dict(zip(rows.locator(".file-path").all_inner_texts(), rows.locator(".file-change").all_inner_texts(), strict=True))
    assert files == {"src/new.py": "created", "src/app.py": "modified", "old.txt": "deleted"}, files
    counts = dict(
        zip(
            rows.locator(".file-path").all_inner_texts(),
            [f"{a} {r}" for a, r in zip(rows.locator(".file-added").all_inner_texts(),
                                        rows.locator(".file-removed").all_inner_texts(), strict=True)],
            strict=True,
        )
    )
    assert counts == {"src/new.py": "+2 −0", "src/app.py": "+1 −1", "old.txt": "+0 −2"}, counts
    assert not old.exists()
    page.locator(".part.sidebar").screenshot(path=str(ARTIFACTS / "code-server-review-files.png"))

    # 2. A file opens VS Code's diff editor: the checkpoint on the left, the file on the right.
    rows.filter(has_text="src/app.py").click()
    tab = page.locator(".tab", has_text="app.py (before Ryan's turn) ↔ app.py")
    tab.first.wait_for(timeout=15_000)
    page.wait_for_selector(".monaco-diff-editor .editor.original .view-lines:has-text('return a - b')", timeout=15_000)
    page.wait_for_selector(".monaco-diff-editor .editor.modified .view-lines:has-text('return a + b')", timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / "code-server-review-diff.png"))

    # 3. Undo this turn: every file as it was, on disk.
    undo = review.locator(".review-undo")
    assert undo.inner_text() == "Undo this turn"
    undo.click()
    wait_until(frame, "() => document.querySelector('.turn-review .review-result')?.textContent.startsWith('Restored')", 30)
    result = review.locator(".review-result").inner_text()
    for path in ("src/new.py", "src/app.py", "old.txt"):
        assert path in result, result
    until(lambda: app.read_text() == APP and not new.exists() and old.exists() and old.read_text() == OLD,
          f"the files on disk as before the turn: {app.read_text()!r}, new.py {new.exists()}, old.txt {old.exists()}")
    wait_until(frame, "() => document.querySelector('.turn-review .review-undo')?.textContent === 'Redo'", 10)
    assert "undone" in (review.get_attribute("class") or "")
    # The diff editor's right side is the file itself: it shows the restored text.
    page.wait_for_selector(".monaco-diff-editor .editor.modified .view-lines:has-text('return a - b')", timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / "code-server-review-undone.png"))

    # 4. Redo puts the turn's changes back.
    undo.click()
    wait_until(frame, "() => document.querySelector('.turn-review .review-result')?.textContent.startsWith('Redone')", 30)
    until(lambda: "a + b" in app.read_text() and new.exists() and not old.exists(), "the turn's changes back on disk")
    wait_until(frame, "() => document.querySelector('.turn-review .review-undo')?.textContent === 'Undo this turn'", 10)

    # 5. A file changed by hand since: Undo asks in the turn; "Keep my changes" leaves it alone.
    hand = "def add(a, b):\n    return a + b  # checked by hand\n"
    app.write_text(hand)
    page.wait_for_selector(".monaco-diff-editor .editor.modified .view-lines:has-text('checked by hand')", timeout=15_000)
    undo.click()
    card = answer_approval(page, frame, "changed since Ryan's edits", "Keep my changes", "code-server-review-conflict.png")
    assert card.locator("xpath=ancestor::div[contains(@class, 'turn-review')]").count() == 1
    wait_until(frame, "() => document.querySelector('.turn-review .review-result')?.textContent.startsWith('Restored')", 30)
    assert "kept your changes in src/app.py" in review.locator(".review-result").inner_text()
    until(lambda: not new.exists() and old.exists(), "the other files restored")
    assert app.read_text() == hand
    page.locator(".part.sidebar").screenshot(path=str(ARTIFACTS / "code-server-review-kept.png"))


def test_regenerate_and_switch_versions(code_server: dict[str, Any], llm: FakeLLM, page: Any) -> None:
    llm.reset()
    open_workbench(page, code_server)
    frame = open_panel(page)
    frame.click("button.icon-button:has-text('New')")
    wait_until(frame, "() => !document.querySelector('.msg')")

    llm.enqueue(Reply([Text("First version.")]), Reply([Text("Second version.")]))
    ask(frame, "Say something")
    frame.wait_for_selector(".msg.assistant.done", timeout=30_000)
    frame.locator(".msg.assistant .regenerate").click()
    wait_until(frame, "() => document.querySelector('.msg.assistant.done')?.innerText.includes('Second version.')", 30)
    assert frame.locator(".msg.assistant").count() == 1
    assert "First version." not in frame.locator(".messages").inner_text()
    # The model was asked the same question again, without the first answer.
    sent = llm.chat_requests[-1].json["messages"]
    assert sent[-1]["role"] == "user" and "Say something" in sent[-1]["content"]
    assert "First version." not in str(sent)

    nav = frame.locator(".msg.assistant .branch-nav")
    nav.wait_for(timeout=10_000)
    assert nav.locator(".branch-pos").inner_text() == "2/2"
    nav.locator(".branch-prev").click()
    wait_until(frame, "() => document.querySelector('.msg.assistant')?.innerText.includes('First version.')", 15)
    assert frame.locator(".msg.assistant .branch-pos").inner_text() == "1/2"
    assert frame.locator(".msg.user").count() == 1
    page.locator(".part.sidebar").screenshot(path=str(ARTIFACTS / "code-server-branches.png"))
