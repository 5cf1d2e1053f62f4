"""The engine's typed requests and results: what every front end hands in and gets back.

Plain dataclasses in snake_case; the wire shapes (camelCase JSON for LSP) are the front end's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import MessageRecord
    from ..tools.mcp import McpServerStatus


@dataclass(frozen=True, slots=True)
class ContextItem:
    """Text the user attached to a prompt: a selection or a file, with its 0-based range where known
    (an LSP range: the end is exclusive, so character 0 of a line ends with the line before)."""

    text: str
    uri: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    end_character: int | None = None


@dataclass(frozen=True, slots=True)
class ChatInput:
    """One chat request: a prompt in a new session (`session_id` None) or an existing one."""

    prompt: str
    session_id: str | None = None
    context: tuple[ContextItem, ...] = ()
    model: str | None = None
    regenerate: bool = False  # answer the active branch's last user message again
    edit_of: int | None = None  # the user message `prompt` is a new version of


@dataclass(slots=True)
class ToolCallSummary:
    call_id: str
    name: str
    arguments: dict[str, Any] | str
    status: str  # protocol.ToolStatus
    server: str | None = None  # an MCP tool's server and own name
    tool: str | None = None


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False  # the backend gave no counts: the deltas were counted
    context_window: int | None = None  # the model's context window, where known (tokens)
    context_used: int | None = None  # of it, what the last request and its answer took


@dataclass(slots=True)
class Timing:
    first_token_ms: float
    total_ms: float
    tokens_per_second: float


@dataclass(slots=True)
class ChatResult:
    session_id: str
    model: str
    stop_reason: str  # protocol.StopReason
    content: str
    thinking: str
    tool_calls: list[ToolCallSummary]
    usage: Usage
    timing: Timing
    user_message_id: int | None = None
    checkpoint: Checkpoint | None = None  # what the chat changed, when it changed files


@dataclass(slots=True)
class ModelEntry:
    name: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ModelList:
    models: list[ModelEntry]
    current: str | None


@dataclass(slots=True)
class HistoryInfo:
    """Where history is kept: `persistent` is False when it lives in memory (`warning` says why)."""

    path: str | None
    persistent: bool
    warning: str | None = None


@dataclass(slots=True)
class Status:
    provider: str
    base_url: str
    history: HistoryInfo
    reachable: bool | None = None
    version: str | None = None
    model: str | None = None
    error: str | None = None
    stand_in: str | None = None  # the built-in model that answers while the unconfigured Ollama does not
    mcp: list[McpServerStatus] = field(default_factory=list)


@dataclass(slots=True)
class ChangedFile:
    """A file a chat changed: `change` is created, modified or deleted; lines from before to after it."""

    path: str
    uri: str
    change: str
    added: int
    removed: int


@dataclass(slots=True)
class Checkpoint:
    checkpoint_id: int
    message_id: int
    prompt: str
    created_at: str
    files: list[ChangedFile]
    undone: bool


@dataclass(slots=True)
class FileDiff:
    """A checkpoint's file before the chat and now (None: no file), and the unified diff between."""

    path: str
    uri: str
    before: str | None
    current: str | None
    diff: str


@dataclass(slots=True)
class Skipped:
    path: str
    reason: str


@dataclass(slots=True)
class RestoreResult:
    restored: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    cancelled: bool = False


@dataclass(slots=True)
class SessionView:
    """A session's active branch, and for each of its messages the ids of its versions (siblings)."""

    session_id: str
    title: str
    head_id: int | None
    messages: list[MessageRecord]
    siblings: dict[int, list[int]]
