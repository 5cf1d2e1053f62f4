"""The engine's ports over ACP, for one prompt turn.

`AcpSink` writes the engine's events as `session/update`s: text as message and thought chunks, each
tool call as a `tool_call` (pending) then `tool_call_update`s (in_progress, then completed or failed
with its output, and a `diff` for a write). `AcpEditor` asks `session/request_permission` about the
tool call announced just before (the engine asks right after its `ToolCallStarted`), writes through
`fs/write_text_file` and reads through `fs/read_text_file` when the client offers them, and remembers
every write's old and new text so the call's result can show the diff even when the write went to disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp.exceptions import RequestError
from acp.interfaces import Client
from acp.schema import (
    AllowedOutcome,
    FileEditToolCallContent,
    PermissionOption,
    ToolCallProgress,
    ToolCallUpdate,
)

from ..ports import EditRejected
from ..protocol import Content, Event, Notice, Thinking, ToolCallStarted, ToolOutput, ToolResult
from . import shapes
from .outbox import Outbox

log = logging.getLogger(__name__)

ALLOW, ALLOW_SESSION, DENY = "Allow", "Allow for session", "Deny"  # the engine's approval actions
OPTIONS = (
    PermissionOption(option_id="allow_once", name="Allow", kind="allow_once"),
    PermissionOption(option_id="allow_always", name="Allow for this session", kind="allow_always"),
    PermissionOption(option_id="reject_once", name="Deny", kind="reject_once"),
)
CHOICES = {"allow_once": ALLOW, "allow_always": ALLOW_SESSION, "reject_once": DENY}
OUTPUT_TAIL = 4000  # characters of a running command's output shown live
OUTPUT_INTERVAL = 0.1  # seconds between live output updates of one call


@dataclass
class Turn:
    """What the sink and the editor of one turn share: the client, the session, the calls so far."""

    conn: Client
    session_id: str
    cwd: Path
    outbox: Outbox
    can_read: bool = False
    can_write: bool = False
    current: str | None = None  # the tool call announced last: the one a permission request is about
    asking: set[str] = field(default_factory=set)
    diffs: dict[str, list[FileEditToolCallContent]] = field(default_factory=dict)
    output: dict[str, list[str]] = field(default_factory=dict)
    output_sent: dict[str, float] = field(default_factory=dict)
    wrote_text: bool = False

    def progress(self, call_id: str, status: str | None = None, content: list[Any] | None = None) -> None:
        self.outbox.put(
            ToolCallProgress(
                session_update="tool_call_update",
                tool_call_id=call_id,
                status=status,  # a ToolCallStatus, by the callers
                content=content,
            )
        )


class AcpSink:
    def __init__(self, turn: Turn) -> None:
        self._turn = turn
        self._loop = asyncio.get_running_loop()

    def event(self, event: Event) -> None:
        turn = self._turn
        kind = event.__class__
        if kind is Content:
            assert isinstance(event, Content)
            turn.wrote_text = True
            turn.outbox.put(shapes.message_chunk(event.text))
        elif kind is Thinking:
            assert isinstance(event, Thinking)
            turn.outbox.put(shapes.thought_chunk(event.text))
        elif isinstance(event, ToolCallStarted):
            self._started(event)
        elif isinstance(event, ToolOutput):
            self._output(event)
        elif isinstance(event, ToolResult):
            self._finished(event)
        elif isinstance(event, Notice):
            lead = "\n\n" if turn.wrote_text else ""
            turn.outbox.put(shapes.message_chunk(f"{lead}> {event.message}\n\n"))
        else:
            log.debug("not sent over ACP: %s", event)

    def status(self, message: str) -> None:
        """ACP has no status line; the tool calls' statuses say what runs."""

    def _started(self, event: ToolCallStarted) -> None:
        turn = self._turn
        turn.current = event.call_id
        turn.outbox.put(
            shapes.tool_call(
                turn.cwd, event.call_id, event.name, event.arguments, server=event.server, tool=event.tool
            )
        )
        # A call that asks first enters `request_approval` before this callback runs (nothing awaits
        # in between), so only the calls that run unasked are marked running here.
        self._loop.call_soon(self._running, event.call_id)

    def _running(self, call_id: str) -> None:
        if call_id not in self._turn.asking:
            self._turn.progress(call_id, "in_progress")

    def _output(self, event: ToolOutput) -> None:
        turn = self._turn
        parts = turn.output.setdefault(event.call_id, [])
        parts.append(event.text)
        now = self._loop.time()
        if now - turn.output_sent.get(event.call_id, float("-inf")) >= OUTPUT_INTERVAL:
            turn.output_sent[event.call_id] = now
            tail = "".join(parts)[-OUTPUT_TAIL:]
            turn.output[event.call_id] = [tail]
            turn.progress(event.call_id, content=[shapes.text_content(tail)])

    def _finished(self, event: ToolResult) -> None:
        turn = self._turn
        turn.output.pop(event.call_id, None)
        diffs = turn.diffs.pop(event.call_id, [])
        status = shapes.final_status(event.status)
        content: list[Any] = diffs if status == "completed" else []
        if event.output:
            content.append(shapes.text_content(event.output))
        turn.progress(event.call_id, status, content or None)


class AcpEditor:
    def __init__(self, turn: Turn) -> None:
        self._turn = turn

    async def request_approval(self, message: str, actions: Sequence[str]) -> str | None:
        turn = self._turn
        call_id = turn.current
        if call_id is None:  # not about a tool call we announced: nothing to show it on, so no
            log.warning("an approval without a tool call was denied: %s", message)
            return None
        turn.asking.add(call_id)
        await turn.outbox.flush()
        question = ToolCallUpdate(tool_call_id=call_id, content=[shapes.text_content(message)])
        try:
            answer = await turn.conn.request_permission(
                session_id=turn.session_id, tool_call=question, options=list(OPTIONS)
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a client that cannot ask has not said yes
            log.warning("the permission request failed, taken as a denial: %s", error)
            return None
        outcome = answer.outcome
        choice = CHOICES.get(outcome.option_id) if isinstance(outcome, AllowedOutcome) else None
        if choice not in actions:
            choice = DENY if DENY in actions else None
        if choice in (ALLOW, ALLOW_SESSION):
            turn.progress(call_id, "in_progress")
        return choice

    async def apply_edit(self, path: Path, old_text: str | None, new_text: str | None) -> bool:
        turn = self._turn
        if turn.current is not None:
            diff = shapes.diff_content(path, old_text, new_text or "")
            turn.diffs.setdefault(turn.current, []).append(diff)
        if not turn.can_write or new_text is None:  # ACP has no delete: the server deletes on disk
            return False
        try:
            await turn.conn.write_text_file(session_id=turn.session_id, path=str(path), content=new_text)
        except RequestError as error:
            raise EditRejected(str(error)) from None
        return True

    async def open_text(self, path: Path) -> str | None:
        """The client's text of `path` (its unsaved buffer, else the file), when it offers reads."""
        turn = self._turn
        if not turn.can_read:
            return None
        try:
            answer = await turn.conn.read_text_file(session_id=turn.session_id, path=str(path))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # not there, or the client failed: the tool reads the disk
            log.debug("fs/read_text_file %s failed: %s", path, error)
            return None
        return answer.content
