"""The wire contract, defined once: method names, event kinds, error codes and request models.

Everything an editor sends is validated here with pydantic (camelCase aliases); events going out
are plain dicts built by the helpers below, because they sit on the streaming hot path.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

PROTOCOL_VERSION = 1
SERVER_NAME = "ryan-server"
PROVIDERS = ("ollama", "openai")

# Methods
CHAT = "ryan/chat"
MODELS = "ryan/models"
STATUS = "ryan/status"
SESSIONS = "ryan/sessions"
SESSION = "ryan/session"
DELETE_SESSION = "ryan/deleteSession"


class ErrorCode:
    """JSON-RPC error codes of the contract."""

    INVALID_PARAMS = -32602
    BACKEND_UNREACHABLE = -32001
    MODEL_NOT_FOUND = -32002
    BACKEND_ERROR = -32003
    SESSION_BUSY = -32004
    SESSION_NOT_FOUND = -32005
    REQUEST_CANCELLED = -32800


class EventKind:
    """The `kind` of every `$/progress` value sent for a chat's partialResultToken."""

    START = "start"
    THINKING = "thinking"
    CONTENT = "content"
    TOOL_CALL = "toolCall"
    TOOL_RESULT = "toolResult"
    RETRY = "retry"
    FALLBACK = "fallback"
    NOTICE = "notice"  # Ryan's own: something the user should know that is not an error


class StopReason:
    STOP = "stop"
    LENGTH = "length"
    MAX_STEPS = "maxSteps"


class MessageStatus:
    """Status of a stored message."""

    COMPLETE = "complete"
    STREAMING = "streaming"
    INTERRUPTED = "interrupted"
    ERROR = "error"


class ToolStatus:
    OK = "ok"
    ERROR = "error"
    DENIED = "denied"


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


ToolStatusLiteral = Literal["ok", "error", "denied"]


def event(kind: str, **fields: Any) -> dict[str, Any]:
    """One `$/progress` value; `fields` are already camelCase."""
    return {"kind": kind, **fields}
