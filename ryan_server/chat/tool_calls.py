"""The model's tool calls of one turn: prepare, ask for approval, run, report, record.

Every call gets a `ToolCallStarted` and exactly one `ToolResult` event, even when it is cancelled.
Calls that only read and need no question (auto-approved, or allowed for the session) run side by
side in a task group when the model makes several in a row; their results are reported and recorded
in the model's order. Calls that ask or write run one at a time, in order.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence

import anyio

from ..backends.base import ToolCall
from ..ports import Editor
from ..protocol import MessageStatus, ToolCallStarted, ToolOutput, ToolResult, ToolStatus
from ..settings import Settings
from ..store import MessageRecord
from ..tools import PreparedCall, ToolError, ToolRegistry
from .throttle import Coalescer
from .turn import ChatRun
from .types import ToolCallSummary

log = logging.getLogger(__name__)

APPROVAL_ACTIONS = ("Allow", "Allow for session", "Deny")
DISPLAY_OUTPUT_LIMIT = 4000
DENIED = "The user denied this tool call. Do not retry it."


class ToolRunner:
    """Runs one turn's tool calls for a chat; `allowed` is the session's "Allow for session" set."""

    def __init__(
        self,
        run: ChatRun,
        record: MessageRecord,
        registry: ToolRegistry | None,
        settings: Settings,
        editor: Editor,
        allowed: set[str],
    ) -> None:
        self.run = run
        self.record = record
        self.registry = registry
        self.settings = settings
        self.editor = editor
        self.allowed = allowed

    async def run_all(self, calls: Sequence[ToolCall]) -> list[str]:
        """Run `calls`; returns their outputs for the model, in order."""
        outputs: list[str] = []
        batch: list[tuple[ToolCall, PreparedCall]] = []
        for call in calls:
            prepared, error = await self._prepare(call)
            started = ToolCallStarted(call.call_id, call.name, call.arguments, *self._origin(call))
            if prepared is not None and self._runs_unasked(prepared):
                self.run.sink.event(started)
                batch.append((call, prepared))
                continue
            outputs += await self._run_batch(batch)
            batch = []
            self.run.sink.event(started)
            if prepared is None:
                outputs.append(self._finish(call, ToolStatus.ERROR, f"Error: {error}"))
            else:
                outputs.append(await self._ask_and_run(call, prepared))
        outputs += await self._run_batch(batch)
        self.run.sink.status("generating…")
        return outputs

    async def _prepare(self, call: ToolCall) -> tuple[PreparedCall | None, str]:
        if self.registry is None:
            return None, f"unknown tool '{call.name}': no tools are enabled"
        if call.error is not None:  # a call written as text that could not be read
            example = '<tool_call>{"name": "<tool>", "arguments": {...}}</tool_call>'
            tools = ", ".join(self.registry.names)
            return None, f"{call.error}; write a call as {example} with one of: {tools}"
        try:
            return await self.registry.prepare(call.name, call.arguments), ""
        except ToolError as error:
            return None, str(error)
        except Exception as error:  # a bug in a tool must not end the chat
            log.exception("tool %s could not be prepared", call.name)
            return None, f"{call.name} failed unexpectedly: {error}"

    def _origin(self, call: ToolCall) -> tuple[str | None, str | None]:
        return self.registry.origin(call.name) if self.registry is not None else (None, None)

    def _runs_unasked(self, prepared: PreparedCall) -> bool:
        """Reads that need no question may run beside each other."""
        return not prepared.writes and self._approved_already(prepared)

    def _approved_already(self, prepared: PreparedCall) -> bool:
        return prepared.auto_approved or prepared.approval_key in self.allowed

    async def _run_batch(self, batch: list[tuple[ToolCall, PreparedCall]]) -> list[str]:
        if not batch:
            return []
        if len(batch) == 1:
            call, prepared = batch[0]
            return [await self._execute(call, prepared)]
        results: list[tuple[str, str]] = [(ToolStatus.ERROR, "")] * len(batch)

        async def one(index: int, prepared: PreparedCall) -> None:
            results[index] = await _outcome(prepared)

        try:
            self.run.sink.status(f"running {len(batch)} tools…")
            async with anyio.create_task_group() as group:
                for index, (_call, prepared) in enumerate(batch):
                    group.start_soon(one, index, prepared)
        except asyncio.CancelledError:
            for call, _prepared in batch:
                self._finish(call, ToolStatus.ERROR, "Error: the tool call was cancelled.")
            raise
        return [self._finish(call, *result) for (call, _), result in zip(batch, results, strict=True)]

    async def _ask_and_run(self, call: ToolCall, prepared: PreparedCall) -> str:
        try:
            if not self._approved_already(prepared):
                self.run.sink.status(f"waiting for approval: {call.name}")
                choice = await self.editor.request_approval(prepared.question(), APPROVAL_ACTIONS)
                if choice == "Allow for session":
                    self.allowed.add(prepared.approval_key)
                if choice not in ("Allow", "Allow for session"):
                    return self._finish(call, ToolStatus.DENIED, DENIED)
        except asyncio.CancelledError:
            self._finish(call, ToolStatus.ERROR, "Error: the tool call was cancelled.")
            raise
        return await self._execute(call, prepared)

    async def _execute(self, call: ToolCall, prepared: PreparedCall) -> str:
        self.run.sink.status(f"running {call.name}…")
        live = Coalescer(self.run.sink.event, self.settings.streaming.update_interval_ms)
        output_of_call = functools.partial(ToolOutput, call.call_id)
        prepared.stream_output(lambda text: live.push(output_of_call, text))
        try:
            status, output = await _outcome(prepared)
        except asyncio.CancelledError:
            live.close()
            # the toolResult still goes out (before the -32800 answer): every toolCall gets one
            self._finish(call, ToolStatus.ERROR, "Error: the tool call was cancelled.")
            raise
        await live.drain()
        return self._finish(call, status, output)

    def _finish(self, call: ToolCall, status: str, output: str) -> str:
        """Record the result, send its `ToolResult` event; returns the output for the model."""
        run = self.run
        server, tool = self._origin(call)
        run.tool_calls.append(ToolCallSummary(call.call_id, call.name, call.arguments, status, server, tool))
        for stored in self.record.tool_calls or []:
            if stored["callId"] == call.call_id:
                stored["status"] = status
                if server is not None:
                    stored["server"], stored["tool"] = server, tool
        run.store.update_message(self.record)
        run.store.append_message(
            run.session_id,
            MessageRecord(
                role="tool",
                content=output,
                tool_name=call.name,
                tool_call_id=call.call_id,
                status=MessageStatus.COMPLETE if status == ToolStatus.OK else status,
            ),
        )
        half = DISPLAY_OUTPUT_LIMIT // 2  # the end of a long output matters too (a command's exit code)
        shown = output if len(output) <= DISPLAY_OUTPUT_LIMIT else f"{output[:half]}\n…\n{output[-half:]}"
        run.sink.event(ToolResult(call.call_id, call.name, status, shown, server, tool))
        return output


async def _outcome(prepared: PreparedCall) -> tuple[str, str]:
    """Run an approved call: (status, output for the model). A failing tool never ends the chat."""
    try:
        return ToolStatus.OK, await prepared.run()
    except ToolError as error:
        return ToolStatus.ERROR, f"Error: {error}"
    except Exception as error:  # a bug in a tool must not end the chat
        log.exception("tool %s failed", prepared.name)
        return ToolStatus.ERROR, f"Error: {prepared.name} failed unexpectedly: {error}"
