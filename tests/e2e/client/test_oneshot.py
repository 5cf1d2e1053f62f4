"""`ryan chat "prompt"` as scripts use it: output, exit codes, --json, --session last, Ctrl-C, approvals."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import pexpect

from ryan_server.client.output import context_percent, summary
from tests.e2e.client.conftest import Ryan
from tests.fakes.llm_server import HttpError, Reply, Text, Think, ToolCall


def test_streams_answer_and_exits_0(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Think("hmm"), Text("Hel"), Text("lo")], delay=0.02))
    done = ryan.run("chat", "hello")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello\n"  # no thinking when stdout is not a terminal
    assert "Traceback" not in done.stderr and "INFO" not in done.stderr  # the server's log stays out
    assert ryan.llm.chat_requests[-1].json["messages"][-1]["content"] == "hello"


def test_prompt_from_stdin(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("piped")]))
    done = ryan.run("chat", stdin="from a pipe\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "piped\n"
    assert "from a pipe" in ryan.llm.chat_requests[-1].json["messages"][-1]["content"]


def test_json_lines(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Think("a"), Think("b"), Text("Hel"), Text("lo"), Text(" there")], delay=0.06))
    done = ryan.run("chat", "hello", "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds[0] == "start" and lines[0]["sessionId"]
    assert kinds[-1] == "result" and kinds.count("result") == 1
    assert "content" in kinds
    content = "".join(line["text"] for line in lines if line["kind"] == "content")
    thinking = "".join(line["text"] for line in lines if line["kind"] == "thinking")
    assert content == lines[-1]["content"] == "Hello there"
    assert thinking == lines[-1]["thinking"] == "ab"
    assert lines[-1]["sessionId"] == lines[0]["sessionId"]


def test_summary_shows_how_much_of_the_context_window_the_answer_took(ryan: Ryan) -> None:
    ryan.llm.context_length = 2048  # what /api/show reports; the contextLength setting stays unset
    ryan.llm.enqueue(Reply([Text("fits")], usage=(800, 40)), Reply([Text("fits")], usage=(800, 40)))
    as_json = ryan.run("chat", "hello", "--json")
    assert as_json.returncode == 0, as_json.stderr
    usage = json.loads(as_json.stdout.splitlines()[-1])["usage"]
    assert (usage["contextWindow"], usage["contextUsed"]) == (2048, 840)
    assert "context" not in as_json.stderr  # --json adds nothing: the result carries the usage

    done = ryan.run("chat", "hello", "-v")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "fits\n"  # the answer alone on stdout
    footer = [line for line in done.stderr.splitlines() if line.startswith("· llama3.2")]
    assert len(footer) == 1, done.stderr
    assert re.fullmatch(r"· llama3\.2:latest · 40 tokens · [\d.]+ tok/s · context 41%", footer[0]), footer
    assert round(100 * usage["contextUsed"] / usage["contextWindow"]) == 41


def test_summary_leaves_the_context_out_when_the_window_is_unknown(ryan: Ryan) -> None:
    ryan.llm.context_length = 0  # /api/show names no window, and no contextLength setting
    ryan.llm.enqueue(Reply([Text("fits")], usage=(800, 40)))
    done = ryan.run("chat", "hello", "-v")
    assert done.returncode == 0, done.stderr
    footer = [line for line in done.stderr.splitlines() if line.startswith("· llama3.2")]
    assert len(footer) == 1, done.stderr
    assert re.fullmatch(r"· llama3\.2:latest · 40 tokens · [\d.]+ tok/s", footer[0]), footer


def test_context_percent_only_for_a_known_window() -> None:
    assert context_percent({"contextWindow": 2048, "contextUsed": 840}) == "context 41%"
    assert context_percent({"contextWindow": 8192, "contextUsed": 4096}) == "context 50%"
    assert context_percent({"contextWindow": 200, "contextUsed": 81}) == "context 41%"  # 40.5 rounds up
    assert context_percent({"promptTokens": 12, "completionTokens": 31}) == ""
    assert context_percent({"contextWindow": 0, "contextUsed": 3}) == ""
    assert context_percent({"contextWindow": 8192}) == ""
    assert context_percent(None) == ""
    no_window = {"model": "m", "usage": {"promptTokens": 12, "completionTokens": 31}, "stopReason": "stop"}
    assert summary(no_window) == "m · 31 tokens"


def test_backend_down_says_what_to_do(ryan: Ryan, dead_url: str) -> None:
    done = ryan.run("chat", "hello", base_url=dead_url)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Cannot connect" in done.stderr and dead_url in done.stderr
    assert "Traceback" not in done.stderr


def test_backend_down_json(ryan: Ryan, dead_url: str) -> None:
    done = ryan.run("chat", "hello", "--json", base_url=dead_url)
    assert done.returncode == 1
    last = json.loads(done.stdout.splitlines()[-1])
    assert last["kind"] == "error" and last["code"] == -32001 and "Cannot connect" in last["message"]


def test_backend_error_exits_1(ryan: Ryan) -> None:
    ryan.llm.enqueue(
        HttpError(400, "bad request from the fake", times=2)
    )  # the streaming try and the fallback
    done = ryan.run("chat", "hello")
    assert done.returncode == 1
    assert "ryan: " in done.stderr and "bad request from the fake" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_model(ryan: Ryan) -> None:
    done = ryan.run("chat", "hello", "--model", "nope:1b", "--json")
    assert done.returncode == 1
    last = json.loads(done.stdout.splitlines()[-1])
    assert last["code"] == -32002
    assert "llama3.2:latest" in json.dumps(last)


def test_session_last_continues(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("Nice to meet you")]), Reply([Text("You are Ada")]))
    first = ryan.run("chat", "my name is Ada", "--json")
    assert first.returncode == 0, first.stderr
    session = json.loads(first.stdout.splitlines()[0])["sessionId"]
    second = ryan.run("chat", "--session", "last", "what is my name?", "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout.splitlines()[-1])["sessionId"] == session
    messages = ryan.llm.chat_requests[-1].json["messages"]
    said = [(m["role"], m.get("content")) for m in messages]
    assert ("user", "my name is Ada") in said
    assert ("assistant", "Nice to meet you") in said
    assert said[-1] == ("user", "what is my name?")


def test_session_last_without_history(ryan: Ryan) -> None:
    done = ryan.run("chat", "--session", "last", "hello")
    assert done.returncode == 1
    assert "no earlier session" in done.stderr.lower()


def test_sessions_show_models(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("**bold** answer")]))
    assert ryan.run("chat", "first question").returncode == 0
    listed = ryan.run("sessions")
    assert listed.returncode == 0, listed.stderr
    assert "first question" in listed.stdout
    shown = ryan.run("show", "last")
    assert shown.returncode == 0, shown.stderr
    assert "first question" in shown.stdout and "bold" in shown.stdout
    prefix = listed.stdout.split()[0]
    assert "first question" in ryan.run("show", prefix).stdout
    models = ryan.run("models")
    assert models.returncode == 0, models.stderr
    assert "llama3.2:latest" in models.stdout and "qwen2.5-coder:7b" in models.stdout
    as_json = json.loads(ryan.run("sessions", "--json").stdout)
    assert as_json["sessions"][0]["title"]


def test_ctrl_c_exits_130_and_keeps_the_text(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("first ")] + [Text("more ")] * 200, delay=0.1))
    child = ryan.spawn("chat", "long answer please")
    child.expect("first")
    child.sendintr()
    child.expect(pexpect.EOF, timeout=10)
    child.close()
    assert child.exitstatus == 130
    assert "interrupted" in child.before
    assert ryan.llm.wait_disconnect(5)  # the model stopped generating


def test_sigint_json_reports_cancelled(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("first ")] + [Text("more ")] * 200, delay=0.1))
    proc = ryan.popen("chat", "long answer please", "--json")
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "stream ended early"
        lines.append(json.loads(line))
        if lines[-1]["kind"] == "content":
            break
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=10)
    assert proc.returncode == 130
    lines += [json.loads(line) for line in rest.splitlines()]
    assert lines[-1]["kind"] == "error" and lines[-1]["code"] == -32800
    assert ryan.llm.wait_disconnect(5)


def test_yes_allows_writes(ryan: Ryan, needs_write_file: None) -> None:
    ryan.llm.enqueue(
        Reply([ToolCall("write_file", {"path": "a.txt", "content": "hi"})]), Reply([Text("done")])
    )
    done = ryan.run("chat", "write a.txt", "--yes")
    assert done.returncode == 0, done.stderr
    assert (ryan.workspace / "a.txt").read_text() == "hi"
    assert "write_file a.txt" in done.stderr
    assert done.stdout == "done\n"


def test_no_tty_without_yes_denies(ryan: Ryan, needs_write_file: None) -> None:
    ryan.llm.enqueue(Reply([ToolCall("write_file", {"path": "a.txt", "content": "hi"})]), Reply([Text("ok")]))
    done = ryan.run("chat", "write a.txt", "--json")
    assert done.returncode == 0, done.stderr
    assert not (ryan.workspace / "a.txt").exists()
    assert "--yes" in done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["status"] for r in results if r["kind"] == "toolResult"] == ["denied"]


def test_global_flags_before_the_command(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("from qwen")]))
    done = ryan.run("--base-url", ryan.llm.url, "--model", "qwen2.5-coder:7b", "chat", "hi", base_url="")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "from qwen\n"
    assert ryan.llm.chat_requests[-1].json["model"] == "qwen2.5-coder:7b"


def test_thinking_dimmed_on_a_terminal(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Think("pondering"), Text("answer")], delay=0.02))
    child = ryan.spawn("chat", "hi")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    out = child.before
    assert "\x1b[2mpondering" in out
    assert out.index("pondering") < out.index("answer")
    assert "\x1b[0m" in out[out.index("pondering") : out.index("answer")]


def test_server_warnings_go_to_stderr(ryan: Ryan, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    ryan.env["RYAN_HISTORY"] = str(blocker / "history.sqlite3")
    ryan.llm.enqueue(Reply([Text("still works")]))
    done = ryan.run("chat", "hi", "--json")
    assert done.returncode == 0, done.stderr
    assert "history" in done.stderr and "warning" in done.stderr
    assert [json.loads(line)["kind"] for line in done.stdout.splitlines()][-1] == "result"


def test_asks_inline_on_a_terminal(ryan: Ryan, needs_write_file: None) -> None:
    ryan.llm.enqueue(
        Reply([ToolCall("write_file", {"path": "a.txt", "content": "hi"})]), Reply([Text("all done")])
    )
    child = ryan.spawn("chat", "write a.txt")
    child.expect_exact("[a]llow / allow for [s]ession / [d]eny")
    child.sendline("a")
    child.expect("all done")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (ryan.workspace / "a.txt").read_text() == "hi"


def test_readme_first_command_without_ollama(ryan: Ryan, dead_url: str) -> None:
    """`ryan chat "hello"` with no flags, $OLLAMA_HOST pointing where nothing listens."""
    ryan.env["OLLAMA_HOST"] = dead_url
    done = ryan.run("chat", "hello", base_url="")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Cannot connect to Ollama" in done.stderr and "ollama serve" in done.stderr


BRACKETS = "Use arr[i] and list[int]; [bold]x[/bold] stays, so do [[chunks 3]] and [red]."


def test_show_prints_brackets_and_long_lines_as_they_were(ryan: Ryan) -> None:
    long_line = "word " * 40  # wider than the 80 columns rich assumes off a terminal
    ryan.llm.enqueue(Reply([Text(f"{BRACKETS}\n{long_line.strip()}")]))
    assert ryan.run("chat", f"what is {BRACKETS}").returncode == 0
    shown = ryan.run("show", "last")  # stdout is a pipe, as in `ryan show last > file`
    assert shown.returncode == 0, shown.stderr
    assert f"what is {BRACKETS}" in shown.stdout  # the prompt
    assert f"{BRACKETS}\n{long_line.strip()}\n" in shown.stdout  # the answer
    listed = ryan.run("sessions")
    assert f"what is {BRACKETS}"[:40] in listed.stdout


def test_base_url_as_host_and_port_like_ollama_host(ryan: Ryan) -> None:
    ryan.llm.enqueue(Reply([Text("from the box I named")]))
    host_port = ryan.llm.url.removeprefix("http://")  # 127.0.0.1:PORT
    done = ryan.run("--base-url", host_port, "chat", "hi", base_url="")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "from the box I named\n"
    assert "warning" not in done.stderr and "invalid" not in done.stderr, done.stderr
    assert len(ryan.llm.chat_requests) == 1


def test_a_bad_base_url_is_a_usage_error_before_anything_starts(ryan: Ryan) -> None:
    for bad in ("not a url", "ftp://127.0.0.1:11434", "127.0.0.1:notaport", "http://"):
        done = ryan.run("chat", "hi", "--base-url", bad, base_url="")
        assert done.returncode == 2, (bad, done.stderr)
        assert "--base-url" in done.stderr and "http://127.0.0.1:11434" in done.stderr, done.stderr
        assert done.stdout == ""
    assert ryan.llm.chat_requests == []
    assert not (ryan.home / ".local/state/ryan/log/server.log").exists()  # no server was started


def test_reaching_the_step_limit_says_so_and_exits_3(ryan: Ryan) -> None:
    (ryan.workspace / "a.txt").write_text("alpha\n")
    ryan.llm.enqueue(*[Reply([ToolCall("read_file", {"path": "a.txt"})]) for _ in range(20)])
    done = ryan.run("chat", "keep reading")
    assert done.returncode == 3, done.stderr
    said = [line for line in done.stderr.splitlines() if "tools.maxSteps" in line]
    assert len(said) == 1, done.stderr  # once: from the server's notice, or else from the client
    assert "20 tool" in said[0] or "step limit" in said[0], said

    ryan.llm.enqueue(*[Reply([ToolCall("read_file", {"path": "a.txt"})]) for _ in range(20)])
    as_json = ryan.run("chat", "keep reading", "--json")
    assert as_json.returncode == 3, as_json.stderr
    assert json.loads(as_json.stdout.splitlines()[-1])["stopReason"] == "maxSteps"


def test_help_and_version(ryan: Ryan) -> None:
    version = ryan.run("--version", base_url="")
    assert version.returncode == 0
    assert re.fullmatch(r"ryan \d+\.\d+\.\d+\S*\n", version.stdout), version.stdout
    helped = ryan.run("--help", base_url="")
    assert helped.returncode == 0
    text = " ".join(helped.stdout.split())
    for code in ("0 done", "1 error", "2 usage", "3 ", "130 interrupted"):
        assert code in text, text
    assert "rm" in text and "tools.maxSteps" in text
