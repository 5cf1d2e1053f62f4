"""`ryan` with no arguments, driven through a pseudo-terminal: stream, approvals, Ctrl-C, Ctrl-D."""

from __future__ import annotations

import time

import pexpect

from tests.e2e.client.conftest import Ryan, screen
from tests.fakes.llm_server import Reply, Text, Think, ToolCall

PROMPT = "you> "


def start(ryan: Ryan, *args: str) -> pexpect.spawn:
    child = ryan.spawn(*args)
    child.expect_exact(PROMPT)
    return child


def quit_(child: pexpect.spawn) -> int | None:
    child.sendeof()
    child.expect(pexpect.EOF, timeout=10)
    child.close()
    return child.exitstatus


def test_streams_and_continues_the_session(ryan: Ryan) -> None:
    ryan.llm.enqueue(
        Reply([Think("pondering"), Text("Hel"), Text("lo "), Text("**world**")], delay=0.05),
        Reply([Text("second answer")]),
    )
    child = start(ryan)
    child.sendline("hi there")
    child.expect("pondering")
    child.expect("Hello")
    child.expect("world")
    child.expect_exact(PROMPT)
    child.sendline("and again")
    child.expect("second answer")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0
    _first, second = ryan.llm.chat_requests
    said = [(m["role"], m.get("content")) for m in second.json["messages"]]
    assert ("user", "hi there") in said and ("assistant", "Hello **world**") in said
    assert said[-1] == ("user", "and again")
    assert (ryan.home / ".local/share/ryan/prompt_history").exists()


def test_footer_shows_the_context_window_used_after_each_answer(ryan: Ryan) -> None:
    ryan.llm.context_length = 2048  # what /api/show reports
    ryan.llm.enqueue(Reply([Text("short")], usage=(800, 40)), Reply([Text("longer")], usage=(1500, 100)))
    child = start(ryan)
    child.sendline("first")
    child.expect("short")
    child.expect(r"llama3\.2:latest · 40 tokens · [\d.]+ tok/s · context 41%")  # 840 of 2048
    child.expect_exact(PROMPT)
    child.sendline("second")
    child.expect("longer")
    child.expect(r"100 tokens · [\d.]+ tok/s · context 78%")  # 1600 of 2048: the figure follows the session
    child.expect_exact(PROMPT)
    assert quit_(child) == 0


def test_multi_line_input(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("one")]), Reply([Text("two")]))
    child = start(ryan)
    child.sendline("first line \\")
    child.sendline("second line")
    child.expect("one")
    child.expect_exact(PROMPT)
    child.sendline('"""')
    child.sendline("block a")
    child.sendline("block b")
    child.sendline('"""')
    child.expect("two")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0
    prompts = [r.json["messages"][-1]["content"] for r in ryan.llm.chat_requests]
    assert prompts == ["first line \nsecond line", "block a\nblock b"]


def test_ctrl_c_stops_the_answer_and_returns_to_the_prompt(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("first ")] + [Text("more ")] * 200, delay=0.1), Reply([Text("after")]))
    child = start(ryan)
    child.sendline("long answer please")
    child.expect("first")
    child.sendintr()
    child.expect_exact("(stopped)")
    child.expect_exact(PROMPT)
    assert ryan.llm.wait_disconnect(5)
    child.sendline("next")
    child.expect("after")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0
    # the same session continues, with the interrupted answer in its history
    said = [(m["role"], m.get("content") or "") for m in ryan.llm.chat_requests[-1].json["messages"]]
    assert ("user", "long answer please") in said


def test_ctrl_c_leaves_each_line_of_the_answer_once_on_the_screen(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("first line\n\n")] + [Text("more ")] * 200, delay=0.1))
    child = start(ryan)
    child.sendline("long answer please")
    child.expect("more more more")  # a few redraws in, the cursor at the end of a full-width line
    child.sendintr()
    child.expect_exact("(stopped)")
    child.expect_exact(PROMPT)
    lines = screen(child)
    assert lines[1] == "you> long answer please"
    assert lines.count("first line") == 1, lines
    assert lines[-2:] == ["(stopped)", "you>"], lines
    assert quit_(child) == 0


def test_single_newlines_in_an_answer_stay_line_breaks(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("Steps:\nfirst do this\nthen that\n\nDone.")]))
    child = start(ryan)
    child.sendline("how?")
    child.expect("Done")
    child.expect_exact(PROMPT)
    lines = screen(child)
    start_at = lines.index("you> how?") + 1
    assert lines[start_at : start_at + 4] == ["Steps:", "first do this", "then that", "Done."], lines
    assert quit_(child) == 0


def interrupt_at_the_prompt(child: pexpect.spawn, tries: int = 5) -> None:
    """Ctrl-C until a new prompt shows, a few times at most.

    CPython's readline notices SIGINT only while it waits in its select() for a key: a ^C that lands
    just before (still echoing the typed keys, which a loaded machine can stretch out) trips Python's
    flag without waking it, and is acted on at the next key. Another ^C then finds it waiting. If the
    first one did work and the prompt was only slow, the next meets an empty prompt: another prompt.
    Call it only once the typed keys have been echoed: a ^C while they are unread flushes them from
    the terminal under readline's own read, which ignores signals until a key comes.
    """
    for _ in range(tries):
        child.sendintr()
        try:
            child.expect_exact(PROMPT, timeout=3)
            return
        except pexpect.TIMEOUT:
            continue
    raise AssertionError(f"no new prompt after {tries} Ctrl-C: {child.before!r}")


