"""The chat panel's parts for going back, in real headless Chromium without VS Code: the files a turn
changed with Undo this turn / Redo (and the question about hand-edited files in that turn), Regenerate
on the last answer, and the `‹ 2/3 ›` switcher, in a live turn and in a redrawn session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vscode_harness import ARTIFACTS, harness_html

CHECKPOINT = {
    "checkpointId": 7,
    "messageId": 11,
    "prompt": "Make the files",
    "createdAt": "2026-03-01T10:00:01.000Z",
    "files": [
        {"path": "src/new.py", "uri": "file:///w/src/new.py", "change": "created", "added": 3, "removed": 0},
        {"path": "a.py", "uri": "file:///w/a.py", "change": "modified", "added": 2, "removed": 1},
        {"path": "old.txt", "uri": "file:///w/old.txt", "change": "deleted", "added": 0, "removed": 4},
    ],
    "undone": False,
}


def open_panel(page: Any, tmp_path: Path) -> None:
    page.goto(harness_html(tmp_path).as_uri())
    page.wait_for_function("window.__posted.some(m => m.type === 'ready')")


def posted(page: Any, kind: str) -> list[dict[str, Any]]:
    return page.evaluate(f"window.__posted.filter(m => m.type === '{kind}')")


def chat(page: Any, request_id: str, text: str, *, checkpoint: dict[str, Any] | None = None, user: bool = True) -> None:
    page.evaluate(
        """([id, text, checkpoint, user]) => {
          __send({type: 'busy', busy: true});
          if (user) __send({type: 'userMessage', requestId: id, text: 'Make the files', context: []});
          __send({type: 'start', requestId: id, sessionId: 's1', model: 'm'});
          __send({type: 'content', requestId: id, text});
          const done = {type: 'done', requestId: id, stopReason: 'stop', model: 'm', sessionId: 's1', summary: 'm',
                        userMessageId: 11};
          if (checkpoint) done.checkpoint = checkpoint;
          __send(done);
          __send({type: 'busy', busy: false});
        }""",
        [request_id, text, checkpoint, user],
    )


def test_changed_files_undo_and_redo(page: Any, tmp_path: Path) -> None:
    open_panel(page, tmp_path)
    chat(page, "r1", "I made the files.", checkpoint=CHECKPOINT)

    review = page.locator(".msg.assistant .turn-review")
    assert review.count() == 1
    assert review.locator(".review-title").inner_text() == "Changed 3 files"
    rows = review.locator(".review-file")
    assert rows.locator(".file-path").all_inner_texts() == ["src/new.py", "a.py", "old.txt"]
    assert rows.locator(".file-change").all_inner_texts() == ["created", "modified", "deleted"]
    assert rows.locator(".file-added").all_inner_texts() == ["+3", "+2", "+0"]
    assert rows.locator(".file-removed").all_inner_texts() == ["−0", "−1", "−4"]
    assert page.get_attribute(".msg.user", "data-message-id") == "11"
    # The files come before the summary line.
    parts = page.locator(".msg.assistant > *").evaluate_all("els => els.map(e => e.className)")
    assert parts.index("turn-review") < parts.index("msg-status"), parts

    # A file opens the diff editor (the extension's part): the checkpoint id keeps its type.
    rows.nth(1).click()
    assert posted(page, "openDiff") == [{"type": "openDiff", "checkpointId": 7, "path": "a.py"}]

    # Undo this turn: asked of the extension once, the button waits.
    undo = review.locator(".review-undo")
    assert undo.inner_text() == "Undo this turn"
    undo.click()
    assert posted(page, "restore") == [{"type": "restore", "checkpointId": 7}]
    assert undo.is_disabled()
    assert review.locator(".review-result").inner_text() == "Undoing…"

    # The server asks about a file changed by hand: the card is in this turn, with its two actions.
    page.evaluate(
        """() => __send({type: 'approval', requestId: '', checkpointId: 7, approvalId: 'q1',
            question: "Ryan: these files changed since Ryan's edits: `a.py`. Overwrite them?", diff: '',
            actions: ['Overwrite', 'Keep my changes']})"""
    )
    card = review.locator(".approval-card.pending")
    assert card.locator(".approval-question").inner_text().endswith("Overwrite them?")
    page.screenshot(path=str(ARTIFACTS / "panel-review-conflict.png"))
    card.get_by_role("button", name="Keep my changes").click()
    assert posted(page, "approve") == [{"type": "approve", "approvalId": "q1", "action": "Keep my changes"}]

    page.evaluate(
        """() => {
          __send({type: 'approvalDone', approvalId: 'q1', choice: 'Keep my changes'});
          __send({type: 'restoreDone', checkpointId: 7, text: 'Restored: src/new.py, old.txt · kept your changes in a.py'});
          __send({type: 'checkpointState', checkpoints: [{checkpointId: 7, undone: true}]});
        }"""
    )
    assert review.locator(".review-result").inner_text() == "Restored: src/new.py, old.txt · kept your changes in a.py"
    assert "undone" in (review.get_attribute("class") or "")
    assert review.locator(".review-title").inner_text() == "Changed 3 files · undone"
    assert undo.inner_text() == "Redo" and not undo.is_disabled()
    page.screenshot(path=str(ARTIFACTS / "panel-review-undone.png"))

    undo.click()
    assert posted(page, "redo") == [{"type": "redo", "checkpointId": 7}]
    page.evaluate(
        """() => {
          __send({type: 'restoreDone', checkpointId: 7, text: 'Nothing to redo.', failed: true});
          __send({type: 'checkpointState', checkpoints: [{checkpointId: 7, undone: false}]});
        }"""
    )
    assert "failed" in (review.get_attribute("class") or "")
    assert undo.inner_text() == "Undo this turn"

    # While a chat runs the turn's buttons do nothing.
    page.evaluate("() => __send({type: 'busy', busy: true})")
    assert undo.is_disabled() and page.locator(".regenerate").is_disabled()
    page.evaluate("() => __send({type: 'busy', busy: false})")
    assert not undo.is_disabled()
    assert page.errors == [] and page.evaluate("window.__violations") == []


def test_regenerate_replaces_the_last_answer_and_switches_versions(page: Any, tmp_path: Path) -> None:
    open_panel(page, tmp_path)
    chat(page, "r1", "First answer.")
    # Regenerate only on the last answer.
    assert page.locator(".msg.assistant .regenerate").count() == 1
    page.evaluate(
        """() => {
          __send({type: 'userMessage', requestId: 'r2', text: 'Second question', context: []});
          __send({type: 'content', requestId: 'r2', text: 'Second answer.'});
          __send({type: 'done', requestId: 'r2', stopReason: 'stop', model: 'm', sessionId: 's1', summary: 'm'});
        }"""
    )
    answers = page.locator(".msg.assistant")
    assert answers.count() == 2
    assert answers.nth(0).locator(".regenerate").count() == 0
    answers.nth(1).locator(".regenerate").click()
    assert posted(page, "regenerate") == [{"type": "regenerate"}]

    # The new answer streams in the last one's place.
    page.evaluate(
        """() => {
          __send({type: 'busy', busy: true});
          __send({type: 'regenerating', requestId: 'r3'});
          __send({type: 'content', requestId: 'r3', text: 'Another take.'});
        }"""
    )
    assert answers.count() == 2
    assert "Second answer." not in page.inner_text(".messages")
    assert page.locator(".msg.assistant.streaming").count() == 1
    assert page.locator(".msg.user").count() == 2
    page.evaluate(
        """() => {
          __send({type: 'done', requestId: 'r3', stopReason: 'stop', model: 'm', sessionId: 's1', summary: 'm'});
          __send({type: 'busy', busy: false});
          __send({type: 'branches', requestId: 'r3', user: {id: 20, siblings: [20]}, answer: {id: 23, siblings: [21, 23]}});
        }"""
    )
    last = answers.nth(1)
    assert "Another take." in last.inner_text()
    nav = last.locator(".branch-nav")
    assert nav.locator(".branch-pos").inner_text() == "2/2"
    assert nav.locator(".branch-next").is_disabled()
    assert page.locator(".msg.user .branch-nav").count() == 0  # one version of the question
    assert page.locator(".msg.user").nth(1).get_attribute("data-message-id") == "20"
    # Versions first, then Regenerate, in the answer's row.
    assert last.locator(".turn-actions > *").evaluate_all("els => els.map(e => e.className)") == [
        "branch-nav", "icon-button turn-action regenerate"
    ]
    page.screenshot(path=str(ARTIFACTS / "panel-regenerated.png"))
    nav.locator(".branch-prev").click()
    assert posted(page, "switchBranch") == [{"type": "switchBranch", "messageId": 21}]
    assert page.errors == [] and page.evaluate("window.__violations") == []


SESSION = {
    "sessionId": "s1",
    "title": "Make the files",
    "headId": 9,
    "messages": [
        {"id": 1, "role": "user", "content": "Make the files", "status": "complete", "siblings": [1]},
        {"id": 2, "role": "assistant", "content": "", "status": "complete", "siblings": [2],
         "toolCalls": [{"callId": "c1", "name": "write_file", "arguments": {"path": "a.py"}, "status": "ok"}]},
        {"id": 3, "role": "tool", "content": "wrote a.py", "toolCallId": "c1", "status": "ok", "siblings": [3]},
        {"id": 4, "role": "assistant", "content": "Made them.", "status": "complete", "siblings": [4]},
        {"id": 8, "role": "user", "content": "Explain, shorter", "status": "complete", "siblings": [5, 8]},
        {"id": 9, "role": "assistant", "content": "Short.", "status": "complete", "siblings": [6, 7, 9]},
    ],
}


def test_a_redrawn_session_shows_versions_changed_files_and_regenerate(page: Any, tmp_path: Path) -> None:
    open_panel(page, tmp_path)
    checkpoint = {**CHECKPOINT, "messageId": 1, "undone": True}
    page.evaluate(
        "([session, reviews]) => __send({type: 'session', session, reviews})",
        [SESSION, [{"messageId": 1, "checkpoint": checkpoint}]],
    )
    users = page.locator(".msg.user")
    answers = page.locator(".msg.assistant")
    assert users.count() == 2 and answers.count() == 2
    assert [users.nth(i).get_attribute("data-message-id") for i in range(2)] == ["1", "8"]
    # The changed files under the first answer, already undone (the button redoes).
    review = answers.nth(0).locator(".turn-review")
    assert review.count() == 1 and answers.nth(1).locator(".turn-review").count() == 0
    assert review.locator(".review-undo").inner_text() == "Redo"
    # Versions: the second question 2/2, its answer 3/3; Regenerate on the last answer only.
    assert users.nth(0).locator(".branch-nav").count() == 0
    assert users.nth(1).locator(".branch-pos").inner_text() == "2/2"
    assert answers.nth(1).locator(".branch-pos").inner_text() == "3/3"
    assert answers.nth(0).locator(".regenerate").count() == 0
    assert answers.nth(1).locator(".regenerate").count() == 1
    page.screenshot(path=str(ARTIFACTS / "panel-session-branches.png"))
    users.nth(1).locator(".branch-prev").click()
    answers.nth(1).locator(".branch-prev").click()
    assert posted(page, "switchBranch") == [
        {"type": "switchBranch", "messageId": 5},
        {"type": "switchBranch", "messageId": 7},
    ]
    assert page.errors == [] and page.evaluate("window.__violations") == []
