"""The agent loop: a chat request becomes model turns, tool calls, approvals and tool results.

`ChatEngine` owns the settings, the backend, the history and which sessions are busy, and answers
every request a front end forwards. A chat runs model turns (`turn.py`) and their tool calls
(`tool_calls.py`) over a context built and trimmed by `context.py`, until the model answers without
a tool call or `tools.maxSteps` turns were used. It knows no protocol: it takes and returns the typed
values of `types.py`, reports through the ports, and raises the errors of `errors.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..backends import Backend, ChatRequest, create_backend
from ..backends.builtin import builtin_available
from ..errors import (
    BackendFailure,
    BackendUnreachable,
    ModelNotFound,
    SessionBusy,
    SessionNotFound,
    ToolsUnsupported,
)
from ..ports import Editor, EventSink
from ..protocol import Notice, Start, StopReason
from ..settings import Settings
from ..store import BackgroundStore, MessageRecord, SessionRecord
from ..tools import ToolRegistry
from ..tools.mcp import McpHub
from . import branches
from .checkpoints import ChatJournal, Checkpoints
from .context import DEFAULT_SYSTEM_PROMPT, neutral, title_of
from .conversation import Conversation
from .mcp_tools import offer_mcp
from .notices import max_steps_notice, stand_in_notice
from .tool_calls import ToolRunner
from .tool_modes import OFF, PROMPT, ToolModes
from .turn import ChatRun, stream_turn
from .types import ChatInput, ChatResult, HistoryInfo, ModelEntry, ModelList, SessionView, Status
from .window import ContextWindows

ToolsFactory = Callable[[Settings, Editor], ToolRegistry]
BackendFactory = Callable[[Settings], Backend]
CHECKPOINT_SECONDS = 1.0
MALFORMED_ATTEMPTS = 2  # turns in a row whose tool calls could not be read or run: then stop


class ChatEngine:
    def __init__(
        self,
        store: BackgroundStore,
        *,
        workspace: str = "",
        tools_factory: ToolsFactory | None = None,
        backend_factory: BackendFactory | None = None,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
        report: Callable[[str], None] | None = None,
    ) -> None:
        """`backend_factory` makes the backend for the settings (default: `create_backend` from them);
        `report` tells the user about trouble outside any chat (an MCP server that failed)."""
        self.store = store
        self.workspace = workspace
        self.settings = Settings()
        self.mcp = McpHub(report or _log_report, cwd=workspace or None)
        self.checkpoint_seconds = checkpoint_seconds
        self._tools_factory = tools_factory
        self._backend_factory = backend_factory or _backend_for
        self._backend: Backend | None = None
        self._backend_key: tuple[Any, ...] | None = None
        self._stand_in: Backend | None = None  # the built-in model, answering for an absent Ollama
        self._busy: set[str] = set()
        self._allowed: dict[str, set[str]] = {}  # session id -> tools allowed for the session
        self._tool_modes = ToolModes()
        self._told_mode: set[str] = set()  # sessions told that their tools are in the prompt
        self._windows = ContextWindows()
        self._retired: list[BackgroundStore] = []  # history stores replaced while a chat used them
        self._told_left_out: dict[str, tuple[str, ...]] = {}  # sessions told which tools maxTools left out
        self.checkpoints = Checkpoints(lambda: self.store, self._tools_for, self._busy)

    def _tools_for(self, editor: Editor) -> ToolRegistry | None:
        return self._tools_factory(self.settings, editor) if self._tools_factory is not None else None

    def use_settings(self, settings: Settings) -> None:
        """Take new settings: the backend follows on the next request, MCP servers start or stop now."""
        self.settings = settings
        self.mcp.configure(settings.mcp_servers)

    # -- backend ---------------------------------------------------------------------------------

    def backend(self) -> Backend:
        """The backend for the current settings, made anew when provider, address, key or timeout change."""
        s = self.settings
        key = (
            s.provider,
            s.effective_base_url,
            s.api_key_value,
            s.request_timeout,
            s.model_path,
            s.context_length,
        )
        if self._backend is None or key != self._backend_key:
            if self._backend is not None:
                old = self._backend
                asyncio.get_running_loop().create_task(old.aclose())
            self._backend = self._backend_factory(s)
            self._backend_key = key
        return self._backend

    async def aclose(self) -> None:
        await self.mcp.aclose()
        for backend in (self._backend, self._stand_in):
            if backend is not None:
                await backend.aclose()
        self._backend = self._stand_in = None
        for store in (*self._retired, self.store):
            await store.aclose()

    async def default_model(self, backend: Backend) -> str:
        models = await backend.list_models()
        chat_models = [m.name for m in models if "embed" not in m.name.lower()]
        if not chat_models:
            hint = (
                "Pull one with 'ollama pull llama3.2'."
                if self.settings.provider == "ollama"
                else "Load a model into the server."
            )
            raise ModelNotFound(f"{backend.label} at {backend.base_url} has no models. {hint}", available=[])
        return chat_models[0]

    # -- requests other than chat ----------------------------------------------------------------

    async def models(self) -> ModelList:
        backend, standing_in = await self.answering_backend()
        models = await backend.list_models()
        names = [m.name for m in models]
        chosen = None if standing_in else self.settings.model
        current = chosen or next((n for n in names if "embed" not in n.lower()), None)
        return ModelList([ModelEntry(m.name, m.details) for m in models], current)

    async def status(self) -> Status:
        backend = self.backend()
        store = self.store
        history = HistoryInfo(
            path=str(store.path) if store.path else None, persistent=store.persistent, warning=store.warning
        )
        status = Status(
            provider=self.settings.provider, base_url=backend.base_url, history=history, mcp=self.mcp.status()
        )
        try:
            status.version = await backend.version() or None
            status.reachable = True
            status.model = self.settings.model or await self.default_model(backend)
        except ModelNotFound as failure:
            status.error = failure.message
        except BackendFailure as failure:
            status.reachable = False
            status.error = failure.message
            if self.settings.backend_unconfigured and builtin_available():
                stand_in, _ = await self.answering_backend()
                status.stand_in = _model_name(stand_in)
        return status

    async def sessions(self) -> list[SessionRecord]:
        return await self.store.list_sessions(self.workspace)

    async def session(self, session_id: str) -> tuple[SessionRecord, list[MessageRecord]]:
        record = await self._existing_session(session_id)
        return record, await self.store.messages(session_id)

    async def session_view(self, session_id: str) -> SessionView:
        """The session's active branch, with each message's versions."""
        return await branches.view(self.store, await self._existing_session(session_id))

    async def switch_branch(self, session_id: str, message_id: int) -> SessionView:
        record = await self._existing_session(session_id)
        if session_id in self._busy:
            raise SessionBusy(f"Session {session_id} has a chat running; wait for it or stop it first.")
        return await branches.switch(self.store, record, message_id)

    async def delete_session(self, session_id: str) -> None:
        await self._existing_session(session_id)
        if session_id in self._busy:
            raise SessionBusy(
                f"Session {session_id} has a chat running; stop it before deleting the session."
            )
        await self.store.delete_session(session_id)
        self._allowed.pop(session_id, None)

    async def _existing_session(self, session_id: str) -> SessionRecord:
        record = await self.store.get_session(session_id)
        if record is None:
            raise SessionNotFound(
                f"There is no session '{session_id}'. It may have been deleted; "
                "start a new chat or pick one from ryan/sessions."
            )
        return record

    # -- chat ------------------------------------------------------------------------------------

    async def answering_backend(self) -> tuple[Backend, bool]:
        """The backend that will answer, and whether the built-in model stands in for an Ollama that
        nobody configured and that does not answer at its default address."""
        backend = self.backend()
        if not self.settings.backend_unconfigured or not builtin_available():
            return backend, False
        try:
            await backend.version()
            return backend, False
        except BackendUnreachable:
            if self._stand_in is None:
                self._stand_in = create_backend(
                    "embedded", "", api_key=None, timeout=self.settings.request_timeout
                )
            return self._stand_in, True

    async def chat(self, request: ChatInput, sink: EventSink, editor: Editor) -> ChatResult:
        settings = self.settings
        backend, standing_in = await self.answering_backend()
        claimed = request.session_id
        if claimed is not None:
            if claimed in self._busy:
                raise SessionBusy(
                    f"Session {claimed} is busy: a chat is already running in it. "
                    "Wait for it to finish or cancel it."
                )
            self._busy.add(claimed)  # before any await, so a second chat in it is refused
        try:
            existing = await self._existing_session(claimed) if claimed is not None else None
            if standing_in:
                model = _model_name(backend)
            else:
                model = request.model or settings.model or (existing.model if existing else None)
            if not model:
                model = _model_name(backend) or await self.default_model(backend)
            session = existing or await self.store.create_session(
                workspace=self.workspace, title=title_of(request.prompt), model=model
            )
            if not session.title:  # made before its first prompt (ACP's session/new)
                session.title = title_of(request.prompt)
                self.store.set_title(session.session_id, session.title)
            self._busy.add(session.session_id)
            run = ChatRun(session.session_id, model, sink, self.store, self.checkpoint_seconds)
            try:
                return await self._chat(run, request, session, settings, backend, editor, standing_in)
            finally:
                run.waiting.stop()
                self._busy.discard(session.session_id)
        finally:
            if claimed is not None:
                self._busy.discard(claimed)
            if self._retired:
                await self._close_retired()

    async def _chat(
        self,
        run: ChatRun,
        request: ChatInput,
        session: SessionRecord,
        settings: Settings,
        backend: Backend,
        editor: Editor,
        standing_in: bool,
    ) -> ChatResult:
        sink, model = run.sink, run.model
        sink.event(Start(session.session_id, model))
        run.waiting.start()
        if standing_in:
            sink.event(Notice(stand_in_notice(settings, model)))
        if not backend.ready:
            sink.status("loading the model…")
            await backend.prepare()
        history, user = await branches.start_turn(self.store, session.session_id, request, self.workspace)
        prompt = user.content
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": settings.system_prompt or DEFAULT_SYSTEM_PROMPT},
            *neutral(history),
            {"role": "user", "content": prompt},
        ]
        registry = None  # the stand-in is too small to use tools: they would only slow it down
        if settings.tools.enabled and self._tools_factory is not None and not standing_in:
            registry = self._tools_factory(settings, editor)
            registry.context.journal = journal = ChatJournal(self.store, session.session_id, user)
            if self.mcp.configured:
                await offer_mcp(self.mcp, registry, settings, sink, self._told_left_out, session.session_id)
        plan = await self._tool_modes.plan(settings.tools.mode if registry else OFF, backend, model)
        if plan.mode == PROMPT and session.session_id not in self._told_mode:
            self._told_mode.add(session.session_id)
            sink.event(
                Notice(
                    f"Tools are described in the prompt for {model} ({plan.reason}); Ryan reads "
                    "the calls from its answers."
                )
            )
        conversation = Conversation(
            session.session_id,
            model,
            backend,
            settings,
            messages,
            plan,
            registry.schemas() if registry is not None else [],
            self._windows,
            await self._windows.window(backend, model, settings),
            self._tool_modes,
        )
        allowed = self._allowed.setdefault(session.session_id, set())

        def refuse_tools(turn: ChatRequest, failure: ToolsUnsupported) -> str:
            self._told_mode.add(session.session_id)
            return conversation.refuse_tools(turn, failure)

        steps = failed_in_a_row = 0
        while True:
            steps += 1
            turn, notice = conversation.next_request()
            if notice:
                sink.event(Notice(notice))
            names = registry.names if registry is not None and plan.read_text else None
            outcome = await stream_turn(
                backend, turn, run, settings, text_calls=names, refuse_tools=refuse_tools
            )
            counted = conversation.counted(run.last_prompt_tokens)
            if conversation.window:
                run.usage.context_window = conversation.window
                run.usage.context_used = counted + run.last_completion_tokens
            if not outcome.calls:
                break
            runner = ToolRunner(run, outcome.record, registry, settings, editor, allowed)
            outputs = await runner.run_all(outcome.calls)
            conversation.add_turn(run.turn_text(), outcome.calls, outputs)
            unreadable = registry is None or all(
                c.error or c.name not in registry.names for c in outcome.calls
            )
            failed_in_a_row = failed_in_a_row + 1 if unreadable else 0
            if failed_in_a_row >= MALFORMED_ATTEMPTS:
                sink.event(
                    Notice(
                        f"The model wrote {MALFORMED_ATTEMPTS} tool calls in a row that Ryan could not "
                        "run (see their results); stopping here rather than asking it again."
                    )
                )
                break
            if steps >= settings.tools.max_steps:
                run.stop_reason = StopReason.MAX_STEPS
                sink.event(Notice(max_steps_notice(steps)))
                break
        result = run.result()
        await self.store.flush()
        result.user_message_id = user.id
        if registry is not None:
            result.checkpoint = await journal.checkpoint(registry.workspace)
        return result

    async def reopen_history(self, store: BackgroundStore) -> None:
        """Move to another history database (the `historyPath` setting changed). New chats use it at
        once; a chat still running finishes in the old one, which is closed when no chat runs."""
        self._retired.append(self.store)
        self.store = store
        await self._close_retired()

    async def _close_retired(self) -> None:
        if not self._busy:
            retired, self._retired = self._retired, []
            for old in retired:
                await old.aclose()


def _log_report(message: str) -> None:
    logging.getLogger(__name__).warning("%s", message)


def _model_name(backend: Backend) -> str | None:
    """The model a backend serves by itself (the built-in one), if it is that kind."""
    name = getattr(backend, "model_name", None)
    return name if isinstance(name, str) else None


def _backend_for(s: Settings) -> Backend:
    return create_backend(
        s.provider,
        s.effective_base_url,
        api_key=s.api_key_value,
        timeout=s.request_timeout,
        model_path=s.model_path,
        context_length=s.context_length,
    )
