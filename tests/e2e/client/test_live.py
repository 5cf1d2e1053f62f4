"""What the terminal shows while a chat runs: a command's live output, a write's diff in its approval,
and the server's "waiting for the model… N s" status while the model is silent."""

from __future__ import annotations

import json
import sys
import time

import pexpect

from tests.e2e.client.conftest import Ryan, screen
from tests.fakes.llm_server import Reply, Text, ToolCall

TICKS = "import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.5)\n"


def ticks_command(ryan: Ryan) -> str:
    (ryan.workspace / "ticks.py").write_text(TICKS)
    return f"{sys.executable} ticks.py"


# ----- run_command: live output -------------------------------------------------------------------


def test_command_output_arrives_as_it_is_printed_before_the_result(ryan: Ryan) -> None:
    command = ticks_command(ryan)
    ryan.llm.enqueue(Reply([ToolCall("run_command", {"command": command})]), Reply([Text("three ticks")]))
    proc = ryan.popen("chat", "run it", "--yes")
    assert proc.stderr is not None
    seen: list[tuple[float, str]] = []
    for line in proc.stderr:
        seen.append((time.monotonic(), line.rstrip("\n")))
    assert proc.wait(timeout=30) == 0
    lines = [line for _, line in seen]
    result = next(i for i, line in enumerate(lines) if line.startswith("✓ run_command"))
    ticks = [i for i, line in enumerate(lines) if line.startswith("  tick ")]
    assert [lines[i] for i in ticks] == ["  tick 0", "  tick 1", "  tick 2"], lines
    assert lines.index(f"⋯ run_command {command}") < ticks[0] and ticks[-1] < result, lines
    assert lines[result].endswith("[exit code 0]"), lines
    # live: the first tick was on stderr while the command still ran, not with its result
    assert seen[result][0] - seen[ticks[0]][0] > 0.6, seen


def test_command_output_is_events_in_json_mode(ryan: Ryan) -> None:
    command = ticks_command(ryan)
    ryan.llm.enqueue(Reply([ToolCall("run_command", {"command": command})]), Reply([Text("done")]))
    done = ryan.run("chat", "run it", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [e["kind"] for e in events]
    output = "".join(e["text"] for e in events if e["kind"] == "toolOutput")
    assert output == "tick 0\ntick 1\ntick 2\n"
    assert kinds.index("toolCall") < kinds.index("toolOutput") < kinds.index("toolResult")
    assert "tick 0" not in done.stderr


def test_the_question_shows_the_exact_command_and_its_output_streams_dimmed(ryan: Ryan) -> None:
    command = ticks_command(ryan)
    ryan.llm.enqueue(Reply([ToolCall("run_command", {"command": command})]), Reply([Text("all ticked")]))
    child = ryan.spawn("chat", "run it")
    child.expect_exact(f"Ryan wants to run `{command}` in the workspace folder")
    child.expect_exact("[a]llow / allow for [s]ession / [d]eny")
    child.sendline("a")
    child.expect_exact("\x1b[2m  tick")  # dimmed, under the tool line (split where the chunks fall)
    child.expect_exact("2\r\n")
    child.expect_exact("✓ run_command")
    child.expect_exact("all ticked")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_interactive_shows_command_output_under_the_tool_line(ryan: Ryan) -> None:
    command = ticks_command(ryan)
    ryan.llm.enqueue(Reply([ToolCall("run_command", {"command": command})]), Reply([Text("ticked")]))
    child = ryan.spawn("--yes")
    child.expect_exact("you> ")
    child.sendline("run it")
    child.expect_exact("tick 0")
    child.expect_exact("tick 2")
    child.expect_exact("✓ run_command")
    child.expect_exact("ticked")
    child.expect_exact("you> ")
    lines = screen(child)
    call = lines.index(f"⋯ run_command {command}")
    assert lines[call + 1].startswith("✓ allowed (--yes): run_command: Ryan wants to run"), lines
    assert lines[call + 2 : call + 5] == ["  tick 0", "  tick 1", "  tick 2"], lines
    assert lines[call + 5].startswith("✓ run_command"), lines
    child.sendeof()
    child.expect(pexpect.EOF, timeout=10)


# ----- a write's approval shows its diff ----------------------------------------------------------


def test_the_approval_shows_the_diff_coloured_on_a_terminal(ryan: Ryan) -> None:
    (ryan.workspace / "m.py").write_text("x = 1\ny = 2\n")
    ryan.llm.enqueue(
        Reply([ToolCall("edit_file", {"path": "m.py", "oldText": "x = 1", "newText": "x = 3"})]),
        Reply([Text("edited")]),
    )
    child = ryan.spawn("chat", "edit m.py")
    child.expect_exact("edit_file: Ryan wants to edit m.py (+1 −1 lines)")
    child.expect_exact("--- a/m.py")
    child.expect_exact("\x1b[36m@@")
    child.expect_exact("\x1b[31m-x = 1")
    child.expect_exact("\x1b[32m+x = 3")
    child.expect_exact("[a]llow / allow for [s]ession / [d]eny")
    child.sendline("a")
    child.expect_exact("edited")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (ryan.workspace / "m.py").read_text() == "x = 3\ny = 2\n"


def test_the_diff_is_plain_off_a_terminal(ryan: Ryan) -> None:
    (ryan.workspace / "m.py").write_text("x = 1\n")
    ryan.llm.enqueue(
        Reply([ToolCall("edit_file", {"path": "m.py", "oldText": "x = 1", "newText": "x = 3"})]),
        Reply([Text("edited")]),
    )
    done = ryan.run("chat", "edit m.py", "--yes")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    allowed = next(i for i, line in enumerate(lines) if line.startswith("✓ allowed (--yes): edit_file"))
    assert lines[allowed + 1 : allowed + 6] == [
        "    --- a/m.py",
        "    +++ b/m.py",
        "    @@ -1 +1 @@",
        "    -x = 1",
        "    +x = 3",
    ], lines
    assert "\x1b[" not in done.stderr


# ----- "waiting for the model… N s" ---------------------------------------------------------------


def test_one_shot_shows_the_wait_on_a_terminal_then_clears_it(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("late answer")], first_delay=2.6))
    child = ryan.spawn("chat", "hi")
    child.expect_exact("waiting for the model… 1 s")
    child.expect_exact("waiting for the model… 2 s")
    child.expect_exact("late answer")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert screen(child) == ["late answer"]  # the status line was transient


def test_no_wait_status_in_json_or_off_a_terminal(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("late")], first_delay=1.8), Reply([Text("late")], first_delay=1.8))
    plain = ryan.run("chat", "hi")
    assert plain.returncode == 0 and plain.stdout == "late\n"
    assert "waiting" not in plain.stderr
    as_json = ryan.run("chat", "hi", "--json")
    assert as_json.returncode == 0
    assert "waiting" not in as_json.stderr and "waiting" not in as_json.stdout


def test_interactive_spinner_counts_the_wait_in_place(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("late answer")], first_delay=2.6))
    child = ryan.spawn()
    child.expect_exact("you> ")
    child.sendline("hi")
    child.expect_exact("waiting for the model… 1 s")
    child.expect_exact("waiting for the model… 2 s")
    waiting = [line for line in screen(child) if "waiting for the model" in line]
    assert len(waiting) == 1 and waiting[0].endswith("waiting for the model… 2 s"), screen(child)  # in place
    child.expect_exact("late answer")
    child.expect_exact("you> ")
    assert not [line for line in screen(child) if "waiting" in line], screen(child)
    child.sendeof()
    child.expect(pexpect.EOF, timeout=10)
