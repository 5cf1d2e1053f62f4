"""All configured MCP servers: started, stopped and restarted as the `mcpServers` setting changes.

`configure` compares the new block with the running servers and touches only those whose entry
changed; servers start in the background, so settings (and `initialize`) are never held up by a slow
server. A chat waits a bounded time for servers still starting (`settle`) before it offers their tools.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from ...settings import McpServerSettings
from .connection import McpConnection, McpTool, State

log = logging.getLogger(__name__)

SETTLE_SECONDS = 10.0  # how long a chat waits for servers still starting


@dataclass(slots=True)
class McpServerStatus:
    """A server as `ryan/status` shows it."""

    name: str
    state: str
    tools: list[str] = field(default_factory=list)
    error: str | None = None


class McpHub:
    """The servers of the `mcpServers` setting, by name."""

    def __init__(self, report: Callable[[str], None], *, cwd: str | None = None) -> None:
        """`report` tells the user about a server that failed (once per failure); `cwd` is where a stdio
        server without its own `cwd` runs (the workspace)."""
        self._report = report
        self.cwd = cwd
        self._servers: dict[str, McpConnection] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self.generation = 0  # changes whenever the offered tools may have changed

    def configure(self, servers: dict[str, McpServerSettings]) -> None:
        """Start, stop or restart the servers whose entries changed (call from the event loop)."""
        for name in list(self._servers):
            old = self._servers[name]
            if servers.get(name) != old.config:
                del self._servers[name]
                self._stop_later(old)
        for name, config in servers.items():
            if name not in self._servers:
                connection = McpConnection(
                    name, config, cwd=self.cwd, report=self._report, tools_changed=self._changed
                )
                self._servers[name] = connection
                connection.start()
        self._changed()

    def _changed(self) -> None:
        self.generation += 1

    def _stop_later(self, connection: McpConnection) -> None:
        task = asyncio.get_running_loop().create_task(connection.stop())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    @property
    def configured(self) -> bool:
        return bool(self._servers)

    @property
    def starting(self) -> bool:
        return any(c.state == State.STARTING for c in self._servers.values())

    async def settle(self, bound: float = SETTLE_SECONDS) -> None:
        """Wait (at most `bound` seconds) for servers still starting."""
        starting = [c for c in self._servers.values() if c.state == State.STARTING]
        if not starting:
            return
        with anyio.move_on_after(bound):
            async with anyio.create_task_group() as group:
                for connection in starting:
                    group.start_soon(connection.settled)

    def tools(self) -> list[McpTool]:
        """The tools to offer, in the settings' order of servers, each name unique."""
        offered: list[McpTool] = []
        for connection in self._servers.values():
            if connection.state in (State.READY, State.CRASHED):  # a crashed one restarts when used
                offered += connection.tools
        return offered

    def connection(self, server: str) -> McpConnection | None:
        return self._servers.get(server)

    def status(self) -> list[McpServerStatus]:
        servers = self._servers.values()
        return [McpServerStatus(c.name, c.state, [t.tool for t in c.tools], c.error) for c in servers]

    async def aclose(self) -> None:
        """Stop every server and wait for them to be gone."""
        connections, self._servers = list(self._servers.values()), {}
        async with anyio.create_task_group() as group:
            for connection in connections:
                group.start_soon(connection.stop)
            for task in list(self._stopping):
                group.start_soon(_wait, task)


async def _wait(task: asyncio.Task[Any]) -> None:
    try:
        await task
    except Exception as exc:
        log.debug("stopping an MCP server: %s", exc)