def test_ctrl_c_at_the_prompt_and_ctrl_d(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("after")]))
    child = start(ryan)
    child.send("half typed")
    child.expect_exact("half typed")
    time.sleep(0.3)  # a person's pause: readline is usually back waiting for keys by now
    interrupt_at_the_prompt(child)
    # the half-typed line is gone: what is typed next is sent on its own
    child.sendline("next")
    child.expect("after")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0
    assert [r.json["messages"][-1]["content"] for r in ryan.llm.chat_requests] == ["next"]


def test_backend_down_keeps_the_prompt(ryan: Ryan, dead_url: str) -> None:
    child = ryan.spawn(base_url=dead_url)
    child.expect_exact(PROMPT)
    child.sendline("hello")
    child.expect("Cannot connect")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0


def test_approve_and_deny(ryan: Ryan, needs_write_file: None) -> None:
    ryan.llm.enqueue(
        Reply([ToolCall("write_file", {"path": "a.txt", "content": "hi"})]),
        Reply([Text("wrote it")]),
        Reply([ToolCall("write_file", {"path": "b.txt", "content": "no"})]),
        Reply([Text("fine, not written")]),
    )
    child = start(ryan)
    child.sendline("write a.txt")
    child.expect_exact("allow for [s]ession")
    child.sendline("a")
    child.expect("wrote it")
    child.expect_exact(PROMPT)
    assert (ryan.workspace / "a.txt").read_text() == "hi"
    child.sendline("write b.txt")
    child.expect_exact("allow for [s]ession")
    child.sendline("d")
    child.expect("denied")
    child.expect("fine, not written")
    child.expect_exact(PROMPT)
    assert not (ryan.workspace / "b.txt").exists()
    assert quit_(child) == 0


def test_ctrl_c_while_asking(ryan: Ryan, needs_write_file: None) -> None:
    ryan.llm.enqueue(
        Reply([ToolCall("write_file", {"path": "a.txt", "content": "hi"})]), Reply([Text("next answer")])
    )
    child = start(ryan)
    child.sendline("write a.txt")
    child.expect_exact("allow for [s]ession")
    child.sendintr()
    child.expect_exact(PROMPT)
    assert not (ryan.workspace / "a.txt").exists()
    # the answer to the abandoned question reaches a server that stopped waiting for it: no fuss
    child.sendline("hello again")
    child.expect("next answer")
    assert "error" not in child.before.lower()
    child.expect_exact(PROMPT)
    assert quit_(child) == 0
    log = (ryan.home / ".local/state/ryan/log/server.log").read_text()
    assert "Traceback" not in log and "ERROR" not in log, log


def test_new_starts_another_session(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("one")]), Reply([Text("two")]))
    child = start(ryan)
    child.sendline("first")
    child.expect("one")
    child.expect_exact(PROMPT)
    child.sendline("/new")
    child.expect_exact(PROMPT)
    child.sendline("second")
    child.expect("two")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0
    said = [m.get("content") for m in ryan.llm.chat_requests[-1].json["messages"]]
    assert "first" not in said and said[-1] == "second"


def test_help_and_unknown_commands_list_the_commands_and_reach_no_model(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("a path, then")]))
    child = start(ryan)
    for typed in ("/help", "/hlep"):
        child.sendline(typed)
        child.expect_exact(PROMPT)
        shown = child.before
        for command in ("/new", "/quit", "/help"):
            assert command in shown, shown
    assert "unknown command /hlep" in child.before
    child.sendline("/usr/bin/env is a path")  # a message that starts with a slash still goes out
    child.expect("a path, then")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0
    assert [r.json["messages"][-1]["content"] for r in ryan.llm.chat_requests] == ["/usr/bin/env is a path"]


def test_reaching_the_step_limit_says_so(ryan: Ryan) -> None:
    (ryan.workspace / "a.txt").write_text("alpha\n")
    ryan.llm.enqueue(*[Reply([ToolCall("read_file", {"path": "a.txt"})]) for _ in range(20)])
    child = start(ryan)
    child.sendline("keep reading")
    child.expect_exact(PROMPT, timeout=60)
    said = [line for line in screen(child) if "tools.maxSteps" in line]
    assert len(said) == 1, screen(child)
    assert quit_(child) == 0


def test_session_last_in_interactive_mode(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("Nice to meet you")]), Reply([Text("Ada")]))
    assert ryan.run("chat", "my name is Ada").returncode == 0
    child = start(ryan, "--session", "last")
    child.sendline("who am I?")
    child.expect("Ada")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0
    said = [(m["role"], m.get("content")) for m in ryan.llm.chat_requests[-1].json["messages"]]
    assert ("user", "my name is Ada") in said and said[-1] == ("user", "who am I?")


def test_piped_messages_without_a_terminal(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("piped answer")]))
    done = ryan.run(stdin="hello from a pipe\n")
    assert done.returncode == 0, done.stderr
    assert "piped answer" in done.stdout and "Traceback" not in done.stderr
