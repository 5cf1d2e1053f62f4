"""MCP servers' tools beside the built-in ones: the `mcpServers` setting's servers, their tools and calls.

The official SDK (`mcp`, imported only once a server is configured) speaks the protocol; this package
does configuration, naming, lifecycle, failures and turning results into text for the model.
"""

from __future__ import annotations

from .call import McpCall
from .connection import McpTool, State
from .hub import McpHub, McpServerStatus

__all__ = ["McpCall", "McpHub", "McpServerStatus", "McpTool", "State"]
