"""The interactive chat's `/retry` (a second answer, the first kept as another version `ryan show`
marks), and `/diff`, `/undo`, `/redo` on the session's file changes."""

from __future__ import annotations

import json

from tests.e2e.client.conftest import Ryan
from tests.e2e.client.test_interactive import PROMPT, quit_, start
from tests.fakes.llm_server import Reply, Text, ToolCall


def test_retry_answers_again_and_show_marks_the_versions(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("first answer")]), Reply([Text("second answer")]))
    child = start(ryan)
    child.sendline("tell me a thing")
    child.expect("first answer")
    child.expect_exact(PROMPT)
    child.sendline("/retry")
    child.expect("second answer")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0

    first, second = ryan.llm.chat_requests
    said = [(m["role"], m.get("content")) for m in second.json["messages"]]
    assert said[-1] == ("user", "tell me a thing")
    assert ("assistant", "first answer") not in said  # answered again, not continued
    assert [m["role"] for m in second.json["messages"]] == [m["role"] for m in first.json["messages"]]

    shown = ryan.run("show", "last")
    assert shown.returncode == 0, shown.stderr
    assert "ryan ‹2/2›" in shown.stdout, shown.stdout
    assert "second answer" in shown.stdout and "first answer" not in shown.stdout
    assert "you ‹" not in shown.stdout  # the question has one version

    stored = json.loads(ryan.run("show", "last", "--json").stdout)
    answer = stored["messages"][-1]
    assert len(answer["siblings"]) == 2 and answer["siblings"][-1] == answer["id"]


def test_retry_before_any_message_says_so(ryan: Ryan) -> None:
    child = start(ryan)
    child.sendline("/retry")
    child.expect_exact("nothing to retry yet")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0
    assert ryan.llm.chat_requests == []


def test_help_lists_the_new_commands(ryan: Ryan) -> None:
    child = start(ryan)
    child.sendline("/help")
    child.expect_exact(PROMPT)
    for command in ("/retry", "/diff", "/undo", "/redo"):
        assert command in child.before, child.before
    assert quit_(child) == 0


def test_diff_undo_and_redo_in_the_chat(ryan: Ryan) -> None:
    target = ryan.workspace / "a.txt"
    target.write_text("old line\n")
    ryan.llm.enqueue(
        Reply([ToolCall("edit_file", {"path": "a.txt", "oldText": "old", "newText": "new"})]),
        Reply([Text("edited it")]),
    )
    child = start(ryan, "--yes")
    child.sendline("/undo")
    child.expect_exact("nothing to undo yet")
    child.expect_exact(PROMPT)
    child.sendline("edit a.txt")
    child.expect("edited it")
    child.expect(r"changed 1 file \(checkpoint \S+\):")
    child.expect(r"a\.txt\s+modified\s+\+1 −1")
    child.expect_exact("/undo takes them back")
    child.expect_exact(PROMPT)
    assert target.read_text() == "new line\n"

    child.sendline("/diff")
    child.expect_exact("--- a/a.txt")
    child.expect_exact("-old line")
    child.expect_exact("+new line")
    child.expect_exact(PROMPT)

    child.sendline("/undo")
    child.expect(r"restored\s+a\.txt")
    child.expect_exact(PROMPT)
    assert target.read_text() == "old line\n"
    child.sendline("/undo")
    child.expect_exact("Nothing to undo")
    child.expect_exact(PROMPT)

    child.sendline("/redo")
    child.expect(r"restored\s+a\.txt")
    child.expect_exact(PROMPT)
    assert target.read_text() == "new line\n"
    assert quit_(child) == 0
