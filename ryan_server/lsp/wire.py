"""The LSP front end's wire shapes: pydantic models of what editors send, and the engine's typed
results and events written as the camelCase JSON of docs/protocol.md."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from ..chat.types import ChatInput, ChatResult, ContextItem, ModelList, Status
from ..protocol import Content, Event, Thinking
from ..store import MessageRecord, SessionRecord


class WireModel(BaseModel):
    """Base for models that cross the wire: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Position(WireModel):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class Range(WireModel):
    start: Position
    end: Position


class WireContextItem(WireModel):
    uri: str | None = None
    range: Range | None = None
    text: str


Token = str | int


class ChatParams(WireModel):
    session_id: str | None = None
    prompt: str
    context: list[WireContextItem] = Field(default_factory=list)
    model: str | None = None
    partial_result_token: Token | None = None
    work_done_token: Token | None = None

    @field_validator("prompt")
    @classmethod
    def _prompt_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt must not be empty")
        return value

    @field_validator("session_id", "model")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty when given")
        return value

    def chat_input(self) -> ChatInput:
        return ChatInput(
            prompt=self.prompt,
            session_id=self.session_id,
            model=self.model,
            context=tuple(
                ContextItem(
                    text=item.text,
                    uri=item.uri,
                    start_line=item.range.start.line if item.range else None,
                    end_line=item.range.end.line if item.range else None,
                )
                for item in self.context
            ),
        )


class SessionIdParams(WireModel):
    session_id: str = Field(min_length=1)


# -- out ------------------------------------------------------------------------------------------


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


def status_result(status: Status) -> dict[str, Any]:
    value: dict[str, Any] = camel(status)
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


def session_result(session: SessionRecord, messages: list[MessageRecord]) -> dict[str, Any]:
    return {
        "sessionId": session.session_id,
        "title": session.title,
        "messages": [_message(m) for m in messages],
    }


def _message(m: MessageRecord) -> dict[str, Any]:
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
    return item
