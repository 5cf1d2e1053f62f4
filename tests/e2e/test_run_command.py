"""`run_command` end to end: live output, consent, the allow-list, the sandbox, stopping, memory."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

from .conftest import Chat, RawServer, configure, wait_until


def run(command: str, **extra: Any) -> Reply:
    return Reply([ToolCall("run_command", {"command": command, **extra})])


def results(chat: Chat) -> list[dict[str, Any]]:
    return [e for e in chat.events if e["kind"] == "toolResult"]


def sent_to_model(llm: FakeLLM) -> list[str]:
    return [m["content"] for m in llm.chat_requests[-1].json["messages"] if m["role"] == "tool"]


def asked(client: LanguageClient) -> list[str]:
    return [r.message for r in client.approval_requests]  # type: ignore[attr-defined]


async def test_output_streams_before_the_result_with_the_exit_code(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    await configure(client, {"tools": {"allowCommands": ["python3"]}, "streaming": {"updateIntervalMs": 0}})
    script = "import sys, time\nfor i in range(3):\n    print('line', i, flush=True); time.sleep(0.2)\n"
    (workspace / "count.py").write_text(script + "print('oops', file=sys.stderr); sys.exit(3)\n")
    llm.enqueue(run("python3 count.py"), Reply([Text("It failed with 3.")]))
    chat = Chat(client, {"prompt": "run it"})
    await chat.result()
    kinds = chat.kinds()
    outputs = [e for e in chat.events if e["kind"] == "toolOutput"]
    assert len(outputs) >= 3  # as it came, not all at the end
    assert kinds.index("toolOutput") > kinds.index("toolCall") and kinds.index("toolResult") > max(
        i for i, k in enumerate(kinds) if k == "toolOutput"
    )
    assert "".join(e["text"] for e in outputs) == "line 0\nline 1\nline 2\noops\n"
    (result,) = results(chat)
    assert result["status"] == "ok" and result["output"].endswith("[exit code 3]")
    assert sent_to_model(llm)[0] == "$ python3 count.py\nline 0\nline 1\nline 2\noops\n\n[exit code 3]"
    assert not asked(client)


async def test_asked_denied_then_allowed_for_the_session(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    llm.enqueue(run("touch denied.txt"), Reply([Text("ok")]))
    client.answers.append("Deny")  # type: ignore[attr-defined]
    first = await Chat(client, {"prompt": "touch"}).result()
    assert asked(client) == ["run_command: Ryan wants to run `touch denied.txt` in the workspace folder"]
    assert first["toolCalls"][0]["status"] == "denied" and not (workspace / "denied.txt").exists()

    llm.enqueue(run("touch a.txt"), run("touch a.txt"), run("touch b.txt"), Reply([Text("done")]))
    client.answers.extend(["Allow for session", "Allow"])  # type: ignore[attr-defined]
    second = await Chat(client, {"prompt": "touch", "sessionId": first["sessionId"]}).result()
    assert [c["status"] for c in second["toolCalls"]] == ["ok", "ok", "ok"]
    assert len(asked(client)) == 3  # the same command again was not asked; another one was
    assert (workspace / "a.txt").exists() and (workspace / "b.txt").exists()


@pytest.mark.parametrize(
    "command",
    [
        "git status; touch x",
        "git status && touch x",
        "git status | tee x",
        "git status $(touch x)",
        "git status\ntouch x",
    ],
)
async def test_an_allowed_prefix_with_shell_operators_is_asked(
    client: LanguageClient, llm: FakeLLM, workspace: Path, command: str
) -> None:
    await configure(client, {"tools": {"allowCommands": ["git status"]}})
    llm.enqueue(run(command), Reply([Text("no")]))
    client.answers.append("Deny")  # type: ignore[attr-defined]
    await Chat(client, {"prompt": "status"}).result()
    assert len(asked(client)) == 1 and not (workspace / "x").exists()


async def test_an_allowed_prefix_runs_unasked(client: LanguageClient, llm: FakeLLM, workspace: Path) -> None:
    await configure(client, {"tools": {"allowCommands": ["echo"]}})
    llm.enqueue(run("echo hello there"), run("echoes"), Reply([Text("ok")]))
    client.answers.append("Deny")  # type: ignore[attr-defined]
    result = await Chat(client, {"prompt": "echo"}).result()
    assert [c["status"] for c in result["toolCalls"]] == ["ok", "denied"]  # `echoes` is not `echo …`
    assert len(asked(client)) == 1


async def test_a_folder_outside_the_workspace_is_refused(
    client: LanguageClient, llm: FakeLLM, tmp_path: Path
) -> None:
    llm.enqueue(run("touch escaped", cwd=str(tmp_path)), run("touch up", cwd=".."), Reply([Text("no")]))
    result = await Chat(client, {"prompt": "escape"}).result()
    assert [c["status"] for c in result["toolCalls"]] == ["error", "error"]
    assert not asked(client) and not (tmp_path / "escaped").exists() and not (tmp_path / "up").exists()


def group_alive(pgid: int) -> bool:
    """A process of the group that runs (killed orphans wait as zombies for init: they do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(group) == pgid and state not in ("Z", "X"):
            return True
    return False


async def started_pid(pidfile: Path) -> int:
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline, "the command did not start"
        await asyncio.sleep(0.02)
    return int(pidfile.read_text())


SLEEPER = "echo $$ > pid.txt; sleep 60 & sleep 60"  # a shell with two children, one in the background


async def test_a_command_past_its_time_limit_is_stopped_with_its_children(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    llm.enqueue(run(SLEEPER, timeoutSeconds=0.5), Reply([Text("too slow")]))
    client.answers.append("Allow")  # type: ignore[attr-defined]
    result = await Chat(client, {"prompt": "sleep"}).result()
    assert result["toolCalls"][0]["status"] == "ok"
    assert "[stopped: still running after 0.5 s (the time limit)]" in sent_to_model(llm)[0]
    assert not group_alive(int((workspace / "pid.txt").read_text()))


async def test_cancelling_stops_the_command_at_once(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    llm.enqueue(run(SLEEPER), Reply([Text("never")]))
    client.answers.append("Allow")  # type: ignore[attr-defined]
    chat = Chat(client, {"prompt": "sleep"})
    pgid = await started_pid(workspace / "pid.txt")
    cancelled_at = time.perf_counter()
    chat.cancel()
    with pytest.raises(Exception, match="ancel"):
        await chat.result()
    assert time.perf_counter() - cancelled_at < 0.2
    assert not group_alive(pgid)
    assert results(chat)[0]["status"] == "error"


async def test_secrets_do_not_reach_the_command(client: LanguageClient, llm: FakeLLM) -> None:
    await configure(client, {"apiKey": "sk-secret-for-ryan-only-42", "tools": {"allowCommands": ["env"]}})
    llm.enqueue(run("env"), Reply([Text("ok")]))
    await Chat(client, {"prompt": "env"}).result()
    environment = sent_to_model(llm)[0]
    assert "PATH=" in environment and "sk-secret-for-ryan-only-42" not in environment


def rss_peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
async def test_a_hundred_megabytes_of_output_keep_memory_flat(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    pid = client._server.pid  # type: ignore[attr-defined]
    await configure(client, {"tools": {"allowCommands": ["head"], "maxOutputBytes": 20000}})
    llm.enqueue(run("head -c 100000000 /dev/zero | tr '\\0' x"), Reply([Text("ok")]))
    client.answers.append("Allow")  # type: ignore[attr-defined]  # a pipe: asked
    before = rss_peak_kb(pid)
    chat = Chat(client, {"prompt": "flood"})
    await chat.result(timeout=120)
    grew = rss_peak_kb(pid) - before
    assert grew < 60_000, f"the server's peak memory grew by {grew} kB"
    model_got = sent_to_model(llm)[0]
    assert "MB of output left out" in model_got and len(model_got) < 21_000
    shown = sum(len(e["text"]) for e in chat.events if e["kind"] == "toolOutput")
    assert 1_000_000 <= shown < 1_100_000  # the live view stops at about 1 MB and says so


async def test_a_long_output_still_shows_its_exit_code(client: LanguageClient, llm: FakeLLM) -> None:
    await configure(client, {"tools": {"allowCommands": ["seq"]}})
    llm.enqueue(run("seq 1 5000"), Reply([Text("ok")]))
    chat = Chat(client, {"prompt": "count"})
    await chat.result()
    (result,) = results(chat)
    assert result["output"].startswith("$ seq 1 5000\n1\n2\n") and result["output"].endswith(
        "5000\n\n[exit code 0]"
    )
    assert len(result["output"]) < 4100


def test_no_command_is_left_when_the_editor_pipe_closes(llm: FakeLLM, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "hold.py").write_text(
        "import os, pathlib, time\npathlib.Path('pgid.txt').write_text(str(os.getpgid(0)))\ntime.sleep(60)\n"
    )
    settings = {
        "baseUrl": llm.url,
        "historyPath": str(tmp_path / "h.sqlite3"),
        "tools": {"allowCommands": ["python3"]},
    }
    llm.enqueue(run("python3 hold.py"), Reply([Text("never")]))
    server = RawServer(settings, dict(os.environ), workspace)
    server.send({"id": 2, "method": "ryan/chat", "params": {"prompt": "hold"}})
    wait_until(lambda: (workspace / "pgid.txt").exists() and bool((workspace / "pgid.txt").read_text()))
    pgid = int((workspace / "pgid.txt").read_text())
    assert group_alive(pgid)
    assert server.proc.stdin is not None
    server.proc.stdin.close()  # the editor went away mid-command
    assert server.proc.wait(15) is not None
    wait_until(lambda: not group_alive(pgid), timeout=5)
