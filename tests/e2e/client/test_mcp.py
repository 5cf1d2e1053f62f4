"""`ryan --mcp-config FILE`: MCP servers' tools in the terminal (a real MCP server written with the SDK,
tests/mcp_servers/stdio_server.py), their lines in `ryan doctor`, and the file's usage errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.e2e.client.conftest import Ryan
from tests.fakes.llm_server import Reply, Text, ToolCall

SERVER = Path(__file__).parents[2] / "mcp_servers" / "stdio_server.py"


def mcp_file(ryan: Ryan, tmp_path: Path, **servers: dict[str, Any]) -> Path:
    """`{"mcpServers": {...}}` in a file outside the workspace; each server the SDK test server."""
    markers = tmp_path / "markers"
    block = {
        name: {
            "command": sys.executable,
            "args": [str(SERVER)],
            **extra,
            "env": {"MCP_TEST_MARKERS": str(markers), **extra.get("env", {})},
        }
        for name, extra in servers.items()
    }
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": block}))
    return path


def test_the_model_calls_an_mcp_tool_shown_as_server_and_tool(ryan: Ryan, tmp_path: Path) -> None:
    config = mcp_file(ryan, tmp_path, demo={})
    ryan.llm.enqueue(Reply([ToolCall("mcp__demo__add", {"a": 2, "b": 3})]), Reply([Text("It is five.")]))
    done = ryan.run("chat", "add 2 and 3", "--yes", "--mcp-config", str(config))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "It is five.\n"
    lines = done.stderr.splitlines()
    assert '⋯ demo › add {"a": 2, "b": 3}' in lines, done.stderr
    assert any(line.startswith("✓ demo › add") and line.endswith(": 5") for line in lines), done.stderr
    assert "mcp__demo__add" not in done.stderr
    tools = [t["function"]["name"] for t in ryan.llm.chat_requests[0].json.get("tools", [])]
    assert "mcp__demo__add" in tools
    assert (tmp_path / "markers").read_text().startswith("started ")


def test_json_events_carry_the_server_and_the_tool(ryan: Ryan, tmp_path: Path) -> None:
    config = mcp_file(ryan, tmp_path, demo={})
    ryan.llm.enqueue(Reply([ToolCall("mcp__demo__add", {"a": 1, "b": 1})]), Reply([Text("two")]))
    done = ryan.run("chat", "add", "--yes", "--json", "--mcp-config", str(config))
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    result = next(e for e in events if e["kind"] == "toolResult")
    shown = (result["server"], result["tool"], result["status"], result["output"])
    assert shown == ("demo", "add", "ok", "2")


def test_a_bad_mcp_config_is_a_usage_error(ryan: Ryan, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"mcpServers": {')
    no_block = tmp_path / "other.json"
    no_block.write_text('{"servers": {}}')
    for path, says in ((missing, "does not exist"), (bad_json, "not valid JSON"), (no_block, "mcpServers")):
        done = ryan.run("chat", "hi", "--mcp-config", str(path))
        assert done.returncode == 2, (path, done.stderr)
        assert str(path) in done.stderr and says in done.stderr, done.stderr
        assert "--mcp-config" in done.stderr
    assert ryan.llm.chat_requests == []


def test_doctor_lists_each_mcp_server_and_the_settings_problems(ryan: Ryan, tmp_path: Path) -> None:
    broken = {"env": {"MCP_TEST_FAIL_START": "1"}}
    config = mcp_file(ryan, tmp_path, demo={}, broken=broken, off={"disabled": True})
    done = ryan.run("doctor", "--mcp-config", str(config), "--set", "tools.maxSteps=0")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout.splitlines()
    assert "OK   mcp demo: ready, 7 tools" in out, done.stdout
    assert "OK   mcp off: disabled" in out, done.stdout
    failed = next(line for line in out if line.startswith("FAIL mcp broken: failed"))
    assert "boom: cannot start" in done.stdout[done.stdout.index(failed) :], done.stdout
    settings = [line for line in out if " settings:" in line]
    assert len(settings) == 1 and settings[0].startswith("FAIL settings: ryan.tools.maxSteps:"), done.stdout
    assert "greater than or equal to 1" in settings[0]


def test_doctor_without_mcp_servers_has_no_mcp_lines(ryan: Ryan) -> None:
    done = ryan.run("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " mcp " not in done.stdout
    assert f"OK   settings: no file at {ryan.home / '.config/ryan/settings.json'}" in done.stdout
