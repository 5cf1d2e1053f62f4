"""An independent client in another language: the ACP TypeScript SDK (`@agentclientprotocol/sdk`, pinned
in ts_client/package.json) drives `ryan-server --acp` through a turn with a tool call and a permission."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

from .conftest import agent_env, write_settings

CLIENT = Path(__file__).parent / "ts_client"


@pytest.fixture(scope="session")
def ts_client() -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("npm and node are needed for the TypeScript ACP client (CI has them)")
    installed = CLIENT / "node_modules" / "@agentclientprotocol" / "sdk" / "package.json"
    if not installed.exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENT, check=True, timeout=300)
    return CLIENT / "client.mjs"


def test_the_typescript_sdk_runs_a_full_turn(
    ts_client: Path, tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    llm.enqueue(
        Reply([Text("Writing it. "), ToolCall("write_file", {"path": "hello.txt", "content": "hello\n"})]),
        Reply([Text("Done: hello.txt says hello.")]),
    )
    env = agent_env(tmp_path, write_settings(tmp_path, llm))
    server = Path(sys.executable).parent / "ryan-server"
    run = subprocess.run(
        ["node", str(ts_client), str(workspace), str(server), "--acp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.splitlines()[-1])
    assert seen["initialize"]["agentInfo"]["name"] == "ryan"
    assert seen["initialize"]["agentCapabilities"]["loadSession"] is True
    assert seen["prompt"]["stopReason"] == "end_turn"
    updates = seen["updates"]
    text = "".join(u["content"]["text"] for u in updates if u["sessionUpdate"] == "agent_message_chunk")
    assert text == "Writing it. Done: hello.txt says hello."
    (start,) = [u for u in updates if u["sessionUpdate"] == "tool_call"]
    assert (start["kind"], start["title"], start["status"]) == ("edit", "Write hello.txt", "pending")
    assert start["rawInput"] == {"path": "hello.txt", "content": "hello\n"}
    call_id = start["toolCallId"]
    (permission,) = seen["permissions"]
    assert permission["toolCall"]["toolCallId"] == call_id
    assert [o["kind"] for o in permission["options"]] == ["allow_once", "allow_always", "reject_once"]
    assert seen["order"].index(f"permission:{call_id}") > seen["order"].index("update:tool_call")
    progress = [u for u in updates if u["sessionUpdate"] == "tool_call_update"]
    assert [u.get("status") for u in progress] == ["in_progress", "completed"]
    diff = progress[-1]["content"][0]
    assert diff == {"type": "diff", "path": str(workspace / "hello.txt"), "newText": "hello\n"}
    assert (workspace / "hello.txt").read_text() == "hello\n"
