"""The client's MCP servers (session/new `mcpServers`) run through Ryan's MCP code, beside the settings'."""

from __future__ import annotations

import sys
from pathlib import Path

from acp.schema import EnvVariable, McpServerStdio

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

from .conftest import RecordingClient, run_agent

SERVERS = Path(__file__).parent.parent.parent / "mcp_servers"


async def test_a_client_mcp_server_offers_its_tools(tmp_path: Path, workspace: Path, llm: FakeLLM) -> None:
    server = McpServerStdio(
        name="demo",
        command=sys.executable,
        args=[str(SERVERS / "stdio_server.py")],
        env=[EnvVariable(name="MCP_TEST_MARKERS", value=str(tmp_path / "markers"))],
    )
    llm.enqueue(Reply([ToolCall("mcp__demo__add", {"a": 2, "b": 3})]), Reply([Text("It is 5.")]))
    client = RecordingClient(answers=["allow_once"])
    async with run_agent(tmp_path, workspace, llm, client=client) as agent:
        response = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[server])
        result = await agent.prompt(response.session_id, "what is 2 + 3?", timeout=40)
    assert result.stop_reason == "end_turn"
    offered = [t["function"]["name"] for t in llm.chat_requests[0].json["tools"]]
    assert "mcp__demo__add" in offered
    (call,) = client.calls().values()
    assert (call["start"].kind, call["start"].title) == ("other", "add (demo)")
    assert call["statuses"][-1] == "completed" and "5" in call["content"][-1].content.text
    assert client.text() == "It is 5."
