"""MCP pieces without a server: offered names, results as text, capped output, the settings block."""

from __future__ import annotations

import re
from types import SimpleNamespace as NS

from ryan_server.settings import Settings, merge
from ryan_server.tools.mcp.naming import offered_name
from ryan_server.tools.mcp.results import result_text
from ryan_server.tools.text import cap_output


def test_offered_names_are_safe_and_at_most_64_characters() -> None:
    assert offered_name("demo", "add") == "mcp__demo__add"
    assert offered_name("my server", "get.issue/v2") == "mcp__my_server__get_issue_v2"
    long_a = offered_name("github", "x" * 80)
    long_b = offered_name("github", "x" * 81)
    assert len(long_a) == 64 and len(long_b) == 64 and long_a != long_b
    assert re.fullmatch(r"mcp__github__x+_[0-9a-f]{8}", long_a)


def text(value: str) -> NS:
    return NS(type="text", text=value)


def test_results_join_text_and_leave_out_binary() -> None:
    image = NS(type="image", mime_type="image/png", data="A" * 400)
    result = NS(content=[text("first"), image, text("second")], structured_content={"result": 1})
    assert result_text(result, 1000) == (
        "first\n[image left out: image/png, about 300 bytes; Ryan passes only text to the model]\nsecond"
    )


def test_structured_content_when_there_is_no_text() -> None:
    result = NS(content=[], structured_content={"rows": [1, 2]})
    assert '"rows"' in result_text(result, 1000) and "1" in result_text(result, 1000)
    assert result_text(NS(content=[], structured_content=None), 1000) == "(the tool returned no content)"


def test_embedded_resources_give_their_text() -> None:
    resource = NS(type="resource", resource=NS(uri="file:///a.txt", text="hello", mime_type="text/plain"))
    blob = NS(type="resource", resource=NS(uri="file:///b.bin", text=None, mime_type="application/zip"))
    out = result_text(NS(content=[resource, blob], structured_content=None), 1000)
    assert (
        out == "[resource file:///a.txt]\nhello\n[resource file:///b.bin left out: application/zip content]"
    )


def test_long_output_keeps_head_and_tail() -> None:
    out = cap_output("head " + "x" * 10_000 + " tail", 1000)
    assert out.startswith("head ") and out.endswith(" tail") and "left out" in out
    assert len(out.encode()) < 1100
    assert cap_output("short", 1000) == "short"


def test_a_bad_server_entry_keeps_its_previous_value_and_spares_the_others() -> None:
    good = {"command": "uvx", "args": ["mcp-server-fetch"]}
    settings, errors = merge(Settings(), {"mcpServers": {"fetch": good, "web": {"url": "https://x/mcp"}}})
    assert errors == [] and set(settings.mcp_servers) == {"fetch", "web"}
    settings, errors = merge(
        settings,
        {"mcpServers": {"fetch": {"command": "uvx", "timeout": -1}, "web": {"url": "https://x/mcp"}}},
    )
    assert errors == ["ryan.mcpServers.fetch: timeout: Input should be greater than 0"]
    assert settings.mcp_servers["fetch"].args == ["mcp-server-fetch"]  # the previous entry
    settings, errors = merge(settings, {"mcpServers": {"web": {"url": "https://x/mcp"}}})
    assert set(settings.mcp_servers) == {"web"}  # a server left out of the block is removed


def test_pasted_entries_from_other_editors_are_accepted() -> None:
    cline = {"command": "node", "args": ["s.js"], "alwaysAllow": ["read"], "transportType": "stdio", "x": 1}
    settings, errors = merge(
        Settings(), {"mcpServers": {"c": cline, "old": {"url": "http://h/sse", "type": "sse"}}}
    )
    assert errors == ["ryan.mcpServers.c.x: unknown key, ignored"]
    assert settings.mcp_servers["c"].approved_tools == {"read"}
    assert settings.mcp_servers["old"].sse


def test_an_entry_needs_a_command_or_a_url() -> None:
    _, errors = merge(Settings(), {"mcpServers": {"a": {}, "b": {"command": "x", "url": "http://h"}, "c": 3}})
    assert errors == [
        'ryan.mcpServers.a: needs either "command" (a server Ryan starts) or "url" (one it connects to)',
        'ryan.mcpServers.b: needs either "command" (a server Ryan starts) or "url" (one it connects to)',
        "ryan.mcpServers.c: must be an object",
    ]


def test_secrets_in_env_and_headers_are_not_shown() -> None:
    settings, _ = merge(Settings(), {"mcpServers": {"a": {"command": "x", "env": {"TOKEN": "s3cr3t-value"}}}})
    assert "s3cr3t-value" not in repr(settings)
