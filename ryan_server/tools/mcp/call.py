"""A prepared call of an MCP tool: the question to ask, and the call once allowed."""

from __future__ import annotations

from typing import Any

from ..plan import Plan
from ..workspace import ToolError
from .connection import CallFailed, McpConnection, McpTool, arguments_text


class McpCall(Plan):
    """Asks naming server, tool and arguments; an `isError` result or a failed call is a tool error."""

    writes = True  # an MCP tool may change anything: it asks unless allowed, and never runs beside others

    def __init__(
        self, connection: McpConnection, tool: McpTool, arguments: dict[str, Any], limit: int
    ) -> None:
        self.connection = connection
        self.tool = tool
        self.arguments = arguments
        self.limit = limit

    def approval_message(self) -> str:
        tool, server, arguments = self.tool.tool, self.tool.server, arguments_text(self.arguments)
        return f"Ryan wants to run '{tool}' of the MCP server '{server}' with {arguments}"

    async def run(self) -> str:
        try:
            is_error, text = await self.connection.call(self.tool.tool, self.arguments, self.limit)
        except CallFailed as failure:
            raise ToolError(str(failure)) from None
        if is_error:
            raise ToolError(text)
        return text
