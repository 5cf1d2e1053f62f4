"""Going back from the terminal: the files a chat changed, `ryan diff`, `ryan undo`, `ryan redo`, and a
file edited by hand since (`--keep`, `--yes`, no terminal, asked on one)."""

from __future__ import annotations

import json
import re

import pexpect

from tests.e2e.client.conftest import Ryan
from tests.fakes.llm_server import Reply, Text, ToolCall

BEFORE = {"edit.txt": "one\ntwo\nthree\n", "gone.txt": "bye\nfor now\n"}
AFTER = {"new.txt": "hello\nworld\n", "edit.txt": "one\nTWO\nthree\n"}


def change_three_files(ryan: Ryan) -> str:
    """A chat that creates new.txt, edits edit.txt and deletes gone.txt; returns what it said on stderr."""
    for name, text in BEFORE.items():
        (ryan.workspace / name).write_text(text)
    ryan.llm.enqueue(
        Reply([ToolCall("write_file", {"path": "new.txt", "content": AFTER["new.txt"]})]),
        Reply([ToolCall("edit_file", {"path": "edit.txt", "oldText": "two", "newText": "TWO"})]),
        Reply([ToolCall("delete_file", {"path": "gone.txt"})]),
        Reply([Text("all three done")]),
    )
    done = ryan.run("chat", "--yes", "change the files")
    assert done.returncode == 0, done.stderr
    assert "all three done" in done.stdout
    assert_changed(ryan)
    return done.stderr


def files(ryan: Ryan) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(ryan.workspace.iterdir()) if p.is_file()}


def assert_changed(ryan: Ryan) -> None:
    assert files(ryan) == AFTER


def assert_restored(ryan: Ryan) -> None:
    assert files(ryan) == BEFORE


def test_a_chat_that_changes_files_lists_them(ryan: Ryan) -> None:
    said = change_three_files(ryan)
    assert re.search(r"^changed 3 files \(checkpoint \S+\):$", said, re.M), said
    assert re.search(r"^  new\.txt\s+created\s+\+2 −0$", said, re.M), said
    assert re.search(r"^  edit\.txt\s+modified\s+\+1 −1$", said, re.M), said
    assert re.search(r"^  gone\.txt\s+deleted\s+\+0 −2$", said, re.M), said
    assert "ryan diff" in said and "ryan undo" in said


def test_a_chat_that_changes_nothing_lists_nothing(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("just words")]))
    done = ryan.run("chat", "hi")
    assert done.returncode == 0, done.stderr
    assert "changed" not in done.stderr and "ryan undo" not in done.stderr


def test_diff_prints_the_unified_diff_plain_when_piped(ryan: Ryan) -> None:
    change_three_files(ryan)
    shown = ryan.run("diff")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "\x1b[" not in out
    assert "--- /dev/null\n+++ b/new.txt\n" in out and "+hello\n+world\n" in out, out
    assert "--- a/edit.txt\n+++ b/edit.txt\n" in out and "-two\n+TWO\n" in out, out
    assert "--- a/gone.txt\n+++ /dev/null\n" in out and "-bye\n-for now\n" in out, out
    # exactly the server's diffs, nothing else on stdout: a patch a script can keep
    as_json = ryan.run("diff", "last", "--json")
    assert as_json.returncode == 0, as_json.stderr
    diffs = [f["diff"] for f in json.loads(as_json.stdout)["files"]]
    assert out == "".join(d if d.endswith("\n") else d + "\n" for d in diffs)


def test_diff_is_coloured_on_a_terminal(ryan: Ryan) -> None:
    change_three_files(ryan)
    child = ryan.spawn("diff")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    out = child.logfile_read.getvalue()
    assert re.search(r"\x1b\[[0-9;]*32m\+hello", out), out  # green
    assert re.search(r"\x1b\[[0-9;]*31m-two", out), out  # red
    assert "change the files" in out  # the header names the chat


def test_diff_of_an_unknown_checkpoint_or_without_changes_fails_clearly(ryan: Ryan) -> None:
    none_yet = ryan.run("diff")
    assert none_yet.returncode == 1 and "no earlier session" in none_yet.stderr.lower(), none_yet.stderr
    ryan.llm.enqueue(Reply([Text("just words")]))
    assert ryan.run("chat", "hi").returncode == 0
    nothing = ryan.run("diff")
    assert nothing.returncode == 1, nothing.stderr
    assert "changed files" in nothing.stderr and "Traceback" not in nothing.stderr
    for unknown_id in ("zz", "12345"):
        unknown = ryan.run("diff", unknown_id)
        assert unknown.returncode == 1, unknown.stdout
        assert unknown.stderr.startswith(f"ryan: No checkpoint '{unknown_id}'"), unknown.stderr


