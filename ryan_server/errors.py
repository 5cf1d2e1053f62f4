"""Ryan's one error tree: every failure a user is told about, with the protocol's code for it.

    RyanError(code, message, data)
    ├── InvalidParams        -32602  a request's parameters do not fit the contract
    ├── SessionBusy          -32004  a chat is already running in that session
    ├── SessionNotFound      -32005  no such session (deleted, or never made)
    ├── Cancelled            -32800  the request was cancelled
    └── BackendFailure       -32003  anything about the model server (retryable? fallback_ok?)
        ├── BackendUnreachable   -32001  nothing answers at the address
        ├── ModelNotFound        -32002  the server lacks the model (data.available)
        ├── BackendError         -32003  an HTTP error, an error line, malformed data, too slow (a
        │                                stream that broke off is `resumable`: the engine asks it to go on)
        └── ToolsUnsupported     -32003  the model takes no tool definitions (the engine retries without)

The core raises these and never re-wraps them; it may add to `data` (a failed chat's partial answer).
Each front end maps them to its wire in one place (the LSP one: `lsp/handlers.py`). Messages are for a
person: they say what happened and what to do.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .protocol import ErrorCode


class RyanError(Exception):
    """A failure to report to the user: `code` from `protocol.ErrorCode`, `data` for the client."""

    code: ClassVar[int] = ErrorCode.BACKEND_ERROR

    def __init__(self, message: str, *, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data: dict[str, Any] = data or {}


class InvalidParams(RyanError):
    code = ErrorCode.INVALID_PARAMS


class SessionBusy(RyanError):
    code = ErrorCode.SESSION_BUSY


class SessionNotFound(RyanError):
    code = ErrorCode.SESSION_NOT_FOUND


class CheckpointNotFound(RyanError):
    """No such checkpoint, or nothing to redo."""

    code = ErrorCode.CHECKPOINT_NOT_FOUND


class Cancelled(RyanError):
    code = ErrorCode.REQUEST_CANCELLED


class BackendFailure(RyanError):
    """The model server failed. `retryable`: the same request may succeed when tried again shortly
    (connect errors, 429, 5xx); `fallback_ok`: asking once more without streaming is worth it."""

    retryable: bool = False
    fallback_ok: bool = False


class BackendUnreachable(BackendFailure):
    """Nothing answers at the backend's address (connection refused, DNS, connect timeout).
    Only a timeout is `retryable`: a refused connection or an unknown host will not mend in seconds."""

    code = ErrorCode.BACKEND_UNREACHABLE

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ModelNotFound(BackendFailure):
    code = ErrorCode.MODEL_NOT_FOUND

    def __init__(self, message: str, *, available: list[str]) -> None:
        super().__init__(message, data={"available": available})
        self.available = available


class BackendError(BackendFailure):
    """The backend answered, but with an HTTP error, an error line, malformed data or too slowly.
    `resumable`: the stream broke off (dropped, closed early, silent too long), so a model that had
    started answering can be asked to continue where it stopped."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        fallback_ok: bool = True,
        resumable: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.fallback_ok = fallback_ok
        self.resumable = resumable


class ToolsUnsupported(BackendFailure):
    """The model cannot take tool definitions; the engine asks again without tools."""

    def __init__(self, model: str, detail: str) -> None:
        super().__init__(f"The model '{model}' does not support tools ({detail}).")
        self.model = model
