"""`ryan/sessions`, `ryan/session` and `ryan/deleteSession`: the history an editor can show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..protocol import DELETE_SESSION, SESSION, SESSIONS
from . import rpc_error, validate

if TYPE_CHECKING:
    from ..server import RyanServer


def register(server: RyanServer) -> None:
    @server.feature(SESSIONS)
    def sessions(ls: RyanServer, params: Any) -> dict[str, Any]:
        return ls.engine.sessions()

    @server.feature(SESSION)
    def session(ls: RyanServer, params: Any) -> dict[str, Any]:
        from ..chat.engine import ChatError
        from ..wire import SessionIdParams

        request = validate(SessionIdParams, params, SESSION)
        try:
            return ls.engine.session(request.session_id)
        except ChatError as error:
            raise rpc_error(error) from None

    @server.feature(DELETE_SESSION)
    def delete_session(ls: RyanServer, params: Any) -> None:
        from ..chat.engine import ChatError
        from ..wire import SessionIdParams

        request = validate(SessionIdParams, params, DELETE_SESSION)
        try:
            ls.engine.delete_session(request.session_id)
        except ChatError as error:
            raise rpc_error(error) from None
