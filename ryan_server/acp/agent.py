"""The ACP agent: `initialize`, `session/new`, `session/load`, `session/list`, `session/prompt`,
`session/cancel` and the per-session "model" config option, each a few lines over the engine.

A turn runs `engine.chat` in a task of its own, so `session/cancel` stops it (within the engine's
cancellation, well under 200 ms) and the prompt still answers, with `cancelled`, after its last update.
Ryan's errors become JSON-RPC errors here, in one place (`rpc_error`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION
from acp.exceptions import RequestError
from acp.interfaces import Client
from acp.schema import (
    AgentCapabilities,
    ClientCapabilities,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    SessionCapabilities,
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SessionInfo,
    SessionListCapabilities,
    SetSessionConfigOptionResponse,
)

from .. import __version__
from ..errors import InvalidParams, RyanError
from ..protocol import ErrorCode, StopReason
from ..settings import Settings
from . import shapes
from .editor import AcpEditor, AcpSink, Turn
from .outbox import Outbox
from .prompt import chat_input
from .session import AcpSession, ClientServer, Workspaces, mcp_settings

log = logging.getLogger(__name__)

MODELS_TIMEOUT = 3.0  # seconds to wait for the backend's model list when a session opens
STOP_REASONS = {StopReason.MAX_STEPS: "max_turn_requests", StopReason.LENGTH: "max_tokens"}


def rpc_error(error: RyanError) -> RequestError:
    """A Ryan error as JSON-RPC: the same human message as over LSP; `data.code` is Ryan's code (its
    own codes would clash with ACP's, -32002 "resource not found"), the rest of `data` as over LSP."""
    code = ErrorCode.INVALID_PARAMS if isinstance(error, InvalidParams) else -32603
    return RequestError(code, error.message, {"code": error.code, **error.data})


