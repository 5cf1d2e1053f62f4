"""One model turn: stream it (retrying, falling back to one non-streamed answer), relay its text as
coalesced events, accumulate it, checkpoint it in history while it streams, and keep what had arrived
when it is cancelled or fails.

`ChatRun` is the state of one chat request across its turns; `stream_turn` is the hot path. Where the
model may write its tool calls as text, the stream passes through a `TextCallParser` first
(`read_text_calls`): the user never sees a call, and the calls found become ordinary tool calls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from ..backends import Backend, ChatRequest
from ..backends.base import Delta, Done, Text, Thinking, ToolCall, new_call_id
from ..errors import BackendError, BackendFailure, ToolsUnsupported
from ..ports import EventSink
from ..protocol import Content, ErrorCode, Fallback, MessageStatus, Notice, Resumed, Retry, StopReason
from ..protocol import Thinking as ThinkingEvent
from ..settings import Settings
from ..store import BackgroundStore, MessageRecord
from .text_calls import TextCallParser
from .throttle import Coalescer
from .types import ChatResult, Timing, ToolCallSummary, Usage
from .waiting import Waiting

log = logging.getLogger(__name__)


@dataclass
class ChatRun:
    """The state of one chat request across its model turns."""

    session_id: str
    model: str
    sink: EventSink
    store: BackgroundStore
    checkpoint_seconds: float
    content: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    tool_calls: list[ToolCallSummary] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    started: float = field(default_factory=time.perf_counter)
    first_token: float | None = None
    stop_reason: str = StopReason.STOP
    turn_start: int = 0  # index in `content` where the current model turn's text begins
    last_prompt_tokens: int | None = None  # the backend's count for the last turn's prompt
    last_completion_tokens: int = 0
    waiting: Waiting = field(init=False)

    def __post_init__(self) -> None:
        self.waiting = Waiting(self.sink)

    def turn_text(self) -> str:
        return "".join(self.content[self.turn_start :])

    def result(self) -> ChatResult:
        total = time.perf_counter() - self.started
        first = (self.first_token - self.started) if self.first_token else total
        generating = total - first if self.first_token else total
        per_second = round(self.usage.completion_tokens / generating, 2) if generating > 0 else 0.0
        return ChatResult(
            session_id=self.session_id,
            model=self.model,
            stop_reason=self.stop_reason,
            content="".join(self.content),
            thinking="".join(self.thinking),
            tool_calls=self.tool_calls,
            usage=self.usage,
            timing=Timing(
                first_token_ms=round(first * 1000, 1),
                total_ms=round(total * 1000, 1),
                tokens_per_second=per_second,
            ),
        )


@dataclass
class TurnOutcome:
    calls: list[ToolCall]
    record: MessageRecord  # the stored answer of this turn


RefuseTools = Callable[[ChatRequest, ToolsUnsupported], str]


async def stream_turn(
    backend: Backend,
    turn: ChatRequest,
    run: ChatRun,
    settings: Settings,
    *,
    text_calls: Collection[str] | None = None,
    refuse_tools: RefuseTools | None = None,
) -> TurnOutcome:
    """Stream one model turn into the sink and the store; returns the tool calls the model made.

    `text_calls`: the tool names to read from the answer text (None: read none). When the model refuses
    tool definitions, `refuse_tools` rewrites the turn (tools in the prompt, or none) and returns the
    notice for the user; the turn is then asked again. A backend failure leaves with
    `data.partialContent` (and `partialThinking`) added; the text is kept in history marked `error`, or
    `interrupted` on cancellation.
    """
    sink = run.sink
    coalescer = Coalescer(sink.event, settings.streaming.update_interval_ms)
    push = coalescer.push
    record = MessageRecord(role="assistant", content="", status=MessageStatus.STREAMING)
    run.store.append_message(run.session_id, record)
    content, thinking = run.content, run.thinking
    run.turn_start = content_start = len(content)
    thinking_start = len(thinking)
    calls: list[ToolCall] = []
    deltas = 0
    streaming = settings.streaming.enabled
    attempt = resumes = 0
    asked = turn  # the turn as first asked; a resumed attempt adds the answer so far to it
    last_checkpoint = time.monotonic()
    parser: TextCallParser | None = None
    sink.status("generating…")

    def checkpoint(status: str) -> None:
        record.content = "".join(content[content_start:])
        record.thinking = "".join(thinking[thinking_start:]) or None
        record.status = status
        run.store.update_message(record)

    def release_held() -> None:
        """A failed or cancelled turn keeps the text held back as a possible call, as text."""
        held = parser.finish() if parser is not None else ""
        if held:
            content.append(held)
            push(Content, held)

    try:
        while True:
            try:
                run.waiting.start()  # until the first batch (the engine stops it when the chat ends)
                stream = backend.stream(turn) if streaming else _replay(await backend.complete(turn))
                if text_calls is not None:
                    parser = TextCallParser(text_calls)
                    stream = read_text_calls(stream, parser)
                first = True
                async for batch in stream:
                    if first:
                        first = False
                        if run.waiting.stop():
                            sink.status("generating…")
                    # The hot loop: consecutive deltas of one kind in a batch (one network read)
                    # are kept as a run and handed to the coalescer once.
                    run_parts: list[str] = []
                    run_kind: Any = None
                    for delta in batch:
                        cls = delta.__class__
                        if cls is Text or cls is Thinking:
                            kind = Content if cls is Text else ThinkingEvent
                            if kind is not run_kind:
                                if run_parts:
                                    deltas += len(run_parts)
                                    (content if run_kind is Content else thinking).extend(run_parts)
                                    push(run_kind, "".join(run_parts))
                                run_parts, run_kind = [], kind
                            run_parts.append(delta.text)  # type: ignore[union-attr]
                            continue
                        if run_parts:
                            deltas += len(run_parts)
                            (content if run_kind is Content else thinking).extend(run_parts)
                            push(run_kind, "".join(run_parts))
                            run_parts, run_kind = [], None
                        if cls is ToolCall:
                            calls.append(delta)  # type: ignore[arg-type]
                        else:
                            assert isinstance(delta, Done)
                            _account(run, delta, deltas)
                    if run_parts:
                        deltas += len(run_parts)
                        (content if run_kind is Content else thinking).extend(run_parts)
                        push(run_kind, "".join(run_parts))
                    if run.first_token is None and (deltas or calls):
                        run.first_token = time.perf_counter()
                    if time.monotonic() - last_checkpoint > run.checkpoint_seconds:
                        last_checkpoint = time.monotonic()
                        checkpoint(MessageStatus.STREAMING)
                break
            except ToolsUnsupported as failure:
                if not turn.tools or deltas or refuse_tools is None:
                    raise
                message = refuse_tools(turn, failure)
                log.warning("%s", message)
                coalescer.flush()
                sink.event(Notice(message))
            except BackendFailure as failure:
                if deltas or calls:
                    so_far = "".join(content[content_start:])
                    if not (
                        isinstance(failure, BackendError)
                        and failure.resumable
                        and so_far
                        and resumes < settings.streaming.resume_attempts
                    ):
                        raise
                    resumes += 1
                    log.info("the stream broke off (%s); asking the model to continue", failure.message)
                    calls.clear()  # a tool call cut off with the stream is asked for again
                    flag = settings.streaming.continue_final_message
                    if flag is None:
                        flag = await backend.needs_continue_flag()
                    turn = dataclasses.replace(
                        asked,
                        messages=[*asked.messages, {"role": "assistant", "content": so_far}],
                        continue_final_message=flag,
                    )
                    coalescer.flush()
                    sink.event(Resumed(resumes, sum(map(len, content))))
                    sink.status("the connection broke: continuing…")
                    continue
                if failure.retryable and attempt < settings.streaming.retry_attempts:
                    attempt += 1
                    delay_ms = settings.streaming.retry_delay_ms * 2 ** (attempt - 1)
                    log.info("retrying (%d) in %d ms: %s", attempt, delay_ms, failure.message)
                    sink.event(Retry(attempt, delay_ms, failure.message))
                    sink.status(f"retrying in {delay_ms / 1000:g} s…")
                    await asyncio.sleep(delay_ms / 1000)
                    continue
                if streaming and settings.streaming.fallback_on_error and failure.fallback_ok:
                    streaming = False
                    log.info("streaming failed, asking once without streaming: %s", failure.message)
                    sink.event(Fallback(failure.message))
                    sink.status("retrying without streaming…")
                    continue
                raise
    except BackendFailure as failure:
        release_held()
        coalescer.close()
        checkpoint(MessageStatus.ERROR)
        if failure.code == ErrorCode.BACKEND_ERROR:
            _attach_partial(failure, run)
        raise
    except asyncio.CancelledError:
        release_held()
        coalescer.close()
        checkpoint(MessageStatus.INTERRUPTED)
        raise
    except Exception as error:  # a bug must still end as an error the user can read, text kept
        log.exception("unexpected failure while streaming")
        coalescer.close()
        checkpoint(MessageStatus.ERROR)
        unexpected = BackendError(
            f"Unexpected error while streaming the answer ({type(error).__name__}: {error})."
        )
        _attach_partial(unexpected, run)
        raise unexpected from error
    await coalescer.drain()
    record.tool_calls = [
        {"callId": c.call_id, "name": c.name, "arguments": c.arguments, "status": "pending"} for c in calls
    ] or None
    checkpoint(MessageStatus.COMPLETE)
    return TurnOutcome(calls, record)


def _attach_partial(failure: BackendFailure, run: ChatRun) -> None:
    """A failed chat's answer so far goes to the client with the error (`partialContent`)."""
    failure.data["partialContent"] = "".join(run.content)
    if run.thinking:
        failure.data["partialThinking"] = "".join(run.thinking)


