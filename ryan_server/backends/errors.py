"""Typed backend failures, each with a message a person can act on.

`code` is the contract's JSON-RPC error code; `retryable` says whether the same request may succeed
when tried again shortly (connect errors, 429, 5xx), `fallback_ok` whether asking once more without
streaming is worth it.
"""

from __future__ import annotations

from typing import Any

BACKEND_UNREACHABLE = -32001
MODEL_NOT_FOUND = -32002
BACKEND_ERROR = -32003


class BackendFailure(Exception):
    code = BACKEND_ERROR
    retryable = False
    fallback_ok = False

    def __init__(self, message: str, *, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data: dict[str, Any] = data or {}


class BackendUnreachable(BackendFailure):
    """Nothing answers at the backend's address (connection refused, DNS, connect timeout)."""

    code = BACKEND_UNREACHABLE
    retryable = True


class ModelNotFound(BackendFailure):
    code = MODEL_NOT_FOUND

    def __init__(self, message: str, *, available: list[str]) -> None:
        super().__init__(message, data={"available": available})
        self.available = available


class BackendError(BackendFailure):
    """The backend answered, but with an HTTP error, an error line, malformed data or too slowly."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        fallback_ok: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.fallback_ok = fallback_ok


class ToolsUnsupported(BackendFailure):
    """The model cannot take tool definitions; the engine asks again without tools."""

    def __init__(self, model: str, detail: str) -> None:
        super().__init__(f"The model '{model}' does not support tools ({detail}).")
        self.model = model


def connect_reason(error: BaseException) -> str:
    """A short, human reason from an httpx connect error ("connection refused", "name not found").

    httpx often says only "All connection attempts failed"; the OS error is further down the chain.
    """
    chain: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and len(chain) < 10:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
        if isinstance(cause, BaseExceptionGroup):
            cause = cause.exceptions[0]
    text = " ".join(str(e) for e in chain).lower()
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
    for needle, reason in (
        ("refused", "connection refused"),
        ("name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("temporary failure in name resolution", "host name not found"),
        ("no route", "no route to host"),
        ("unreachable", "network unreachable"),
        ("timed out", "timed out"),
        ("ssl", "TLS handshake failed"),
    ):
        if needle in text:
            return reason
    return str(error).strip().lower() or type(error).__name__
