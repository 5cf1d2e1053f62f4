"""The agent loop: a chat request becomes model turns, tool calls, approvals and tool results.

`ChatEngine` owns the settings, the backend, the session store and which sessions are busy. A chat
streams each model turn through a `Coalescer` to the `EventSink`, keeps the text as a list of parts
(joined once), checkpoints the answer in the store while it streams, and on cancellation or failure
stores what had arrived, marked `interrupted` or `error`. It imports nothing from pygls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..backends import Backend, ChatRequest, create_backend
from ..backends.base import Done, Text, Thinking, ToolCall
from ..backends.errors import BackendFailure, ModelNotFound, ToolsUnsupported
from ..protocol import ErrorCode, EventKind, MessageStatus, StopReason, ToolStatus
from ..settings import Settings
from ..tools import ToolError, ToolRegistry
from ..wire import ChatParams
from .ports import Editor, EventSink
from .store import MessageRecord, SessionRecord, Store
from .throttle import Coalescer

log = logging.getLogger(__name__)
CONTENT, THINKING = EventKind.CONTENT, EventKind.THINKING

DEFAULT_SYSTEM_PROMPT = (
    "You are Ryan, a coding assistant inside the user's editor. Answer concisely in Markdown. "
    "When the question is about the user's project, look before you answer: list, search and read "
    "files with the tools (paths are relative to the workspace root). Change files only when the "
    "user asks for it, with edit_file for small changes and write_file for new files; the user "
    "approves each change."
)
APPROVAL_ACTIONS = ("Allow", "Allow for session", "Deny")
CHECKPOINT_SECONDS = 1.0
DISPLAY_OUTPUT_LIMIT = 4000


class ChatError(Exception):
    """A failure to report as a JSON-RPC error: `code` from protocol.ErrorCode, `data` for the client."""

    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


ToolsFactory = Callable[[Settings, Editor], ToolRegistry]


@dataclass
class _Request:
    """The state of one `ryan/chat` request across its turns."""

    session: SessionRecord
    model: str
    sink: EventSink
    content: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False
    started: float = field(default_factory=time.perf_counter)
    first_token: float | None = None
    stop_reason: str = StopReason.STOP
    turn_start: int = 0  # index in `content` where the current model turn's text begins


class ChatEngine:
    def __init__(self, store: Store, *, workspace: str = "", tools_factory: ToolsFactory | None = None):
        self.store = store
        self.workspace = workspace
        self.settings = Settings()
        self._tools_factory = tools_factory
        self._backend: Backend | None = None
        self._backend_key: tuple[Any, ...] | None = None
        self._busy: set[str] = set()
        self._allowed: dict[str, set[str]] = {}  # session id -> tools allowed for the session
        self._no_tools: set[tuple[str, str]] = set()  # (base url, model) that refused tool definitions
        self._context_lengths: dict[str, int | None] = {}

    # -- backend ---------------------------------------------------------------------------------

    def backend(self) -> Backend:
        """The backend for the current settings, made anew when provider, address, key or timeout change."""
        s = self.settings
        key = (s.provider, s.effective_base_url, s.api_key_value, s.request_timeout)
        if self._backend is None or key != self._backend_key:
            if self._backend is not None:
                old = self._backend
                asyncio.get_running_loop().create_task(old.aclose())
            self._backend = create_backend(
                s.provider, s.effective_base_url, api_key=s.api_key_value, timeout=s.request_timeout
            )
            self._backend_key = key
        return self._backend

    async def aclose(self) -> None:
        if self._backend is not None:
            await self._backend.aclose()
            self._backend = None

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

    async def models(self) -> dict[str, Any]:
        backend = self.backend()
        try:
            models = await backend.list_models()
        except BackendFailure as failure:
            raise ChatError(failure.code, failure.message, failure.data or None) from failure
        names = [m.name for m in models]
        current = self.settings.model or next((n for n in names if "embed" not in n.lower()), None)
        return {"models": [{"name": m.name, "details": m.details} for m in models], "current": current}

    async def status(self) -> dict[str, Any]:
        backend = self.backend()
        result: dict[str, Any] = {"provider": self.settings.provider, "baseUrl": backend.base_url}
        try:
            version = await backend.version()
            result["reachable"] = True
            if version:
                result["version"] = version
            result["model"] = self.settings.model or await self.default_model(backend)
        except ModelNotFound as failure:
            result["error"] = failure.message
        except BackendFailure as failure:
            result["reachable"] = False
            result["error"] = failure.message
        return result

    def sessions(self) -> dict[str, Any]:
        return {
            "sessions": [
                {
                    "sessionId": s.session_id,
                    "title": s.title,
                    "model": s.model,
                    "createdAt": s.created_at,
                    "updatedAt": s.updated_at,
                    "messageCount": s.message_count,
                }
                for s in self.store.list_sessions(self.workspace)
            ]
        }

    def session(self, session_id: str) -> dict[str, Any]:
        record = self._existing_session(session_id)
        messages = []
        for m in self.store.messages(session_id):
            item: dict[str, Any] = {
                "role": m.role,
                "content": m.content,
                "status": m.status,
                "createdAt": m.created_at,
            }
            if m.thinking:
                item["thinking"] = m.thinking
            if m.tool_calls:
                item["toolCalls"] = m.tool_calls
            if m.tool_name:
                item["toolName"] = m.tool_name
            if m.tool_call_id:
                item["toolCallId"] = m.tool_call_id
            messages.append(item)
        return {"sessionId": record.session_id, "title": record.title, "messages": messages}

    def delete_session(self, session_id: str) -> None:
        self._existing_session(session_id)
        if session_id in self._busy:
            raise ChatError(
                ErrorCode.SESSION_BUSY,
                f"Session {session_id} has a chat running; stop it before deleting the session.",
            )
        self.store.delete_session(session_id)
        self._allowed.pop(session_id, None)

    def _existing_session(self, session_id: str) -> SessionRecord:
        record = self.store.get_session(session_id)
        if record is None:
            raise ChatError(
                ErrorCode.SESSION_NOT_FOUND,
                f"There is no session '{session_id}'. It may have been deleted; "
                "start a new chat or pick one from ryan/sessions.",
            )
        return record

    # -- chat ------------------------------------------------------------------------------------

    async def chat(self, params: ChatParams, sink: EventSink, editor: Editor) -> dict[str, Any]:
        settings = self.settings
        backend = self.backend()
        existing = self._existing_session(params.session_id) if params.session_id else None
        if existing is not None and existing.session_id in self._busy:
            raise ChatError(
                ErrorCode.SESSION_BUSY,
                f"Session {existing.session_id} is busy: a chat is already running in it. "
                "Wait for it to finish or cancel it.",
            )
        if existing is not None:
            self._busy.add(existing.session_id)
        try:
            model = params.model or settings.model or (existing.model if existing else None)
            if not model:
                model = await self.default_model(backend)
        except BackendFailure as failure:
            if existing is not None:
                self._busy.discard(existing.session_id)
            raise ChatError(failure.code, failure.message, failure.data or None) from failure
        except BaseException:
            if existing is not None:
                self._busy.discard(existing.session_id)
            raise
        session = existing or self.store.create_session(
            workspace=self.workspace, title=_title(params.prompt), model=model
        )
        self._busy.add(session.session_id)
        try:
            return await self._chat(params, session, model, settings, backend, sink, editor)
        finally:
            self._busy.discard(session.session_id)

    async def _chat(
        self,
        params: ChatParams,
        session: SessionRecord,
        model: str,
        settings: Settings,
        backend: Backend,
        sink: EventSink,
        editor: Editor,
    ) -> dict[str, Any]:
        request = _Request(session=session, model=model, sink=sink)
        sink.event({"kind": EventKind.START, "sessionId": session.session_id, "model": model})
        history = self.store.messages(session.session_id)
        self.store.append_message(session.session_id, MessageRecord(role="user", content=_user_text(params)))
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": settings.system_prompt or DEFAULT_SYSTEM_PROMPT}
        ]
        messages += _neutral(history)
        messages.append({"role": "user", "content": _user_text(params)})
        messages = await self._fit_context(backend, model, messages, sink)

        use_tools = settings.tools.enabled and self._tools_factory is not None
        registry = self._tools_factory(settings, editor) if use_tools and self._tools_factory else None
        if (backend.base_url, model) in self._no_tools:
            use_tools = False

        steps = 0
        while True:
            steps += 1
            turn_request = ChatRequest(
                model=model,
                messages=messages,
                options=settings.options,
                think=settings.think,
                tools=registry.schemas() if use_tools and registry is not None else None,
            )
            calls, record, used_tools = await self._turn(backend, turn_request, request, settings)
            use_tools = use_tools and used_tools
            if not calls:
                break
            assistant_calls = [{"id": c.call_id, "name": c.name, "arguments": c.arguments} for c in calls]
            messages.append(
                {"role": "assistant", "content": _last_turn_text(request), "tool_calls": assistant_calls}
            )
            for call in calls:
                output = await self._run_tool(call, registry, request, record, settings, editor)
                messages.append(
                    {"role": "tool", "content": output, "tool_name": call.name, "tool_call_id": call.call_id}
                )
            if steps >= settings.tools.max_steps:
                request.stop_reason = StopReason.MAX_STEPS
                break

        total = time.perf_counter() - request.started
        first_ms = (request.first_token - request.started) * 1000 if request.first_token else total * 1000
        generating = total - (request.first_token - request.started) if request.first_token else total
        usage: dict[str, Any] = {
            "promptTokens": request.prompt_tokens,
            "completionTokens": request.completion_tokens,
        }
        if request.estimated:
            usage["estimated"] = True
        return {
            "sessionId": session.session_id,
            "model": model,
            "stopReason": request.stop_reason,
            "content": "".join(request.content),
            "thinking": "".join(request.thinking),
            "toolCalls": request.tool_calls,
            "usage": usage,
            "timing": {
                "firstTokenMs": round(first_ms, 1),
                "totalMs": round(total * 1000, 1),
                "tokensPerSecond": round(request.completion_tokens / generating, 2)
                if generating > 0
                else 0.0,
            },
        }

    async def _turn(
        self, backend: Backend, turn: ChatRequest, request: _Request, settings: Settings
    ) -> tuple[list[ToolCall], MessageRecord, bool]:
        """Stream one model turn (retrying, falling back) into the sink and the store.

        Returns the tool calls the model made, the stored answer, and whether tools were still offered.
        """
        sink = request.sink
        coalescer = Coalescer(sink.event, settings.streaming.update_interval_ms)
        push = coalescer.push
        record = MessageRecord(role="assistant", content="", status=MessageStatus.STREAMING)
        self.store.append_message(request.session.session_id, record)
        content, thinking = request.content, request.thinking
        request.turn_start = content_start = len(content)
        thinking_start = len(thinking)
        calls: list[ToolCall] = []
        deltas = 0
        streaming = settings.streaming.enabled
        attempt = 0
        last_checkpoint = time.monotonic()
        sink.status("generating…")

        def checkpoint(status: str) -> None:
            record.content = "".join(content[content_start:])
            record.thinking = "".join(thinking[thinking_start:]) or None
            record.status = status
            self.store.update_message(record)

        try:
            while True:
                try:
                    stream = backend.stream(turn) if streaming else _replay(await backend.complete(turn))
                    async for batch in stream:
                        # The hot loop: consecutive deltas of one kind in a batch (one network read)
                        # are kept as a run and handed to the coalescer once.
                        run: list[str] = []
                        run_kind = None
                        for delta in batch:
                            cls = delta.__class__
                            if cls is Text or cls is Thinking:
                                kind = CONTENT if cls is Text else THINKING
                                if kind is not run_kind:
                                    if run:
                                        deltas += len(run)
                                        (content if run_kind is CONTENT else thinking).extend(run)
                                        push(run_kind, "".join(run))  # type: ignore[arg-type]
                                    run, run_kind = [], kind
                                run.append(delta.text)  # type: ignore[union-attr]
                                continue
                            if run:
                                deltas += len(run)
                                (content if run_kind is CONTENT else thinking).extend(run)
                                push(run_kind, "".join(run))  # type: ignore[arg-type]
                                run, run_kind = [], None
                            if cls is ToolCall:
                                calls.append(delta)  # type: ignore[arg-type]
                            else:
                                assert isinstance(delta, Done)
                                self._account(request, delta, deltas)
                        if run:
                            deltas += len(run)
                            (content if run_kind is CONTENT else thinking).extend(run)
                            push(run_kind, "".join(run))  # type: ignore[arg-type]
                        if request.first_token is None and (deltas or calls):
                            request.first_token = time.perf_counter()
                        if time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                            last_checkpoint = time.monotonic()
                            checkpoint(MessageStatus.STREAMING)
                    break
                except ToolsUnsupported as failure:
                    if not turn.tools or deltas:
                        raise
                    self._no_tools.add((backend.base_url, turn.model))
                    turn.tools = None
                    message = f"{failure.message} Continuing without workspace tools."
                    log.warning("%s", message)
                    coalescer.flush()
                    sink.event({"kind": EventKind.NOTICE, "message": message})
                except BackendFailure as failure:
                    if deltas or calls:
                        raise
                    if failure.retryable and attempt < settings.streaming.retry_attempts:
                        attempt += 1
                        delay_ms = settings.streaming.retry_delay_ms * 2 ** (attempt - 1)
                        log.info("retrying (%d) in %d ms: %s", attempt, delay_ms, failure.message)
                        sink.event(
                            {
                                "kind": EventKind.RETRY,
                                "attempt": attempt,
                                "delayMs": delay_ms,
                                "reason": failure.message,
                            }
                        )
                        sink.status(f"retrying in {delay_ms / 1000:g} s…")
                        await asyncio.sleep(delay_ms / 1000)
                        continue
                    if streaming and settings.streaming.fallback_on_error and failure.fallback_ok:
                        streaming = False
                        log.info("streaming failed, asking once without streaming: %s", failure.message)
                        sink.event({"kind": EventKind.FALLBACK, "reason": failure.message})
                        sink.status("retrying without streaming…")
                        continue
                    raise
        except BackendFailure as failure:
            coalescer.close()
            checkpoint(MessageStatus.ERROR)
            data = dict(failure.data)
            if failure.code == ErrorCode.BACKEND_ERROR:
                data["partialContent"] = "".join(request.content)
                if request.thinking:
                    data["partialThinking"] = "".join(request.thinking)
            raise ChatError(failure.code, failure.message, data) from failure
        except asyncio.CancelledError:
            coalescer.close()
            checkpoint(MessageStatus.INTERRUPTED)
            raise
        except Exception as error:  # a bug must still end as an error the user can read, text kept
            log.exception("unexpected failure while streaming")
            coalescer.close()
            checkpoint(MessageStatus.ERROR)
            raise ChatError(
                ErrorCode.BACKEND_ERROR,
                f"Unexpected error while streaming the answer ({type(error).__name__}: {error}).",
                {"partialContent": "".join(request.content)},
            ) from error
        await coalescer.drain()
        record.tool_calls = [
            {"callId": c.call_id, "name": c.name, "arguments": c.arguments, "status": "pending"}
            for c in calls
        ] or None
        checkpoint(MessageStatus.COMPLETE)
        return calls, record, turn.tools is not None

    def _account(self, request: _Request, done: Done, deltas: int) -> None:
        if done.reason == "length":
            request.stop_reason = StopReason.LENGTH
        request.prompt_tokens += done.prompt_tokens or 0
        if done.completion_tokens is None:
            request.completion_tokens += deltas
            request.estimated = True
        else:
            request.completion_tokens += done.completion_tokens

    async def _run_tool(
        self,
        call: ToolCall,
        registry: ToolRegistry | None,
        request: _Request,
        record: MessageRecord,
        settings: Settings,
        editor: Editor,
    ) -> str:
        """Approve and run one tool call; report it as toolCall/toolResult events. Returns the output."""
        sink = request.sink
        session_id = request.session.session_id
        sink.event(
            {
                "kind": EventKind.TOOL_CALL,
                "callId": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            }
        )
        status, output = ToolStatus.ERROR, ""
        try:
            if registry is None:
                raise ToolError(f"unknown tool '{call.name}': no tools are enabled")
            prepared = registry.prepare(call.name, call.arguments)
            allowed = self._allowed.setdefault(session_id, set())
            approved = call.name in settings.tools.auto_approve or call.name in allowed
            if not approved:
                sink.status(f"waiting for approval: {call.name}")
                message = f"{call.name}: {prepared.approval_message()}"
                choice = await editor.request_approval(message, APPROVAL_ACTIONS)
                if choice == "Allow for session":
                    allowed.add(call.name)
                approved = choice in ("Allow", "Allow for session")
            if not approved:
                status, output = ToolStatus.DENIED, "The user denied this tool call. Do not retry it."
            else:
                sink.status(f"running {call.name}…")
                output = await prepared.run()
                status = ToolStatus.OK
        except ToolError as error:
            output = f"Error: {error}"
        except asyncio.CancelledError:
            # the toolResult still goes out (before the -32800 answer): every toolCall gets one
            self._finish_tool(request, record, call, ToolStatus.ERROR, "Error: the tool call was cancelled.")
            raise
        except Exception as error:  # a bug in a tool must not end the chat
            log.exception("tool %s failed", call.name)
            status, output = ToolStatus.ERROR, f"Error: {call.name} failed unexpectedly: {error}"
        self._finish_tool(request, record, call, status, output)
        sink.status("generating…")
        return output

    def _finish_tool(
        self, request: _Request, record: MessageRecord, call: ToolCall, status: str, output: str
    ) -> None:
        """Store the tool's result and send its `toolResult` event."""
        self._record_tool(request, record, call, status, output)
        shown = output if len(output) <= DISPLAY_OUTPUT_LIMIT else output[:DISPLAY_OUTPUT_LIMIT] + "\n…"
        request.sink.event(
            {
                "kind": EventKind.TOOL_RESULT,
                "callId": call.call_id,
                "name": call.name,
                "status": status,
                "output": shown,
            }
        )

    def _record_tool(
        self, request: _Request, record: MessageRecord, call: ToolCall, status: str, output: str
    ) -> None:
        summary = {"callId": call.call_id, "name": call.name, "arguments": call.arguments, "status": status}
        request.tool_calls.append(summary)
        for stored in record.tool_calls or []:
            if stored["callId"] == call.call_id:
                stored["status"] = status
        self.store.update_message(record)
        self.store.append_message(
            request.session.session_id,
            MessageRecord(
                role="tool",
                content=output,
                tool_name=call.name,
                tool_call_id=call.call_id,
                status=MessageStatus.COMPLETE if status == ToolStatus.OK else status,
            ),
        )

    async def _fit_context(
        self, backend: Backend, model: str, messages: list[dict[str, Any]], sink: EventSink
    ) -> list[dict[str, Any]]:
        """Drop the oldest turns when the history would not fit the model's context window."""
        if len(messages) <= 2:
            return messages
        key = f"{backend.base_url}|{model}"
        if key not in self._context_lengths:
            self._context_lengths[key] = await backend.context_length(model)
        limit = self._context_lengths[key]
        if not limit:
            return messages
        budget = int(limit * 0.75)  # leave room for the answer
        sizes = [_estimate_tokens(m) for m in messages]
        if sum(sizes) <= budget:
            return messages
        system, *rest = messages
        dropped = 0
        while len(rest) > 1 and sizes[0] + sum(_estimate_tokens(m) for m in rest) > budget:
            rest.pop(0)
            dropped += 1
            while len(rest) > 1 and rest[0]["role"] != "user":  # drop whole turns: start at a question
                rest.pop(0)
                dropped += 1
        message = (
            f"Left out the {dropped} oldest messages of this session so the conversation fits "
            f"the model's context window ({limit} tokens)."
        )
        log.info("%s", message)
        sink.event({"kind": EventKind.NOTICE, "message": message})
        return [system, *rest]


