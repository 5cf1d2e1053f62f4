"""`ryan/models` and `ryan/status`: what the backend has and whether it answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..protocol import MODELS, STATUS
from . import rpc_error

if TYPE_CHECKING:
    from ..server import RyanServer


def register(server: RyanServer) -> None:
    @server.feature(MODELS)
    async def models(ls: RyanServer, params: Any) -> dict[str, Any]:
        from ..chat.engine import ChatError

        try:
            return await ls.engine.models()
        except ChatError as error:
            raise rpc_error(error) from None

    @server.feature(STATUS)
    async def status(ls: RyanServer, params: Any) -> dict[str, Any]:
        return await ls.engine.status()
