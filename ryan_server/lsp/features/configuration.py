"""Settings from the editor (`initializationOptions`, `workspace/configuration` and its changes), and
`shutdown`, which stops what the settings started."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..handlers import plain

if TYPE_CHECKING:
    from ..server import RyanServer

log = logging.getLogger(__name__)


def _supports_configuration(ls: RyanServer) -> bool:
    workspace = ls.client_capabilities.workspace
    return bool(workspace and workspace.configuration)


async def _pull(ls: RyanServer) -> None:
    """Ask the editor for section "ryan" where it supports `workspace/configuration`."""
    if not _supports_configuration(ls):
        return
    try:
        result = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="ryan")])
        )
    except Exception as error:  # an editor that claims support but fails must not stop the server
        log.warning("workspace/configuration failed: %s", error)
        return
    if result and isinstance(plain(result[0]), dict) and plain(result[0]):
        await ls.apply_settings(plain(result[0]))


def register(server: RyanServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: RyanServer, params: types.InitializeParams) -> None:
        ls.initialization_options = params.initialization_options

    @server.feature(types.INITIALIZED)
    async def initialized(ls: RyanServer, params: types.InitializedParams) -> None:
        options = ls.initialization_options
        if isinstance(options, dict) and isinstance(options.get("ryan"), dict) and len(options) == 1:
            options = options["ryan"]  # some clients wrap the section in its name
        await ls.apply_settings(plain(options) or {})
        await _pull(ls)
        # Build the engine and its HTTP client now, after the editor has its `initialize` answer and
        # before the first chat, so that chat does not pay for imports, TLS setup and opening history.
        ls.engine.backend()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: RyanServer, params: types.DidChangeConfigurationParams) -> None:
        settings: Any = plain(params.settings)
        if isinstance(settings, dict) and "ryan" in settings:
            await ls.apply_settings(settings["ryan"])
        else:
            await _pull(ls)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: RyanServer, params: Any) -> None:
        # Answered at once: an editor may send `exit` right behind `shutdown`, and an answer still
        # waiting for MCP servers to stop would never go out. What `exit` interrupts, the event loop's
        # cancellation of every task finishes (each server and command stops when its task is cancelled).
        ls.begin_close()
