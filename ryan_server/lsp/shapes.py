"""The engine's typed results and events written as the camelCase JSON of docs/protocol.md.

Imported at start-up (the chat feature's sink uses it), so it imports nothing heavy: no pydantic, and
the engine's types only for type checking.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import TYPE_CHECKING, Any

from ..protocol import Content, Event, Thinking

if TYPE_CHECKING:
    from ..chat.types import ChatResult, ModelList, SessionView, Status
    from ..store import MessageRecord, SessionRecord


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camel(value: Any) -> Any:
    """A dataclass (or list of them) as camelCase JSON, leaving out fields that are None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            key: camel(item)
            for key, name in _camel_names(type(value))
            if (item := getattr(value, name)) is not None
        }
    if isinstance(value, list):
        return [camel(item) for item in value]
    return value


@cache
def _camel_names(cls: type) -> tuple[tuple[str, str], ...]:
    return tuple((to_camel(f.name), f.name) for f in dataclasses.fields(cls))


def event_value(event: Event) -> dict[str, Any]:
    """One `$/progress` value (the text events are the hot path: built without reflection)."""
    if event.__class__ is Content or event.__class__ is Thinking:
        return {"kind": event.kind, "text": event.text}
    return {"kind": event.kind, **camel(event)}


def chat_result(result: ChatResult) -> dict[str, Any]:
    value: dict[str, Any] = camel(result)
    if not result.usage.estimated:
        del value["usage"]["estimated"]
    return value


def models_result(models: ModelList) -> dict[str, Any]:
    return {"models": camel(models.models), "current": models.current}


def status_result(status: Status, setting_errors: list[str]) -> dict[str, Any]:
    value: dict[str, Any] = camel(status)
    value["settingsErrors"] = setting_errors
    return value


def sessions_result(sessions: list[SessionRecord]) -> dict[str, Any]:
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
            for s in sessions
        ]
    }


def session_result(view: SessionView) -> dict[str, Any]:
    return {
        "sessionId": view.session_id,
        "title": view.title,
        "headId": view.head_id,
        "messages": [_message(m, view.siblings) for m in view.messages],
    }


def _message(m: MessageRecord, siblings: dict[int, list[int]]) -> dict[str, Any]:
    assert m.id is not None
    item: dict[str, Any] = {
        "id": m.id,
        "siblings": siblings.get(m.id, [m.id]),
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
    return item
