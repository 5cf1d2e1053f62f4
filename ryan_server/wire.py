"""Pydantic models of the requests editors send (camelCase on the wire, snake_case in Python)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """Base for models that cross the wire: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Position(WireModel):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class Range(WireModel):
    start: Position
    end: Position


class ContextItem(WireModel):
    uri: str | None = None
    range: Range | None = None
    text: str


Token = str | int


class ChatParams(WireModel):
    session_id: str | None = None
    prompt: str
    context: list[ContextItem] = Field(default_factory=list)
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


class SessionIdParams(WireModel):
    session_id: str = Field(min_length=1)