class RyanAgent:
    def __init__(self, settings: Settings, problems: list[str] | None = None) -> None:
        self.settings = settings
        self._problems = list(problems or [])  # settings file trouble: told in the first answer
        self._conn: Client | None = None
        self._caps = ClientCapabilities()
        self._sessions: dict[str, AcpSession] = {}
        self.workspaces = Workspaces(settings)

    def on_connect(self, conn: Client) -> None:
        self._conn = conn

    async def initialize(
        self, protocol_version: int, client_capabilities: ClientCapabilities | None = None, **kwargs: Any
    ) -> InitializeResponse:
        self._caps = client_capabilities or ClientCapabilities()
        return InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(embedded_context=True),
                mcp_capabilities=McpCapabilities(http=True, sse=True),
                session_capabilities=SessionCapabilities(list=SessionListCapabilities()),
            ),
            agent_info=Implementation(name="ryan", title="Ryan", version=__version__),
            auth_methods=[],
        )

    async def new_session(
        self, cwd: str, mcp_servers: list[ClientServer] | None = None, **kwargs: Any
    ) -> NewSessionResponse:
        folder = self._folder(cwd, mcp_servers)
        engine = self.workspaces.engine(folder)
        record = await engine.store.create_session(
            workspace=str(folder), title="", model=self.settings.model or ""
        )
        session = self._sessions[record.session_id] = AcpSession(record.session_id, folder, engine)
        return NewSessionResponse(session_id=record.session_id, config_options=await self._options(session))

    async def load_session(
        self, cwd: str, session_id: str, mcp_servers: list[ClientServer] | None = None, **kwargs: Any
    ) -> LoadSessionResponse:
        folder = self._folder(cwd, mcp_servers)
        engine = self.workspaces.engine(folder)
        try:
            record, messages = await engine.session(session_id)
        except RyanError as error:
            raise rpc_error(error) from None
        session = self._sessions.get(session_id)
        if session is None or session.cwd != folder:
            session = self._sessions[session_id] = AcpSession(session_id, folder, engine)
        outbox = Outbox(self._client, session_id)
        for update in shapes.replay(folder, messages):
            outbox.put(update)
        await outbox.flush()
        await outbox.aclose()
        return LoadSessionResponse(config_options=await self._options(session, record.model or None))

    async def list_sessions(self, cwd: str | None = None, **kwargs: Any) -> ListSessionsResponse:
        """The stored sessions of `cwd` (else of the folders opened so far), most recent first."""
        folders = [Path(cwd)] if cwd else self.workspaces.folders()
        sessions: list[SessionInfo] = []
        for folder in folders:
            for record in await self.workspaces.engine(folder).sessions():
                title = record.title or None
                sessions.append(
                    SessionInfo(
                        session_id=record.session_id,
                        cwd=str(folder),
                        title=title,
                        updated_at=record.updated_at,
                    )
                )
        sessions.sort(key=lambda info: info.updated_at or "", reverse=True)
        return ListSessionsResponse(sessions=sessions)

    async def set_config_option(
        self, config_id: str, session_id: str, value: str | bool, **kwargs: Any
    ) -> SetSessionConfigOptionResponse:
        session = self._session(session_id)
        if config_id != "model" or not isinstance(value, str) or not value:
            raise RequestError.invalid_params({"configId": config_id, "reason": "Ryan offers only 'model'"})
        session.model = value
        return SetSessionConfigOptionResponse(config_options=self._model_option(session, value))

    async def prompt(self, prompt: list[Any], session_id: str, **kwargs: Any) -> PromptResponse:
        session = self._session(session_id)
        outbox = Outbox(self._client, session_id)
        fs = self._caps.fs
        turn = Turn(
            self._client,
            session_id,
            session.cwd,
            outbox,
            can_read=bool(fs and fs.read_text_file),
            can_write=bool(fs and fs.write_text_file),
        )
        editor = AcpEditor(turn)
        if self._problems:
            problems, self._problems = self._problems, []
            told = "; ".join(problems)
            outbox.put(shapes.message_chunk(f"> Ryan: settings ignored: {told}\n\n"))
        try:
            limit = self.settings.tools.max_read_bytes
            request = await chat_input(prompt, session_id, session.model, editor, limit)
            session.cancel_requested = False
            session.task = asyncio.get_running_loop().create_task(
                session.engine.chat(request, AcpSink(turn), editor), name=f"ryan-acp-turn-{session_id}"
            )
            result = await session.task
            return PromptResponse(stop_reason=STOP_REASONS.get(result.stop_reason, "end_turn"))
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not session.cancel_requested or (current is not None and current.cancelling()):
                raise
            log.info("turn cancelled in session %s", session_id)
            return PromptResponse(stop_reason="cancelled")
        except RyanError as error:
            log.info("session/prompt failed (%s): %s", error.code, error.message)
            raise rpc_error(error) from None
        finally:
            session.task = None
            await outbox.flush()
            await outbox.aclose()

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self._sessions.get(session_id)
        if session is not None and session.task is not None and not session.task.done():
            session.cancel_requested = True
            session.task.cancel()

    async def aclose(self) -> None:
        for session in self._sessions.values():
            if session.task is not None:
                session.task.cancel()
        await self.workspaces.aclose()

    # -- helpers -----------------------------------------------------------------------------------

    @property
    def _client(self) -> Client:
        if self._conn is None:
            raise RequestError.internal_error({"details": "not connected"})
        return self._conn

    def _folder(self, cwd: str, servers: list[ClientServer] | None) -> Path:
        folder = Path(cwd)
        if not folder.is_absolute():
            raise RequestError.invalid_params({"cwd": cwd, "reason": "must be an absolute path"})
        self.workspaces.add_servers(folder, mcp_settings(servers))
        return folder

    def _session(self, session_id: str) -> AcpSession:
        session = self._sessions.get(session_id)
        if session is None:
            message = f"There is no session '{session_id}' in this connection: open it with session/load."
            raise RequestError(-32603, message, {"code": ErrorCode.SESSION_NOT_FOUND})
        return session

    async def _options(self, session: AcpSession, stored: str | None = None) -> list[Any] | None:
        """The "model" option: the backend's chat models, the session's (or the settings') current."""
        try:
            models = await asyncio.wait_for(session.engine.models(), MODELS_TIMEOUT)
        except Exception as error:  # TimeoutError too
            log.info("no model choice offered: %s", getattr(error, "message", None) or error)
            return None
        session.models = [m.name for m in models.models if "embed" not in m.name.lower()]
        current = session.model or self.settings.model or stored or models.current
        return self._model_option(session, current) if current else None

    def _model_option(self, session: AcpSession, current: str) -> list[Any]:
        names = session.models if current in session.models else [current, *session.models]
        return [
            SessionConfigOptionSelect(
                type="select",
                id="model",
                name="Model",
                category="model",
                current_value=current,
                options=[SessionConfigSelectOption(value=name, name=name) for name in names],
            )
        ]
