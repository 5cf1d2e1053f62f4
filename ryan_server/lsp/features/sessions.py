"""`ryan/sessions`, `ryan/session`, `ryan/switchBranch` and `ryan/deleteSession`: the history an editor
can show, and which branch of a session is active."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...protocol import DELETE_SESSION, SESSION, SESSIONS, SWITCH_BRANCH
from ..handlers import feature, validate
from ..shapes import session_result, sessions_result

if TYPE_CHECKING:
    from ..server import RyanServer


def register(server: RyanServer) -> None:
    @feature(server, SESSIONS)
    async def sessions(ls: RyanServer, params: Any) -> dict[str, Any]:
        return sessions_result(await ls.engine.sessions())

    @feature(server, SESSION)
    async def session(ls: RyanServer, params: Any) -> dict[str, Any]:
        from ..wire import SessionIdParams

        request = validate(SessionIdParams, params, SESSION)
        return session_result(await ls.engine.session_view(request.session_id))

    @feature(server, SWITCH_BRANCH)
    async def switch_branch(ls: RyanServer, params: Any) -> dict[str, Any]:
        from ..wire import SwitchBranchParams

        request = validate(SwitchBranchParams, params, SWITCH_BRANCH)
        return session_result(await ls.engine.switch_branch(request.session_id, request.message_id))

    @feature(server, DELETE_SESSION)
    async def delete_session(ls: RyanServer, params: Any) -> None:
        from ..wire import SessionIdParams

        request = validate(SessionIdParams, params, DELETE_SESSION)
        await ls.engine.delete_session(request.session_id)
