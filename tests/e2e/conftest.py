"""End-to-end fixtures: the real ryan-server over stdio (pytest-lsp) against the scripted LLM server.

Every test gets a fresh server process, a temporary workspace and history file, and a client that
records `$/progress` values per token, answers approvals from a queue and applies or refuses edits.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.lsp.client import LanguageClient as _Base  # noqa: F401  (pytest-lsp's client extends it)
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from tests.fakes.llm_server import FakeLLM

CLIENTS = ["visual-studio-code", "neovim"]


def make_client() -> LanguageClient:
    """pytest-lsp's client, with our own `$/progress` handler (its default rejects our values)."""
    client = LanguageClient(converter_factory=default_converter)
    register_lsp_features(client, {k: v for k, v in DEFAULT_CLIENT_FEATURES.items() if k != types.PROGRESS})
    client.events = defaultdict(list)  # type: ignore[attr-defined]
    client.event_times = defaultdict(list)  # type: ignore[attr-defined]
    client.work_done = defaultdict(list)  # type: ignore[attr-defined]
    client.answers = deque()  # type: ignore[attr-defined]
    client.approval_requests = []  # type: ignore[attr-defined]
    client.applied_edits = []  # type: ignore[attr-defined]
    client.apply_result = True  # type: ignore[attr-defined]
    client.edit_hook = None  # type: ignore[attr-defined]  # called with each edit applied (a test's editor)

    @client.feature(types.PROGRESS)
    def on_progress(client: LanguageClient, params: Any) -> None:
        value = params.value
        if isinstance(value, dict) and value.get("kind") in ("begin", "report", "end"):
            client.work_done[params.token].append(value)  # type: ignore[attr-defined]
        else:
            client.events[params.token].append(value)  # type: ignore[attr-defined]
            client.event_times[params.token].append(asyncio.get_running_loop().time())  # type: ignore[attr-defined]

    client.approval_gate = None  # type: ignore[attr-defined]  # an asyncio.Event: answer once it is set
    client.approvals_answered = 0  # type: ignore[attr-defined]

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    async def on_request(client: LanguageClient, params: types.ShowMessageRequestParams) -> Any:
        client.approval_requests.append(params)  # type: ignore[attr-defined]
        if client.approval_gate is not None:  # type: ignore[attr-defined]
            await client.approval_gate.wait()  # type: ignore[attr-defined]
        answer = client.answers.popleft() if client.answers else None  # type: ignore[attr-defined]
        client.approvals_answered += 1  # type: ignore[attr-defined]
        return types.MessageActionItem(title=answer) if answer else None

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_apply(client: LanguageClient, params: types.ApplyWorkspaceEditParams) -> Any:
        client.applied_edits.append(params.edit)  # type: ignore[attr-defined]
        ok = client.apply_result  # type: ignore[attr-defined]
        if ok and client.edit_hook is not None:  # type: ignore[attr-defined]
            client.edit_hook(params.edit)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=ok, failure_reason=None if ok else "read-only buffer")

    return client


@pytest.fixture(scope="session")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _fresh_llm(llm: FakeLLM) -> None:
    llm.reset()
    llm.models[:] = ["llama3.2:latest", "qwen2.5-coder:7b"]
    llm.no_tools.clear()
    llm.context_length = 8192


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    return root


def base_settings(llm: FakeLLM, tmp_path: Path) -> dict[str, Any]:
    return {
        "baseUrl": llm.url,
        "historyPath": str(tmp_path / "history.sqlite3"),
        "streaming": {"retryDelayMs": 10, "updateIntervalMs": 20},
    }


async def start(
    client: LanguageClient, capabilities: str | types.ClientCapabilities, root: Path, options: dict[str, Any]
) -> types.InitializeResult:
    caps = client_capabilities(capabilities) if isinstance(capabilities, str) else capabilities
    return await client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="workspace")],
            initialization_options=options,
        )
    )


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "ryan_server"], client_factory=make_client)


@pytest_lsp.fixture(config=SERVER, params=CLIENTS)
async def client(
    lsp_client: LanguageClient, request: pytest.FixtureRequest, llm: FakeLLM, workspace: Path, tmp_path: Path
) -> AsyncIterator[None]:
    lsp_client.init_result = await start(lsp_client, request.param, workspace, base_settings(llm, tmp_path))  # type: ignore[attr-defined]
    lsp_client.capability_name = request.param  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


_ids = itertools.count(1)


class Chat:
    """One `ryan/chat` request in flight: its token, its request id, its future."""

    def __init__(self, client: LanguageClient, params: dict[str, Any], *, work_done: bool = False) -> None:
        self.client = client
        self.token = f"chat-{uuid.uuid4().hex[:8]}"
        self.work_token = f"work-{self.token}" if work_done else None
        self.id = f"req-{next(_ids)}"
        body = {"partialResultToken": self.token, **params}
        if self.work_token:
            body["workDoneToken"] = self.work_token
        self.future = asyncio.ensure_future(
            client.protocol.send_request_async("ryan/chat", body, msg_id=self.id)
        )

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.client.events[self.token]  # type: ignore[attr-defined,no-any-return]

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.events]

    def text(self, kind: str = "content") -> str:
        return "".join(e["text"] for e in self.events if e["kind"] == kind)

    def cancel(self) -> None:
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=self.id))

    async def result(self, timeout: float = 15) -> dict[str, Any]:
        return plain(await asyncio.wait_for(self.future, timeout))

    async def wait_for(self, predicate: Any, timeout: float = 10) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; events so far: {self.events}")
            await asyncio.sleep(0.01)


def plain(value: Any) -> Any:
    """The client also gets namedtuples for untyped results: make them dicts."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


async def request(client: LanguageClient, method: str, params: dict[str, Any] | None = None) -> Any:
    return plain(await asyncio.wait_for(client.protocol.send_request_async(method, params or {}), 15))


async def settled(client: LanguageClient) -> None:
    """A round trip with a cheap request: the server has handled everything it was sent before it
    (its handlers start in the order the messages came), and everything it sent before has arrived."""
    await request(client, "ryan/sessions")


async def configure(client: LanguageClient, settings: dict[str, Any]) -> None:
    """Change settings (`workspace/didChangeConfiguration`) and wait until the server has taken them."""
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"ryan": settings}))
    await settled(client)


class RawServer:
    """ryan-server started by hand in `cwd` (its workspace), written to as an editor would, for the ways
    an editor leaves."""

    def __init__(self, settings: dict[str, Any], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ryan_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
        init = {
            "processId": None,
            "rootUri": cwd.as_uri(),
            "capabilities": {},
            "initializationOptions": settings,
        }
        self.send({"id": 1, "method": "initialize", "params": init})
        self.send({"method": "initialized", "params": {}})

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        data = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()


def wait_until(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for a condition"
        time.sleep(0.05)
