"""End-to-end fixtures for `ryan-server --acp`: the real server over stdio, driven by the ACP SDK's client
side (`acp.spawn_agent_process`), against the scripted LLM server.

Each test gets a temporary workspace (the session's cwd), a settings file pointed at by `RYAN_CONFIG`
(the fake LLM's address, fast coalescing), a temporary history, and a `RecordingClient` that records
every `session/update`, answers permission requests from a queue and serves or records file reads and
writes when it offers them. The server's stderr goes to a file the test can read.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from acp import PROTOCOL_VERSION, RequestError, spawn_agent_process
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    Implementation,
    ReadTextFileResponse,
    RequestPermissionResponse,
    WriteTextFileResponse,
)

from tests.fakes.llm_server import FakeLLM


@dataclass
class RecordingClient:
    """An ACP client that records what the agent sends and answers as a test scripts it."""

    answers: list[str | None] = field(default_factory=list)  # option ids; None: dismissed (cancelled)
    buffers: dict[str, str] = field(default_factory=dict)  # path -> unsaved text fs/read_text_file serves
    updates: list[tuple[float, str, Any]] = field(default_factory=list)  # (time, session, update)
    permissions: list[Any] = field(default_factory=list)  # RequestPermissionRequest-like (tool_call, options)
    writes: list[tuple[str, str]] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    refuse_writes: bool = False
    hold_permissions: bool = False  # never answer (until the agent stops waiting)
    order: list[str] = field(default_factory=list)  # "update:<kind>" and "permission:<id>", as received

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append((asyncio.get_running_loop().time(), session_id, update))
        self.order.append(f"update:{update.session_update}")

    async def request_permission(
        self, session_id: str, tool_call: Any, options: list[Any], **kwargs: Any
    ) -> RequestPermissionResponse:
        self.permissions.append((tool_call, options))
        self.order.append(f"permission:{tool_call.tool_call_id}")
        if self.hold_permissions:
            await asyncio.Event().wait()
        answer = self.answers.pop(0) if self.answers else None
        if answer is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=answer))

    async def write_text_file(self, session_id: str, path: str, content: str, **kwargs: Any) -> Any:
        if self.refuse_writes:
            raise RequestError(-32603, "the buffer is read-only")
        self.writes.append((path, content))
        return WriteTextFileResponse()

    async def read_text_file(self, session_id: str, path: str, **kwargs: Any) -> ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        try:
            return ReadTextFileResponse(content=Path(path).read_text())
        except FileNotFoundError:
            raise RequestError.resource_not_found(path) from None

    # -- what the tests look at

    def of(self, kind: str) -> list[Any]:
        return [u for _, _, u in self.updates if u.session_update == kind]

    def kinds(self) -> list[str]:
        return [u.session_update for _, _, u in self.updates]

    def text(self, kind: str = "agent_message_chunk") -> str:
        return "".join(u.content.text for u in self.of(kind))

    def calls(self) -> dict[str, dict[str, Any]]:
        """Each tool call by id: its `tool_call` fields, then its updates' statuses and last content."""
        calls: dict[str, dict[str, Any]] = {}
        for _, _, u in self.updates:
            if u.session_update == "tool_call":
                calls[u.tool_call_id] = {"start": u, "statuses": [u.status], "content": u.content}
            elif u.session_update == "tool_call_update":
                entry = calls[u.tool_call_id]
                if u.status:
                    entry["statuses"].append(u.status)
                if u.content is not None:
                    entry["content"] = u.content
        return calls


@dataclass
class Agent:
    conn: Any
    proc: Any
    client: RecordingClient
    workspace: Path
    stderr: Path
    received: list[dict[str, Any]]  # every raw message from the agent

    def send_raw(self, line: bytes) -> None:
        """Write `line` to the agent's stdin as it is (whole lines: they never mix with the SDK's)."""
        self.proc.stdin.write(line)

    async def new_session(self) -> str:
        response = await asyncio.wait_for(self.conn.new_session(cwd=str(self.workspace), mcp_servers=[]), 15)
        return str(response.session_id)

    async def prompt(self, session_id: str, *blocks: Any, timeout: float = 20) -> Any:
        from acp import text_block

        content = [text_block(b) if isinstance(b, str) else b for b in blocks]
        return await asyncio.wait_for(self.conn.prompt(session_id=session_id, prompt=content), timeout)

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")


def write_settings(tmp_path: Path, llm: FakeLLM, **extra: Any) -> Path:
    path = tmp_path / "config" / "settings.json"
    path.parent.mkdir(exist_ok=True)
    settings = {"baseUrl": llm.url, "streaming": {"retryDelayMs": 10, "updateIntervalMs": 20}, **extra}
    path.write_text(json.dumps(settings))
    return path


def agent_env(tmp_path: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OLLAMA_HOST", "RYAN_API_KEY")}
    env.update(
        RYAN_CONFIG=str(config),
        RYAN_HISTORY=str(tmp_path / "history.sqlite3"),
        PYTHONUNBUFFERED="1",
    )
    return env


def capabilities(*, read: bool = False, write: bool = False) -> ClientCapabilities:
    return ClientCapabilities(fs=FileSystemCapabilities(read_text_file=read, write_text_file=write))


@asynccontextmanager
async def run_agent(
    tmp_path: Path,
    workspace: Path,
    llm: FakeLLM,
    *,
    client: RecordingClient | None = None,
    caps: ClientCapabilities | None = None,
    settings: dict[str, Any] | None = None,
    args: tuple[str, ...] = (),
) -> AsyncIterator[Agent]:
    client = client or RecordingClient()
    config = write_settings(tmp_path, llm, **(settings or {}))
    received: list[dict[str, Any]] = []

    def observe(event: Any) -> None:
        if event.direction.value == "incoming":
            received.append(event.message)

    stderr_path = tmp_path / f"agent-{len(list(tmp_path.glob('agent-*.log')))}.log"
    with stderr_path.open("wb") as stderr:
        async with spawn_agent_process(
            client,
            sys.executable,
            "-m",
            "ryan_server",
            "--acp",
            *args,
            env=agent_env(tmp_path, config),
            cwd=workspace,
            transport_kwargs={"stderr": stderr},
            observers=[observe],
        ) as (conn, proc):
            await asyncio.wait_for(
                conn.initialize(
                    protocol_version=PROTOCOL_VERSION,
                    client_capabilities=caps or capabilities(),
                    client_info=Implementation(name="ryan-tests", version="1"),
                ),
                15,
            )
            yield Agent(conn, proc, client, workspace, stderr_path, received)


@pytest.fixture
async def agent(tmp_path: Path, workspace: Path, llm: FakeLLM) -> AsyncIterator[Agent]:
    async with run_agent(tmp_path, workspace, llm) as running:
        yield running
