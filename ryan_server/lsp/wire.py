"""Pydantic models of what editors send (camelCase on the wire, snake_case in Python), and their
conversion into the engine's typed requests. Imported when the first request arrives, not at start-up
(pydantic costs a tenth of a second); what goes out is in `shapes.py`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from ..chat.types import ChatInput, ContextItem


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
                    end_character=item.range.end.character if item.range else None,
                )
                for item in self.context
            ),
        )


class SessionIdParams(WireModel):
    session_id: str = Field(min_length=1)
