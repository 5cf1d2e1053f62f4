"""`ryan/checkpoints`, `ryan/diff`, `ryan/restore` and `ryan/redo`: what a chat changed, and going back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...protocol import CHECKPOINTS, DIFF, REDO, RESTORE
from ..editor import LspEditor
from ..handlers import feature, validate
from ..shapes import camel

if TYPE_CHECKING:
    from ..server import RyanServer


def register(server: RyanServer) -> None:
    @feature(server, CHECKPOINTS)
    async def checkpoints(ls: RyanServer, params: Any) -> dict[str, Any]:
        from ..wire import SessionIdParams

        request = validate(SessionIdParams, params, CHECKPOINTS)
        await ls.engine.session_view(request.session_id)  # -32005 for an unknown session
        found = await ls.engine.checkpoints.of_session(request.session_id, LspEditor(ls))
        return {"checkpoints": camel(found)}

    @feature(server, DIFF)
    async def diff(ls: RyanServer, params: Any) -> dict[str, Any]:
        from ..wire import CheckpointParams

        request = validate(CheckpointParams, params, DIFF)
        files = await ls.engine.checkpoints.diff(request.checkpoint_id, request.path, LspEditor(ls))
        return {"checkpointId": request.checkpoint_id, "files": [_diff(f) for f in camel(files)]}

    @feature(server, RESTORE)
    async def restore(ls: RyanServer, params: Any) -> dict[str, Any]:
        from ..wire import RestoreParams

        request = validate(RestoreParams, params, RESTORE)
        result = await ls.engine.checkpoints.restore(request.checkpoint_id, request.overwrite, LspEditor(ls))
        return dict(camel(result))

    @feature(server, REDO)
    async def redo(ls: RyanServer, params: Any) -> dict[str, Any]:
        from ..wire import RedoParams

        request = validate(RedoParams, params, REDO)
        await ls.engine.session_view(request.session_id)  # -32005 for an unknown session
        result = await ls.engine.checkpoints.redo(request.session_id, request.overwrite, LspEditor(ls))
        return dict(camel(result))


def _diff(file: dict[str, Any]) -> dict[str, Any]:
    """A file of ryan/diff: `before` and `current` are sent as null too (null: no file)."""
    return {"before": None, "current": None, **file}
