"""The contract, defined once: method names, error codes, event kinds and the events themselves.

Kept free of heavy imports: the server imports it at start-up. The events are small slotted
dataclasses, the same for every front end; each front end writes them in its own wire shape (the LSP
one as the camelCase `$/progress` values of docs/protocol.md). The pydantic models of what editors send
live with the front end that reads them (`lsp/wire.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

PROTOCOL_VERSION = 1
SERVER_NAME = "ryan-server"
PROVIDERS = ("ollama", "openai", "embedded")
TOOL_NAMES = (
    "list_files",
    "read_file",
    "search_files",
    "write_file",
    "edit_file",
    "delete_file",
    "run_command",
)

# Methods
CHAT = "ryan/chat"
MODELS = "ryan/models"
STATUS = "ryan/status"
SESSIONS = "ryan/sessions"
SESSION = "ryan/session"
DELETE_SESSION = "ryan/deleteSession"
SWITCH_BRANCH = "ryan/switchBranch"
CHECKPOINTS = "ryan/checkpoints"
DIFF = "ryan/diff"
RESTORE = "ryan/restore"
REDO = "ryan/redo"


class ErrorCode:
    """JSON-RPC error codes of the contract."""

    INVALID_PARAMS = -32602
    BACKEND_UNREACHABLE = -32001
    MODEL_NOT_FOUND = -32002
    BACKEND_ERROR = -32003
    SESSION_BUSY = -32004
    SESSION_NOT_FOUND = -32005
    CHECKPOINT_NOT_FOUND = -32006
    REQUEST_CANCELLED = -32800


class EventKind:
    """The `kind` of every `$/progress` value sent for a chat's partialResultToken."""

    START = "start"
    THINKING = "thinking"
    CONTENT = "content"
    TOOL_CALL = "toolCall"
    TOOL_OUTPUT = "toolOutput"
    TOOL_RESULT = "toolResult"
    RETRY = "retry"
    FALLBACK = "fallback"
    RESUMED = "resumed"
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


# -- events: what a chat reports while it runs, in order ---------------------------------------------


@dataclass(slots=True, frozen=True)
class Start:
    kind: ClassVar[str] = EventKind.START
    session_id: str
    model: str


@dataclass(slots=True, frozen=True)
class Content:
    """Answer text (coalesced: see chat/throttle.py)."""

    kind: ClassVar[str] = EventKind.CONTENT
    text: str


@dataclass(slots=True, frozen=True)
class Thinking:
    """Reasoning text, where the model gives it apart from the answer."""

    kind: ClassVar[str] = EventKind.THINKING
    text: str


@dataclass(slots=True, frozen=True)
class ToolCallStarted:
    """The model asked for a tool; `arguments` is a dict, or the raw string when it was not JSON;
    `server` and `tool` name an MCP tool's server and its own name."""

    kind: ClassVar[str] = EventKind.TOOL_CALL
    call_id: str
    name: str
    arguments: dict[str, Any] | str
    server: str | None = None
    tool: str | None = None


@dataclass(slots=True, frozen=True)
class ToolOutput:
    """Output of a running tool (a command's stdout and stderr), as it comes, before its `ToolResult`."""

    kind: ClassVar[str] = EventKind.TOOL_OUTPUT
    call_id: str
    text: str


@dataclass(slots=True, frozen=True)
class ToolResult:
    """That tool finished: `status` is a ToolStatus, `output` what the model got (cut for display)."""

    kind: ClassVar[str] = EventKind.TOOL_RESULT
    call_id: str
    name: str
    status: str
    output: str
    server: str | None = None
    tool: str | None = None


@dataclass(slots=True, frozen=True)
class Retry:
    kind: ClassVar[str] = EventKind.RETRY
    attempt: int
    delay_ms: int
    reason: str


@dataclass(slots=True, frozen=True)
class Fallback:
    kind: ClassVar[str] = EventKind.FALLBACK
    reason: str


@dataclass(slots=True, frozen=True)
class Resumed:
    """The stream broke off after `offset` characters of the answer; the model was asked to go on."""

    kind: ClassVar[str] = EventKind.RESUMED
    attempt: int
    offset: int


@dataclass(slots=True, frozen=True)
class Notice:
    kind: ClassVar[str] = EventKind.NOTICE
    message: str


Event = (
    Start
    | Content
    | Thinking
    | ToolCallStarted
    | ToolOutput
    | ToolResult
    | Retry
    | Fallback
    | Resumed
    | Notice
)
