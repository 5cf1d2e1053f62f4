"""Failures over ACP: backend errors as JSON-RPC errors (the process lives on), garbage on stdin, bad
settings, unknown sessions, and nothing but protocol on stdout."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from acp import RequestError

from tests.fakes.llm_server import FakeLLM, HttpError, Reply, Text

from .conftest import Agent, run_agent


async def prompt_error(agent: Agent, session: str, text: str) -> RequestError:
    with pytest.raises(RequestError) as caught:
        await agent.prompt(session, text)
    return caught.value


async def test_a_backend_error_ends_the_prompt_with_its_message_and_partial_content(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    settings = {"streaming": {"retryDelayMs": 10, "updateIntervalMs": 20, "resumeAttempts": 0}}
    async with run_agent(tmp_path, workspace, llm, settings=settings) as agent:
        session = await agent.new_session()
        llm.enqueue(
            Reply([Text("one "), Text("two "), Text("three")], error_after=2, error_message="GPU on fire")
        )
        error = await prompt_error(agent, session, "count")
        assert "GPU on fire" in str(error)
        assert error.code == -32603
        assert error.data["code"] == -32003
        assert error.data["partialContent"] == "one two "
        assert agent.client.text() == "one two "
        llm.enqueue(HttpError(500, {"error": "CUDA out of memory"}, times=10))
        error = await prompt_error(agent, session, "again")
        assert "HTTP 500" in str(error) and "CUDA out of memory" in str(error)
        assert error.data == {"code": -32003, "partialContent": ""}
        # the process survives, and the session works on
        llm.reset()
        llm.enqueue(Reply([Text("fine now")]))
        assert (await agent.prompt(session, "and now?")).stop_reason == "end_turn"
        assert agent.proc.returncode is None


async def test_an_unreachable_backend_says_so(tmp_path: Path, workspace: Path, llm: FakeLLM) -> None:
    async with run_agent(tmp_path, workspace, llm, args=("--base-url", "http://127.0.0.1:9")) as agent:
        session = await agent.new_session()
        error = await prompt_error(agent, session, "hi")
        assert "127.0.0.1:9" in str(error) and error.data["code"] == -32001


async def test_garbage_on_stdin_is_answered_and_survived(agent: Agent, llm: FakeLLM) -> None:
    lines = [
        b"[1,2,3]\n",
        b'"just a string"\n',
        b"null\n",
        b"42\n",
        b"this is not json\n",
        b"{}\n",
        b'{"jsonrpc": "2.0", "id": [1], "method": "session/new"}\n',
        b'{"jsonrpc": "2.0", "id": 7, "method": 12}\n',
        b'{"jsonrpc": "2.0", "id": 8, "error": "nope"}\n',
        b'{"jsonrpc": "2.0", "id": 9, "method": "no/such_method", "params": {}}\n',
        b'{"jsonrpc": "2.0", "id": 10, "method": "session/prompt", "params": [1]}\n',
        b"\n",
    ]
    for line in lines:
        agent.send_raw(line)
    await agent.proc.stdin.drain()
    llm.enqueue(Reply([Text("still alive")]))
    session = await agent.new_session()
    assert (await agent.prompt(session, "hello?")).stop_reason == "end_turn"
    assert agent.client.text() == "still alive"
    errors = [m["error"] for m in agent.received if "error" in m]
    codes = [e["code"] for e in errors]
    assert codes.count(-32700) == 1  # not JSON
    assert codes.count(-32600) == 8  # JSON, but not a JSON-RPC message
    assert -32601 in codes and -32602 in codes  # the SDK's own answers
    assert agent.proc.returncode is None


STRAY = """
import os, sys
from ryan_server.acp import agent
original = agent.RyanAgent.initialize
async def initialize(self, *args, **kwargs):
    print("a stray print")
    os.write(1, b"a write to fd 1\\n")
    return await original(self, *args, **kwargs)
agent.RyanAgent.initialize = initialize
from ryan_server.cli import main
sys.exit(main(["--acp"]))
"""


async def test_stdout_carries_only_protocol(tmp_path: Path, workspace: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        STRAY,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=workspace,
        env={**os.environ, "RYAN_CONFIG": str(tmp_path / "none.json")},
    )
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": 1}}
    out, err = await asyncio.wait_for(proc.communicate(json.dumps(init).encode() + b"\n"), 20)
    assert proc.returncode == 0
    (line,) = out.decode().splitlines()
    assert json.loads(line)["result"]["agentInfo"]["name"] == "ryan"
    assert b"a stray print" in err and b"a write to fd 1" in err
    assert b"serving ACP" in err


async def test_bad_settings_are_told_and_the_good_ones_apply(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    settings = {"provider": "carrier-pigeon", "tools": {"maxSteps": "many"}, "model": "qwen2.5-coder:7b"}
    async with run_agent(tmp_path, workspace, llm, settings=settings) as agent:
        session = await agent.new_session()
        llm.enqueue(Reply([Text("ok")]), Reply([Text("ok again")]))
        await agent.prompt(session, "hi")
        told = agent.client.text()
        assert "provider" in told and "maxSteps" in told and told.endswith("ok")
        await agent.prompt(session, "hi again")
        assert agent.client.text().count("settings ignored") == 1
        assert "provider" in agent.log()
    assert llm.chat_requests[-1].json["model"] == "qwen2.5-coder:7b"


async def test_flags_override_the_settings_file(tmp_path: Path, workspace: Path, llm: FakeLLM) -> None:
    settings = {"baseUrl": "http://127.0.0.1:9", "model": "llama3.2:latest"}
    args = ("--base-url", llm.url, "--model", "qwen2.5-coder:7b")
    async with run_agent(tmp_path, workspace, llm, settings=settings, args=args) as agent:
        session = await agent.new_session()
        llm.enqueue(Reply([Text("ok")]))
        assert (await agent.prompt(session, "hi")).stop_reason == "end_turn"
    assert llm.chat_requests[-1].json["model"] == "qwen2.5-coder:7b"


async def test_a_prompt_for_an_unknown_session_is_an_error(agent: Agent) -> None:
    error = await prompt_error(agent, "no-such-session", "hi")
    assert "no session 'no-such-session'" in str(error)