def _account(run: ChatRun, done: Done, deltas: int) -> None:
    if done.reason == "length":
        run.stop_reason = StopReason.LENGTH
    run.usage.prompt_tokens += done.prompt_tokens or 0
    run.last_prompt_tokens = done.prompt_tokens
    run.last_completion_tokens = deltas if done.completion_tokens is None else done.completion_tokens
    run.usage.completion_tokens += run.last_completion_tokens
    if done.completion_tokens is None:
        run.usage.estimated = True


async def read_text_calls(
    stream: AsyncIterator[list[Delta]], parser: TextCallParser
) -> AsyncIterator[list[Delta]]:
    """The stream with its answer text passed through `parser`: text that is part of a call never comes
    out, and the calls come out as `ToolCall`s before `Done`, unless the model made native calls."""
    native = False
    feed = parser.feed
    async for batch in stream:
        out: list[Delta] = []
        for delta in batch:
            cls = delta.__class__
            if cls is Text:
                text = delta.text  # type: ignore[union-attr]
                shown = feed(text)
                if shown:
                    out.append(delta if shown is text else Text(shown))  # ordinary text: no new object
                continue
            if cls is ToolCall:
                native = True
            elif cls is Done:
                rest = parser.finish()
                if rest:
                    out.append(Text(rest))
                if native and parser.calls:
                    log.warning("ignored %d tool calls written as text beside native ones", len(parser.calls))
                elif parser.calls:
                    out += [ToolCall(new_call_id(), c.name, c.arguments, c.error) for c in parser.calls]
            out.append(delta)
        if out:
            yield out


async def _replay(deltas: list[Delta]) -> AsyncIterator[list[Delta]]:
    yield deltas
