"""`ryan/models` and `ryan/status`: what the backend has, whether it answers, where history is kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...protocol import MODELS, STATUS
from ..handlers import feature
from ..shapes import models_result, status_result

if TYPE_CHECKING:
    from ..server import RyanServer


def register(server: RyanServer) -> None:
    @feature(server, MODELS)
    async def models(ls: RyanServer, params: Any) -> dict[str, Any]:
        return models_result(await ls.engine.models())

    @feature(server, STATUS)
    async def status(ls: RyanServer, params: Any) -> dict[str, Any]:
        return status_result(await ls.engine.status(), ls.setting_errors)
