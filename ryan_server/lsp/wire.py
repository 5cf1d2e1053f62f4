"""Pydantic models of what editors send (camelCase on the wire, snake_case in Python), and their
conversion into the engine's typed requests. Imported when the first request arrives, not at start-up
(pydantic costs a tenth of a second); what goes out is in `shapes.py`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
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
    prompt: str = ""
    context: list[WireContextItem] = Field(default_factory=list)
    model: str | None = None
    regenerate: bool = False
    edit_of: int | None = None
    partial_result_token: Token | None = None
    work_done_token: Token | None = None

    @model_validator(mode="after")
    def _what_to_answer(self) -> ChatParams:
        if self.regenerate and self.edit_of is not None:
            raise ValueError("give regenerate or editOf, not both")
        if (self.regenerate or self.edit_of is not None) and self.session_id is None:
            raise ValueError(f"{'regenerate' if self.regenerate else 'editOf'} needs a sessionId")
        if not self.regenerate and not self.prompt.strip():
            raise ValueError("prompt must not be empty")
        return self

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
            regenerate=self.regenerate,
            edit_of=self.edit_of,
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


class SwitchBranchParams(SessionIdParams):
    message_id: int


class CheckpointParams(WireModel):
    checkpoint_id: int
    path: str | None = None


class RestoreParams(WireModel):
    checkpoint_id: int
    overwrite: bool | None = None


class RedoParams(SessionIdParams):
    overwrite: bool | None = None