async def _replay(deltas: list[Any]) -> Any:
    yield deltas


def _title(prompt: str) -> str:
    line = " ".join(prompt.strip().split())
    return line if len(line) <= 60 else line[:57].rstrip() + "…"


def _user_text(params: ChatParams) -> str:
    """The prompt with its context attached as fenced blocks naming the file and lines."""
    if not params.context:
        return params.prompt
    blocks = []
    for item in params.context:
        where = item.uri or "selection"
        if item.range is not None:
            where += f" (lines {item.range.start.line + 1}-{item.range.end.line + 1})"
        fence = "````" if "```" in item.text else "```"
        blocks.append(f"{where}:\n{fence}\n{item.text}\n{fence}")
    return params.prompt + "\n\n" + "\n\n".join(blocks)


def _last_turn_text(request: _Request) -> str:
    return "".join(request.content[request.turn_start :])


def _neutral(history: list[MessageRecord]) -> list[dict[str, Any]]:
    """Stored messages as backend-neutral chat messages, every tool call answered by a tool result."""
    out: list[dict[str, Any]] = []
    answered = {m.tool_call_id for m in history if m.role == "tool"}
    for m in history:
        if m.role == "assistant":
            calls = [
                {"id": c["callId"], "name": c["name"], "arguments": c["arguments"]}
                for c in m.tool_calls or []
            ]
            if not m.content and not calls:
                continue
            message: dict[str, Any] = {"role": "assistant", "content": m.content}
            if calls:
                message["tool_calls"] = calls
            out.append(message)
            for c in calls:
                if c["id"] not in answered:
                    out.append(
                        {
                            "role": "tool",
                            "content": "Error: the tool call was interrupted.",
                            "tool_name": c["name"],
                            "tool_call_id": c["id"],
                        }
                    )
        elif m.role == "tool":
            out.append(
                {
                    "role": "tool",
                    "content": m.content,
                    "tool_name": m.tool_name,
                    "tool_call_id": m.tool_call_id,
                }
            )
        elif m.role == "user":
            out.append({"role": "user", "content": m.content})
    return out


def _estimate_tokens(message: dict[str, Any]) -> int:
    size = len(message.get("content") or "")
    if message.get("tool_calls"):
        size += len(json.dumps(message["tool_calls"]))
    return size // 4 + 4
