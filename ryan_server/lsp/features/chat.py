"""`ryan/chat`: validate, run the engine's chat with the LSP ports, answer with its result."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ...protocol import CHAT
from ..editor import LspEditor, LspSink
from ..handlers import feature, validate
from ..shapes import chat_result

if TYPE_CHECKING:
    from ..server import RyanServer

log = logging.getLogger(__name__)


def register(server: RyanServer) -> None:
    @feature(server, CHAT)
    async def chat(ls: RyanServer, params: Any) -> dict[str, Any]:
        from ..wire import ChatParams

        request = validate(ChatParams, params, CHAT)
        sink = LspSink(ls, request.partial_result_token, request.work_done_token)
        outcome = "failed"
        task = asyncio.current_task()
        assert task is not None
        ls.chats.add(task)
        try:
            result = await ls.engine.chat(request.chat_input(), sink, LspEditor(ls))
            outcome = "done"
            return chat_result(result)
        except asyncio.CancelledError:
            outcome = "stopped"
            log.info("chat cancelled")
            raise
        finally:
            ls.chats.discard(task)
            sink.end(outcome)
            ls.check_store()
