"""Naming, listing and deleting sessions from the terminal: `ryan sessions|show|rm ID|last`, and which
folder's sessions they are (the git root, as in Neovim)."""

from __future__ import annotations

import json

import pexpect

from tests.e2e.client.conftest import Ryan
from tests.fakes.llm_server import Reply, Text, ToolCall


def session_ids(ryan: Ryan) -> list[str]:
    listed = ryan.run("sessions", "--json")
    assert listed.returncode == 0, listed.stderr
    return [s["sessionId"] for s in json.loads(listed.stdout)["sessions"]]


def make_sessions(ryan: Ryan, *prompts: str) -> None:
    """One session per prompt, made in one interactive `ryan` (`/new` between them)."""
    ryan.llm.enqueue(*[Reply([Text(f"answer to {p}")]) for p in prompts])
    child = ryan.spawn()
    for prompt in prompts:
        child.expect_exact("you> ")
        child.sendline(prompt)
        child.expect_exact(f"answer to {prompt}")
        child.expect_exact("you> ")
        child.sendline("/new")
    child.sendeof()
    child.expect(pexpect.EOF, timeout=10)
    child.close()
    assert child.exitstatus == 0


def test_rm_deletes_a_session_by_prefix_or_last(ryan: Ryan) -> None:
    make_sessions(ryan, "first", "second", "third")
    _third, second, first = session_ids(ryan)

    gone = ryan.run("rm", "last")
    assert gone.returncode == 0, gone.stderr
    assert "third" in gone.stdout + gone.stderr  # says which one went
    assert session_ids(ryan) == [second, first]

    assert ryan.run("rm", first[:12]).returncode == 0
    assert session_ids(ryan) == [second]
    again = ryan.run("rm", first[:12])
    assert again.returncode == 1 and "no session" in again.stderr.lower(), again.stderr
    assert ryan.run("show", second[:12]).returncode == 0


def test_an_ambiguous_prefix_says_so(ryan: Ryan) -> None:
    make_sessions(ryan, *[f"question {i}" for i in range(17)])  # two ids share a first hex digit
    ids = session_ids(ryan)
    shared = next(c for c in "0123456789abcdef" if sum(i.startswith(c) for i in ids) >= 2)
    for command in (("show", shared), ("rm", shared), ("chat", "--session", shared, "hi")):
        done = ryan.run(*command)
        assert done.returncode == 1, (command, done.stderr)
        assert "ambiguous" in done.stderr and "matches" in done.stderr, done.stderr
        assert "no session" not in done.stderr.lower()
    assert len(session_ids(ryan)) == 17  # nothing was deleted


def test_a_subfolder_of_a_git_repository_works_in_the_repository(ryan: Ryan) -> None:
    (ryan.workspace / ".git").mkdir()
    (ryan.workspace / "top.txt").write_text("at the root\n")
    sub = ryan.workspace / "src" / "pkg"
    sub.mkdir(parents=True)
    ryan.llm.enqueue(Reply([ToolCall("read_file", {"path": "top.txt"})]), Reply([Text("read it")]))
    ryan.workspace = sub  # `cd src/pkg`
    done = ryan.run("chat", "read top.txt", "--json")
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["status"] for r in results if r["kind"] == "toolResult"] == ["ok"]  # paths from the root
    from_sub = session_ids(ryan)
    ryan.workspace = sub.parents[1]  # back at the root
    assert session_ids(ryan) == from_sub and len(from_sub) == 1


def test_a_folder_outside_any_repository_is_its_own_workspace(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("here")]))
    sub = ryan.workspace / "notes"
    sub.mkdir()
    ryan.workspace = sub
    assert ryan.run("chat", "hi").returncode == 0
    assert len(session_ids(ryan)) == 1
    ryan.workspace = sub.parent
    assert session_ids(ryan) == []
