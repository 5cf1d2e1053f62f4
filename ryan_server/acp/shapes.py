"""Ryan's tool calls and history in ACP's shapes: kinds, titles a person reads, locations, replays.

Paths in ACP are absolute: a tool's workspace-relative `path` is joined to the session's `cwd`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from acp.schema import (
    AgentMessageChunk,
    AgentThoughtChunk,
    ContentToolCallContent,
    FileEditToolCallContent,
    TextContentBlock,
    ToolCallLocation,
    ToolCallStart,
    ToolKind,
    UserMessageChunk,
)

from ..protocol import ToolStatus
from ..store import MessageRecord

KINDS: dict[str, ToolKind] = {
    "list_files": "read",
    "read_file": "read",
    "search_files": "search",
    "write_file": "edit",
    "edit_file": "edit",
    "delete_file": "delete",
    "run_command": "execute",
}
TITLE_LIMIT = 80


def text(value: str) -> TextContentBlock:
    return TextContentBlock(type="text", text=value)


def message_chunk(value: str) -> AgentMessageChunk:
    return AgentMessageChunk(session_update="agent_message_chunk", content=text(value))


def thought_chunk(value: str) -> AgentThoughtChunk:
    return AgentThoughtChunk(session_update="agent_thought_chunk", content=text(value))


def text_content(value: str) -> ContentToolCallContent:
    return ContentToolCallContent(type="content", content=text(value))


def diff_content(path: Path, old_text: str | None, new_text: str) -> FileEditToolCallContent:
    return FileEditToolCallContent(type="diff", path=str(path), old_text=old_text, new_text=new_text)


def arguments_of(arguments: dict[str, Any] | str) -> dict[str, Any]:
    """The call's arguments as an object (a string the model sent is parsed, if it is JSON)."""
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _short(value: Any) -> str:
    shown = " ".join(str(value).split())
    return shown if len(shown) <= TITLE_LIMIT else shown[: TITLE_LIMIT - 1] + "…"


def title(name: str, arguments: dict[str, Any], server: str | None = None, tool: str | None = None) -> str:
    """What the call does, as a person would say it: "Read src/main.py (lines 3–9)"."""
    path = arguments.get("path")
    where = _short(path) if isinstance(path, str) and path not in ("", ".") else "the workspace"
    if server:
        return f"{tool or name} ({server})"
    if name == "read_file":
        start, end = arguments.get("startLine"), arguments.get("endLine")
        lines = f" (lines {start or 1}–{end or 'end'})" if start or end else ""
        return f"Read {where}{lines}"
    if name == "list_files":
        return f"List files in {where}"
    if name == "search_files":
        inside = f" in {where}" if where != "the workspace" else ""
        return f"Search for “{_short(arguments.get('pattern', ''))}”{inside}"
    if name == "write_file":
        return f"Write {where}"
    if name == "edit_file":
        return f"Edit {where}"
    if name == "delete_file":
        return f"Delete {where}"
    if name == "run_command":
        return f"Run `{_short(arguments.get('command', ''))}`"
    return name


def locations(cwd: Path, name: str, arguments: dict[str, Any]) -> list[ToolCallLocation] | None:
    """The file (or folder) the call touches, absolute, with its first line where known."""
    path = arguments.get("path") or (arguments.get("cwd") if name == "run_command" else None)
    if not isinstance(path, str) or name not in KINDS:
        return None
    line = arguments.get("startLine")
    return [
        ToolCallLocation(path=str(cwd / path), line=line if isinstance(line, int) and line >= 0 else None)
    ]


def tool_call(
    cwd: Path,
    call_id: str,
    name: str,
    raw: dict[str, Any] | str,
    *,
    server: str | None = None,
    tool: str | None = None,
    status: str = "pending",
    output: str | None = None,
) -> ToolCallStart:
    arguments = arguments_of(raw)
    return ToolCallStart(
        session_update="tool_call",
        tool_call_id=call_id,
        title=title(name, arguments, server, tool),
        kind="other" if server else KINDS.get(name, "other"),
        status=status,  # one of ToolCallStatus, by the callers
        locations=locations(cwd, name, arguments),
        raw_input=raw,
        content=[text_content(output)] if output else None,
    )


def final_status(status: str) -> str:
    """A `ToolStatus` (or a stored message's status) as ACP's final tool call status."""
    return "completed" if status in (ToolStatus.OK, "complete") else "failed"


def replay(cwd: Path, messages: list[MessageRecord]) -> Iterator[Any]:
    """A stored session as the updates that show it again: user and agent chunks, finished tool calls."""
    results = {m.tool_call_id: m for m in messages if m.role == "tool" and m.tool_call_id}
    for message in messages:
        if message.role == "user" and message.content:
            yield UserMessageChunk(session_update="user_message_chunk", content=text(message.content))
        elif message.role == "assistant":
            if message.thinking:
                yield thought_chunk(message.thinking)
            if message.content:
                yield message_chunk(message.content)
            for call in message.tool_calls or []:
                result = results.get(str(call.get("callId")))
                status = result.status if result is not None else call.get("status") or "error"
                yield tool_call(
                    cwd,
                    str(call.get("callId")),
                    str(call.get("name")),
                    call.get("arguments") or {},
                    status=final_status(status),
                    output=result.content if result is not None else None,
                )