def test_diff_and_undo_take_the_checkpoint_id_the_chat_printed(ryan: Ryan) -> None:
    said = change_three_files(ryan)
    named = re.search(r"\(checkpoint (\S+)\):", said)
    assert named, said
    assert ryan.run("diff", named[1]).stdout == ryan.run("diff").stdout != ""
    undone = ryan.run("undo", named[1])
    assert undone.returncode == 0, undone.stderr
    assert_restored(ryan)


def test_undo_restores_and_redo_reapplies(ryan: Ryan) -> None:
    change_three_files(ryan)
    undone = ryan.run("undo")
    assert undone.returncode == 0, undone.stderr
    assert_restored(ryan)
    for name in ("new.txt", "edit.txt", "gone.txt"):
        assert re.search(rf"restored\s+{re.escape(name)}", undone.stdout), undone.stdout
    assert "ryan redo" in undone.stdout

    again = ryan.run("undo")
    assert again.returncode == 1, again.stdout
    assert "nothing to undo" in again.stderr.lower(), again.stderr
    assert_restored(ryan)

    same = ryan.run("diff")  # the files are as they were before the chat
    assert same.returncode == 0 and same.stdout == "", same.stdout
    assert same.stderr.count("as it was before that chat") == 3, same.stderr

    redone = ryan.run("redo")
    assert redone.returncode == 0, redone.stderr
    assert_changed(ryan)
    assert "restored" in redone.stdout and "new.txt" in redone.stdout

    nothing = ryan.run("redo")
    assert nothing.returncode == 1, nothing.stdout
    assert nothing.stderr.startswith("ryan: ") and "Traceback" not in nothing.stderr, nothing.stderr
    assert_changed(ryan)


def test_undo_json(ryan: Ryan) -> None:
    change_three_files(ryan)
    undone = ryan.run("undo", "--json")
    assert undone.returncode == 0, undone.stderr
    result = json.loads(undone.stdout)
    assert sorted(result["restored"]) == ["edit.txt", "gone.txt", "new.txt"]
    assert result["conflicts"] == [] and result["cancelled"] is False


def hand_edit(ryan: Ryan) -> None:
    """A chat edits a.txt and b.txt; then the user edits a.txt by hand."""
    (ryan.workspace / "a.txt").write_text("a\n")
    (ryan.workspace / "b.txt").write_text("b\n")
    ryan.llm.enqueue(
        Reply([ToolCall("edit_file", {"path": "a.txt", "oldText": "a", "newText": "A"})]),
        Reply([ToolCall("edit_file", {"path": "b.txt", "oldText": "b", "newText": "B"})]),
        Reply([Text("edited both")]),
    )
    assert ryan.run("chat", "--yes", "edit both").returncode == 0
    assert files(ryan) == {"a.txt": "A\n", "b.txt": "B\n"}
    (ryan.workspace / "a.txt").write_text("mine\n")


def test_keep_leaves_a_hand_edited_file_alone(ryan: Ryan) -> None:
    hand_edit(ryan)
    kept = ryan.run("undo", "--keep")
    assert kept.returncode == 0, kept.stderr
    assert files(ryan) == {"a.txt": "mine\n", "b.txt": "b\n"}
    assert re.search(r"kept\s+a\.txt", kept.stdout) and "--yes" in kept.stdout, kept.stdout
    assert kept.stdout.count("a.txt") == 1, kept.stdout  # once, as kept (not again as skipped)
    assert re.search(r"restored\s+b\.txt", kept.stdout), kept.stdout


def test_yes_overwrites_a_hand_edited_file(ryan: Ryan) -> None:
    hand_edit(ryan)
    overwritten = ryan.run("undo", "--yes")
    assert overwritten.returncode == 0, overwritten.stderr
    assert files(ryan) == {"a.txt": "a\n", "b.txt": "b\n"}
    said = overwritten.stdout
    assert re.search(r"restored\s+a\.txt\s+\(your changes overwritten\)", said), said


def test_without_a_terminal_or_a_flag_nothing_is_restored(ryan: Ryan) -> None:
    hand_edit(ryan)
    refused = ryan.run("undo")
    assert refused.returncode == 1, refused.stdout
    assert files(ryan) == {"a.txt": "mine\n", "b.txt": "B\n"}
    assert "a.txt" in refused.stderr and "--yes" in refused.stderr and "--keep" in refused.stderr
    assert "allow" not in refused.stderr.lower()  # not taken for a tool approval
    both = ryan.run("undo", "--yes", "--keep")
    assert both.returncode == 2 and files(ryan) == {"a.txt": "mine\n", "b.txt": "B\n"}


def test_on_a_terminal_the_conflict_is_asked(ryan: Ryan) -> None:
    hand_edit(ryan)
    child = ryan.spawn("undo")
    child.expect_exact("a.txt")
    child.expect_exact("[O]verwrite / [K]eep my changes / [c]ancel")
    assert "llow" not in child.before  # its own actions, not Allow / Deny
    child.sendline("k")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.logfile_read.getvalue()
    assert files(ryan) == {"a.txt": "mine\n", "b.txt": "b\n"}
