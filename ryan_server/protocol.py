"""The wire contract, defined once: method names, event kinds, error codes, tool names.

Kept free of heavy imports: the server imports it at start-up. The pydantic models of what editors
send live in `wire.py`; events going out are plain dicts (`event`), because they are on the hot path.
"""

from __future__ import annotations

from typing import Any

PROTOCOL_VERSION = 1
SERVER_NAME = "ryan-server"
PROVIDERS = ("ollama", "openai")
TOOL_NAMES = ("list_files", "read_file", "search_files", "write_file", "edit_file")

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


def event(kind: str, **fields: Any) -> dict[str, Any]:
    """One `$/progress` value; `fields` are already camelCase."""
    return {"kind": kind, **fields}
