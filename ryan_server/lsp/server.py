"""The pygls server that carries Ryan's protocol: capabilities, settings, the engine, fast progress.

Start-up imports only pygls and this package's light modules; the engine (httpx, pydantic, the
store) is built when the first request needs it, so an editor gets its `initialize` answer as fast
as from a bare pygls server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from .. import __version__, logs
from ..protocol import PROTOCOL_VERSION, PROVIDERS, SERVER_NAME, TOOL_NAMES
from ..pygls_internals import LateAnswers, send_raw

if TYPE_CHECKING:
    from ..chat.engine import ChatEngine
    from ..ports import Editor
    from ..settings import Settings
    from ..store import BackgroundStore
    from ..tools import ToolRegistry

log = logging.getLogger(__name__)

_MESSAGE_TYPES = {
    logging.DEBUG: types.MessageType.Log,
    logging.INFO: types.MessageType.Info,
    logging.WARNING: types.MessageType.Warning,
    logging.ERROR: types.MessageType.Error,
}


class _InvalidRequest:
    """A message that is JSON but not JSON-RPC: answered with -32600 instead of being dispatched."""

    def __init__(self, msg_id: Any, reason: str) -> None:
        self.id = msg_id
        self.reason = reason


class RyanProtocol(LateAnswers, LanguageServerProtocol):
    """pygls's protocol plus `capabilities.experimental.ryan` (which pygls's capability builder
    leaves out) and standard JSON-RPC errors for messages pygls would only log; an answer to a
    request the server stopped waiting for (an approval asked by a cancelled chat) is dropped."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" in data and "id" in data and not {"method", "result", "error"} & data.keys():
            return _InvalidRequest(data["id"], "a request needs a method")
        return super().structure_message(data)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _InvalidRequest) or not hasattr(message, "jsonrpc"):
            msg_id = message.id if isinstance(message, _InvalidRequest) else None
            reason = message.reason if isinstance(message, _InvalidRequest) else "not a JSON-RPC object"
            log.warning("invalid JSON-RPC message: %s", reason)
            self.send_error(msg_id, -32600, f"Invalid request: {reason}.")
            return
        super().handle_message(message)

    def send_error(self, msg_id: Any, code: int, message: str) -> None:
        send_raw(self, {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        result = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {
            "ryan": {
                "protocolVersion": PROTOCOL_VERSION,
                "tools": list(TOOL_NAMES),
                "providers": list(PROVIDERS),
            }
        }
        return result


class RyanServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(SERVER_NAME, __version__, protocol_cls=RyanProtocol)
        self.verbose = False
        self.initialization_options: Any = None
        self._settings: Settings | None = None
        self._engine: ChatEngine | None = None
        self.setting_errors: list[str] = []  # the last settings' rejected keys, for ryan/status
        self._closing: asyncio.Task[None] | None = None  # the engine stopping after `shutdown`
        self.chats: set[asyncio.Task[Any]] = set()  # the running ryan/chat requests

    # -- settings --------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from ..settings import Settings

            self._settings = Settings()
        return self._settings

    async def apply_settings(self, raw: Any) -> None:
        """Merge settings from the editor; report each bad key, keep its last valid value."""
        from ..settings import merge

        previous = self.settings
        merged, errors = merge(previous, raw)
        self._settings = merged
        logs.register_secret(merged.api_key_value)
        for server in merged.mcp_servers.values():  # tokens in a server's env or headers
            for value in (*server.env.values(), *server.headers.values()):
                if len(value.get_secret_value()) >= 8:
                    logs.register_secret(value.get_secret_value())
        if not self.verbose:
            logs.set_level(merged.log_level)
        # The same settings often come twice (initializationOptions, then workspace/configuration):
        # a bad key is told once, until it is fixed or changes.
        for error in errors:
            if error not in self.setting_errors:
                log.warning("invalid setting %s", error)
                self.window_show_message(
                    types.ShowMessageParams(
                        type=types.MessageType.Error,
                        message=f"Ryan: invalid setting {error}. Keeping its previous value.",
                    )
                )
        self.setting_errors = errors if raw else self.setting_errors
        if self._engine is not None:
            self._engine.use_settings(merged)
            if merged.history_path != previous.history_path:
                import anyio

                log.info("history path changed: reopening history")
                store = await anyio.to_thread.run_sync(self._open_history, merged)
                await self._engine.reopen_history(store)

    # -- the engine ------------------------------------------------------------------------------

    @property
    def engine(self) -> ChatEngine:
        if self._engine is None:
            from ..chat.engine import ChatEngine

            engine = ChatEngine(
                self._open_history(self.settings),
                workspace=self.workspace_key(),
                tools_factory=self._tools,
                report=self.warn,
            )
            engine.use_settings(self.settings)
            self._engine = engine
        return self._engine

    def _open_history(self, settings: Settings) -> BackgroundStore:
        from ..store import open_history

        store = open_history(settings.history_path)
        if store.opened_warning:
            self.warn(store.opened_warning)
        return store

    def _tools(self, settings: Settings, editor: Editor) -> ToolRegistry:
        from ..tools import ToolRegistry

        return ToolRegistry.for_settings(self.workspace_roots(), settings, editor)

    def begin_close(self) -> None:
        """Stop the running chats (what they received stays, marked interrupted), then what the engine
        started (MCP servers, the built-in model), and close history."""
        if self._engine is not None:
            engine, self._engine = self._engine, None
            chats = list(self.chats)
            for chat in chats:
                chat.cancel()

            async def close() -> None:
                await asyncio.gather(*chats, return_exceptions=True)
                await engine.aclose()

            self._closing = asyncio.get_running_loop().create_task(close())

    def workspace_roots(self) -> list[Path]:
        try:
            workspace = self.workspace
        except RuntimeError:
            return []
        roots = [Path(p) for f in workspace.folders.values() if (p := to_fs_path(f.uri))]
        if not roots and workspace.root_path:
            roots = [Path(workspace.root_path)]
        return roots

    def workspace_key(self) -> str:
        """Sessions belong to the workspace they were made in: its first root, as a path."""
        roots = self.workspace_roots()
        return str(roots[0]) if roots else ""

    def check_store(self) -> None:
        """Tell the user, once, when history could not be written and lives in memory now."""
        warning = self.engine.store.take_warning()
        if warning:
            self.warn(warning)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A body that is not JSON gets JSON-RPC's parse error; other failures as pygls reports them."""
        if isinstance(error, ValueError) and not isinstance(error, JsonRpcException):
            log.warning("could not parse a message: %s", error)
            assert isinstance(self.protocol, RyanProtocol)
            self.protocol.send_error(None, -32700, f"Parse error: the message is not valid JSON ({error}).")
            return
        super().report_server_error(error, source)

    # -- output ----------------------------------------------------------------------------------

    def warn(self, message: str) -> None:
        log.warning("%s", message)
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=f"Ryan: {message}")
        )

    def send_progress(self, token: Any, value: dict[str, Any]) -> None:
        """`$/progress` with a plain dict, skipping pygls's attrs round trip (this is the hot path)."""
        send_raw(
            self.protocol,
            {"jsonrpc": "2.0", "method": "$/progress", "params": {"token": token, "value": value}},
        )

    def log_to_editor(self, level: int, message: str) -> None:
        if self.protocol.writer is None:
            return
        self.window_log_message(
            types.LogMessageParams(type=_MESSAGE_TYPES.get(level, types.MessageType.Error), message=message)
        )


def create_server(*, verbose: bool = False) -> RyanServer:
    from .features import chat, checkpoints, configuration, models, sessions

    server = RyanServer()
    server.verbose = verbose
    handler = logs.EditorLogHandler(server.log_to_editor)
    logging.getLogger(logs.LOGGER).addHandler(handler)
    for feature in (configuration, chat, models, sessions, checkpoints):
        feature.register(server)
    return server
