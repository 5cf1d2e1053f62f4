"""MCP servers as tools, end to end: the real ryan-server over stdio, real MCP servers written with the
SDK (tests/mcp_servers), the scripted model calling `mcp__<server>__<tool>`."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

from .conftest import Chat, RawServer, configure, request, wait_until

SERVERS = Path(__file__).parent.parent / "mcp_servers"


def stdio_server(markers: Path, **extra: Any) -> dict[str, Any]:
    """The test server over stdio, writing its events ("started <pid>", "slow cancelled") to `markers`."""
    env = {"MCP_TEST_MARKERS": str(markers), **extra.pop("env", {})}
    return {"command": sys.executable, "args": [str(SERVERS / "stdio_server.py")], "env": env, **extra}


def marks(markers: Path) -> list[str]:
    return markers.read_text().splitlines() if markers.exists() else []


def pids(markers: Path) -> list[int]:
    return [int(line.split()[1]) for line in marks(markers) if line.startswith("started ")]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


async def eventually(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for a condition")
        await asyncio.sleep(0.02)


async def status(client: LanguageClient) -> dict[str, Any]:
    result: dict[str, Any] = await request(client, "ryan/status")
    return result


async def ready(client: LanguageClient, name: str) -> dict[str, Any]:
    """Wait for server `name` to have started (or failed); its `ryan/status` entry."""
    found: dict[str, Any] = {}

    async def settled() -> bool:
        for entry in (await status(client))["mcp"]:
            if entry["name"] == name and entry["state"] != "starting":
                found.update(entry)
                return True
        return False

    deadline = time.monotonic() + 20
    while not await settled():
        assert time.monotonic() < deadline, "the MCP server never settled"
        await asyncio.sleep(0.05)
    return found


def tool_messages(llm: FakeLLM) -> list[dict[str, Any]]:
    return [m for m in llm.chat_requests[-1].json["messages"] if m["role"] == "tool"]


def warnings(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Warning]


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    return tmp_path / "markers.txt"


async def test_the_model_calls_an_mcp_tool_after_approval(
    client: LanguageClient, llm: FakeLLM, markers: Path
) -> None:
    await configure(client, {"mcpServers": {"demo": stdio_server(markers)}})
    entry = await ready(client, "demo")
    assert entry["state"] == "ready" and {"add", "slow", "crash"} <= set(entry["tools"])
    llm.enqueue(Reply([ToolCall("mcp__demo__add", {"a": 2, "b": 3})]), Reply([Text("It is 5.")]))
    client.answers.append("Allow")  # type: ignore[attr-defined]
    chat = Chat(client, {"prompt": "what is 2 + 3?"})
    result = await chat.result()

    offered = {t["function"]["name"]: t["function"] for t in llm.chat_requests[0].json["tools"]}
    assert offered["mcp__demo__add"]["parameters"]["required"] == ["a", "b"]  # the server's schema
    assert "read_file" in offered  # beside the built-in tools
    (asked,) = client.approval_requests  # type: ignore[attr-defined]
    assert "'add'" in asked.message and "'demo'" in asked.message and '{"a": 2, "b": 3}' in asked.message
    call = next(e for e in chat.events if e["kind"] == "toolCall")
    done = next(e for e in chat.events if e["kind"] == "toolResult")
    assert (call["server"], call["tool"], done["server"], done["tool"]) == ("demo", "add", "demo", "add")
    assert done["status"] == "ok" and done["output"] == "5"
    assert tool_messages(llm)[0]["content"] == "5"
    assert result["content"] == "It is 5."
    assert (result["toolCalls"][0]["server"], result["toolCalls"][0]["tool"]) == ("demo", "add")
    stored = await request(client, "ryan/session", {"sessionId": result["sessionId"]})
    (asked_for,) = [c for m in stored["messages"] for c in m.get("toolCalls") or []]
    assert (asked_for["server"], asked_for["tool"], asked_for["status"]) == ("demo", "add", "ok")


async def test_denied_allowed_for_session_and_auto_approved(
    client: LanguageClient, llm: FakeLLM, markers: Path
) -> None:
    await configure(client, {"mcpServers": {"demo": stdio_server(markers, autoApprove=["echo_env"])}})
    await ready(client, "demo")
    llm.enqueue(Reply([ToolCall("mcp__demo__add", {"a": 1, "b": 1})]), Reply([Text("ok")]))
    client.answers.append("Deny")  # type: ignore[attr-defined]
    first = await Chat(client, {"prompt": "add"}).result()
    assert first["toolCalls"][0]["status"] == "denied"
    assert "denied" in tool_messages(llm)[0]["content"]

    session = {"sessionId": first["sessionId"]}
    llm.enqueue(
        Reply([ToolCall("mcp__demo__add", {"a": 1, "b": 2})]),
        Reply([ToolCall("mcp__demo__add", {"a": 3, "b": 4})]),
        Reply([ToolCall("mcp__demo__echo_env", {"name": "HOME"})]),
        Reply([Text("done")]),
    )
    client.answers.append("Allow for session")  # type: ignore[attr-defined]
    second = await Chat(client, {"prompt": "add twice", **session}).result()
    assert [c["status"] for c in second["toolCalls"]] == ["ok", "ok", "ok"]
    assert len(client.approval_requests) == 2  # type: ignore[attr-defined]  # the deny, then the session allow
    assert [m["content"] for m in tool_messages(llm)[-3:]] == ["3", "7", os.environ["HOME"]]


async def test_a_slow_call_times_out_and_is_cancelled_on_the_server(
    client: LanguageClient, llm: FakeLLM, markers: Path
) -> None:
    config = stdio_server(markers, timeout=0.5, autoApprove=["slow"])
    await configure(client, {"mcpServers": {"demo": config}})
    await ready(client, "demo")
    llm.enqueue(Reply([ToolCall("mcp__demo__slow", {"seconds": 30})]), Reply([Text("too slow")]))
    result = await Chat(client, {"prompt": "sleep"}).result()
    assert result["toolCalls"][0]["status"] == "error"
    assert "did not answer slow within 0.5 s" in tool_messages(llm)[0]["content"]
    await eventually(lambda: "slow cancelled" in marks(markers))


async def test_cancelling_the_chat_cancels_the_mcp_call(
    client: LanguageClient, llm: FakeLLM, markers: Path
) -> None:
    await configure(client, {"mcpServers": {"demo": stdio_server(markers, autoApprove=["slow"])}})
    await ready(client, "demo")
    llm.enqueue(Reply([ToolCall("mcp__demo__slow", {"seconds": 30})]), Reply([Text("never")]))
    chat = Chat(client, {"prompt": "sleep"})
    await eventually(lambda: "slow started" in marks(markers))
    cancelled_at = time.perf_counter()
    chat.cancel()
    with pytest.raises(Exception, match="ancel"):
        await chat.result()
    assert time.perf_counter() - cancelled_at < 0.2
    await eventually(lambda: "slow cancelled" in marks(markers))
    results = [e for e in chat.events if e["kind"] == "toolResult"]
    assert len(results) == 1 and results[0]["status"] == "error"


async def test_a_crashed_server_is_reported_once_and_restarted_on_next_use(
    client: LanguageClient, llm: FakeLLM, markers: Path
) -> None:
    await configure(client, {"mcpServers": {"demo": stdio_server(markers, autoApprove=["crash", "add"])}})
    await ready(client, "demo")
    llm.enqueue(Reply([ToolCall("mcp__demo__crash", {})]), Reply([Text("it crashed")]))
    first = await Chat(client, {"prompt": "crash"}).result()
    assert first["toolCalls"][0]["status"] == "error"
    assert "demo" in tool_messages(llm)[0]["content"]
    await eventually(lambda: len(warnings(client)) == 1)
    (warning,) = warnings(client)
    assert "MCP server 'demo' stopped" in warning and "crashing" in warning  # with its stderr
    assert (await ready(client, "demo"))["state"] == "crashed"

    llm.enqueue(Reply([ToolCall("mcp__demo__add", {"a": 20, "b": 22})]), Reply([Text("42")]))
    second = await Chat(client, {"prompt": "add"}).result()
    assert second["toolCalls"][0]["status"] == "ok" and tool_messages(llm)[0]["content"] == "42"
    assert len(pids(markers)) == 2  # started again
    assert (await ready(client, "demo"))["state"] == "ready"
    assert len(warnings(client)) == 1


async def test_a_server_that_cannot_start_is_reported_once_and_the_chat_goes_on(
    client: LanguageClient, llm: FakeLLM, markers: Path
) -> None:
    broken = stdio_server(markers, env={"MCP_TEST_FAIL_START": "1"})
    await configure(client, {"mcpServers": {"broken": broken, "missing": {"command": "/nonexistent/mcp"}}})
    entry = await ready(client, "broken")
    assert entry["state"] == "failed" and "boom: cannot start" in entry["error"]
    assert (await ready(client, "missing"))["state"] == "failed"
    llm.enqueue(Reply([Text("hello")]))
    result = await Chat(client, {"prompt": "hi"}).result()
    assert result["content"] == "hello"
    offered = [t["function"]["name"] for t in llm.chat_requests[0].json["tools"]]
    assert not [name for name in offered if name.startswith("mcp__")]
    await eventually(lambda: len(warnings(client)) == 2)
    texts = sorted(warnings(client))
    assert "'broken' could not start" in texts[0] and "boom: cannot start" in texts[0]
    assert "'missing' could not start" in texts[1] and "/nonexistent/mcp" in texts[1]


async def test_max_tools_caps_what_is_offered_with_a_notice(
    client: LanguageClient, llm: FakeLLM, markers: Path
) -> None:
    await configure(client, {"mcpServers": {"demo": stdio_server(markers)}, "tools": {"maxTools": 9}})
    await ready(client, "demo")
    llm.enqueue(Reply([Text("hi")]))
    chat = Chat(client, {"prompt": "hi"})
    await chat.result()
    offered = [t["function"]["name"] for t in llm.chat_requests[0].json["tools"]]
    assert len(offered) == 9 and offered[7:] == ["mcp__demo__add", "mcp__demo__slow"]
    (notice,) = [e["message"] for e in chat.events if e["kind"] == "notice"]
    assert "tools.maxTools" in notice and "mcp__demo__crash" in notice and "mcp__demo__add," not in notice


async def test_a_settings_change_touches_only_the_servers_that_changed(
    client: LanguageClient, tmp_path: Path
) -> None:
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    await configure(client, {"mcpServers": {"one": stdio_server(one)}})
    await ready(client, "one")
    await configure(client, {"mcpServers": {"one": stdio_server(one), "two": stdio_server(two)}})
    await ready(client, "two")
    assert len(pids(one)) == 1  # left alone
    (first,) = pids(one)
    await configure(client, {"mcpServers": {"two": stdio_server(two, timeout=5)}})
    await eventually(lambda: len(pids(two)) == 2)  # restarted: its entry changed
    await eventually(lambda: not alive(first))
    names = [entry["name"] for entry in (await status(client))["mcp"]]
    assert names == ["two"]


async def test_a_changed_tool_list_is_offered_in_the_next_chat(
    client: LanguageClient, llm: FakeLLM, markers: Path
) -> None:
    await configure(client, {"mcpServers": {"demo": stdio_server(markers, autoApprove=["add_tool"])}})
    await ready(client, "demo")
    llm.enqueue(Reply([ToolCall("mcp__demo__add_tool", {})]), Reply([Text("added")]))
    await Chat(client, {"prompt": "add a tool"}).result()
    await eventually(lambda: "mcp__demo__late" not in str(llm.chat_requests[-1].json["tools"]))

    async def listed() -> bool:
        entry = await ready(client, "demo")
        return "late" in entry["tools"]

    deadline = time.monotonic() + 10
    while not await listed():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    llm.enqueue(Reply([Text("hi")]))
    await Chat(client, {"prompt": "hi"}).result()
    assert "mcp__demo__late" in [t["function"]["name"] for t in llm.chat_requests[-1].json["tools"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def http_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SERVERS / "http_server.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (
                    "the HTTP MCP server did not start"
                )
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.kill()  # uvicorn's graceful stop would wait for Ryan's open stream
        proc.wait(5)


async def test_a_server_over_streamable_http(client: LanguageClient, llm: FakeLLM, http_server: str) -> None:
    server = {
        "url": http_server,
        "headers": {"Authorization": "Bearer test-token-1234"},
        "autoApprove": ["add"],
    }
    await configure(client, {"mcpServers": {"web": server}})
    entry = await ready(client, "web")
    assert entry["state"] == "ready", entry
    llm.enqueue(Reply([ToolCall("mcp__web__add", {"a": 40, "b": 2})]), Reply([Text("42")]))
    result = await Chat(client, {"prompt": "add over http"}).result()
    assert result["toolCalls"][0]["status"] == "ok"
    assert tool_messages(llm)[0]["content"] == "42"
    assert not client.approval_requests  # type: ignore[attr-defined]


def lsp_message(body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    return b"Content-Length: %d\r\n\r\n" % len(data) + data


@pytest.mark.parametrize("leave", ["shutdown and exit", "the pipe closes"])
def test_no_server_is_left_when_the_editor_leaves(
    llm: FakeLLM, tmp_path: Path, markers: Path, leave: str
) -> None:
    """Also: Ryan's API key, in its own environment, does not reach the MCP server."""
    settings = {
        "baseUrl": llm.url,
        "historyPath": str(tmp_path / "h.sqlite3"),
        "mcpServers": {"demo": stdio_server(markers, autoApprove=["echo_env"])},
    }
    llm.enqueue(Reply([ToolCall("mcp__demo__echo_env", {"name": "RYAN_API_KEY"})]), Reply([Text("ok")]))
    server = RawServer(settings, {**os.environ, "RYAN_API_KEY": "sk-ryan-secret-0001"}, tmp_path)
    server.send({"id": 2, "method": "ryan/chat", "params": {"prompt": "env"}})
    wait_until(lambda: len(llm.chat_requests) >= 2)
    sent = [m for m in llm.chat_requests[-1].json["messages"] if m["role"] == "tool"]
    assert sent[0]["content"] == "<unset>"
    (pid,) = pids(markers)
    assert alive(pid)
    if leave == "shutdown and exit":
        server.send({"id": 3, "method": "shutdown"})
        server.send({"method": "exit"})
    else:
        assert server.proc.stdin is not None
        server.proc.stdin.close()
    assert server.proc.wait(15) is not None
    assert not alive(pid)
