"""The MCP servers' tools a chat offers: waiting for servers still starting, and `tools.maxTools`."""

from __future__ import annotations

from ..ports import EventSink
from ..protocol import Notice
from ..settings import Settings
from ..tools import ToolRegistry
from ..tools.mcp import McpHub

SHOWN_LEFT_OUT = 20


async def offer_mcp(
    hub: McpHub,
    registry: ToolRegistry,
    settings: Settings,
    sink: EventSink,
    told: dict[str, tuple[str, ...]],
    session_id: str,
) -> None:
    """Add the MCP tools to `registry`; a notice names those `tools.maxTools` leaves out (once per
    session for the same list, kept in `told`)."""
    if hub.starting:
        sink.status("starting MCP servers…")
        await hub.settle()
    left_out = tuple(registry.add_mcp(hub, settings.tools.max_tools))
    if not left_out or told.get(session_id) == left_out:
        return
    told[session_id] = left_out
    shown = ", ".join(left_out[:SHOWN_LEFT_OUT])
    if len(left_out) > SHOWN_LEFT_OUT:
        shown += f" and {len(left_out) - SHOWN_LEFT_OUT} more"
    sink.event(
        Notice(
            f"Only {settings.tools.max_tools} tools can be offered (tools.maxTools), so {len(left_out)} MCP "
            f"tools are left out: {shown}. Disable the MCP servers you do not need, or raise tools.maxTools "
            "if your backend takes more."
        )
    )
