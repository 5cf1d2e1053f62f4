"""ACP sessions and the engines behind them: one engine per workspace folder (a session's `cwd`).

A session's `cwd` is its workspace root, which is also the tools' sandbox root, the folder its history
is filed under and where MCP servers run. Sessions in the same folder share an engine (its backend,
history and MCP servers); the client's `mcpServers` join the settings' servers in that engine's hub.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acp.schema import AcpMcpServer, HttpMcpServer, McpServerStdio, SseMcpServer

from ..settings import McpServerSettings, Settings

if TYPE_CHECKING:
    from ..chat.engine import ChatEngine
    from ..ports import Editor
    from ..store import BackgroundStore
    from ..tools import ToolRegistry

log = logging.getLogger(__name__)

ClientServer = HttpMcpServer | SseMcpServer | AcpMcpServer | McpServerStdio


@dataclass
class AcpSession:
    session_id: str
    cwd: Path
    engine: ChatEngine
    model: str | None = None  # chosen through the "model" config option; None: the settings decide
    models: list[str] = field(default_factory=list)  # the choices last offered
    task: asyncio.Task[Any] | None = None  # the running turn's engine.chat
    cancel_requested: bool = False


def mcp_settings(servers: list[ClientServer] | None) -> dict[str, McpServerSettings]:
    """The client's MCP servers as Ryan's `mcpServers` entries (one that does not fit is logged, skipped)."""
    out: dict[str, McpServerSettings] = {}
    for server in servers or []:
        entry: dict[str, Any]
        if isinstance(server, McpServerStdio):
            env = {v.name: v.value for v in server.env}
            entry = {"command": server.command, "args": list(server.args), "env": env}
        elif isinstance(server, HttpMcpServer | SseMcpServer):
            headers = {h.name: h.value for h in server.headers}
            entry = {"url": server.url, "headers": headers, "type": server.type}
        else:
            log.warning("MCP server %r: ACP-transport MCP servers are not supported; skipped", server.name)
            continue
        try:
            out[server.name] = McpServerSettings.model_validate(entry)
        except ValueError as error:
            log.warning("MCP server %r from the client skipped: %s", server.name, error)
    return out


class Workspaces:
    """The engines, by workspace folder, made when a session first needs one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engines: dict[Path, ChatEngine] = {}
        self._servers: dict[Path, dict[str, McpServerSettings]] = {}

    def engine(self, cwd: Path) -> ChatEngine:
        engine = self._engines.get(cwd)
        if engine is None:
            from ..chat.engine import ChatEngine

            def tools(settings: Settings, editor: Editor) -> ToolRegistry:
                return _tools(cwd, settings, editor)

            engine = ChatEngine(_open_history(self.settings), workspace=str(cwd), tools_factory=tools)
            engine.use_settings(self.settings)
            self._engines[cwd] = engine
        return engine

    def folders(self) -> list[Path]:
        return list(self._engines)

    def add_servers(self, cwd: Path, servers: dict[str, McpServerSettings]) -> None:
        """Start the client's MCP servers in `cwd`'s engine, beside the settings' (a name in both: the
        client's entry wins)."""
        if not servers:
            return
        known = self._servers.setdefault(cwd, {})
        known.update(servers)
        self.engine(cwd).mcp.configure({**self.settings.mcp_servers, **known})

    async def aclose(self) -> None:
        engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            try:
                await engine.aclose()
            except Exception:
                log.exception("closing an engine failed")


def _open_history(settings: Settings) -> BackgroundStore:
    from ..store import open_history

    store = open_history(settings.history_path)
    if store.opened_warning:
        log.warning("%s", store.opened_warning)
    return store


def _tools(cwd: Path, settings: Settings, editor: Editor) -> ToolRegistry:
    """The tools over the session's folder."""
    from ..tools import ToolRegistry

    return ToolRegistry.for_settings([cwd], settings, editor)
