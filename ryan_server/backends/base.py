"""What every backend shares: the deltas it yields, the request it takes, the HTTP plumbing.

Deltas are tiny slotted objects because one is made per streamed chunk; the engine dispatches on
their type. HTTP errors and transport failures become the typed failures of `errors.py` here, once,
so that Ollama and OpenAI-compatible backends report them in the same words.
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..errors import BackendError, BackendFailure, BackendUnreachable


@dataclass(slots=True)
class Text:
    text: str


@dataclass(slots=True)
class Thinking:
    text: str


@dataclass(slots=True)
class ToolCall:
    """A complete tool call; `arguments` is a dict, or the raw string when it is not valid JSON.
    `error` says why a call the model wrote as text could not be read (it then goes back as an error)."""

    call_id: str
    name: str
    arguments: dict[str, Any] | str
    error: str | None = None


@dataclass(slots=True)
class Done:
    reason: str  # "stop" | "length" | "tool_calls"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


Delta = Text | Thinking | ToolCall | Done


@dataclass
class ChatRequest:
    """One model turn. `messages` are neutral dicts: role, content, and for tool use `tool_calls`
    (`[{"id", "name", "arguments": dict}]`), `tool_name` and `tool_call_id`."""

    model: str
    messages: list[dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)
    think: bool | str | None = None
    tools: list[dict[str, Any]] | None = None
    # the last message is the answer so far, for the model to continue (vLLM needs to be told)
    continue_final_message: bool = False


@dataclass
class ModelInfo:
    name: str
    details: dict[str, Any] = field(default_factory=dict)


class Backend(ABC):
    """One LLM server. Owns one `httpx.AsyncClient`, so connections are reused across turns."""

    label: str  # how the user knows it: "Ollama", "the OpenAI-compatible server"
    context_option: str | None = None  # the request option that sizes the model's context (Ollama's)
    hint: str  # what to do when it cannot be reached

    def __init__(self, base_url: str, *, api_key: str | None, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=30),
            trust_env=False,
        )

    @abstractmethod
    def stream(self, request: ChatRequest) -> AsyncIterator[list[Delta]]:
        """Stream one turn as batches of deltas, one batch per network read.

        Leaving the iterator early closes the HTTP response, so the model stops generating.
        """

    @abstractmethod
    async def complete(self, request: ChatRequest) -> list[Delta]:
        """The same turn as one request/response, for `streaming.enabled = false` and fallback."""

    @abstractmethod
    async def list_models(self) -> list[ModelInfo]: ...

    @abstractmethod
    async def version(self) -> str | None:
        """The server's version where it tells; raises BackendFailure when it cannot be reached."""

    async def context_length(self, model: str) -> int | None:
        """The model's context window in tokens, where the backend reports it."""
        return None

    async def supports_tools(self, model: str) -> bool | None:
        """Whether the model takes tool definitions, where the backend says (None: it does not say)."""
        return None

    @property
    def ready(self) -> bool:
        """False while `prepare()` has work to do (the built-in model's server is not running)."""
        return True

    async def prepare(self) -> None:  # noqa: B027 (most backends have nothing to prepare)
        """Get ready to answer (the built-in model starts its server)."""

    async def needs_continue_flag(self) -> bool:
        """Whether a trailing assistant message is continued only when the request says so (vLLM's
        `continue_final_message`); Ollama and llama.cpp continue it as it is."""
        return False

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- shared plumbing -------------------------------------------------------------------------

    def unreachable(self, error: Exception) -> BackendUnreachable:
        return BackendUnreachable(
            f"Cannot connect to {self.label} at {self.base_url} ({connect_reason(error)}). {self.hint}"
        )

    def transport_failure(self, error: httpx.HTTPError) -> BackendFailure:
        """Map an httpx error, raised before or during a response, to a typed failure."""
        if isinstance(error, httpx.ConnectTimeout):
            return BackendUnreachable(
                f"Cannot connect to {self.label} at {self.base_url} (timed out after "
                f"{self.timeout:g} s). {self.hint}",
                retryable=True,
            )
        if isinstance(error, httpx.ConnectError):
            return self.unreachable(error)
        if isinstance(error, httpx.TimeoutException):
            return BackendError(
                f"{self.label} sent nothing for {self.timeout:g} s (requestTimeout) and the request was "
                "abandoned. The model may still be loading: try again, or raise requestTimeout.",
                fallback_ok=False,
                resumable=True,
            )
        return BackendError(
            f"The connection to {self.label} at {self.base_url} broke off "
            f"({type(error).__name__}: {error or 'no details'}). Check that the server is still running.",
            resumable=True,
        )

    def http_failure(self, status: int, body: bytes) -> BackendError:
        detail = error_detail(body)
        retryable = status == 429 or status >= 500
        advice = {
            401: " Check the apiKey setting.",
            403: " Check the apiKey setting.",
            404: " Check baseUrl.",
            429: " The server is busy; try again shortly.",
        }.get(status, "")
        return BackendError(
            f"{self.label} answered HTTP {status}: {detail}.{advice}",
            status=status,
            retryable=retryable,
            fallback_ok=status not in (401, 403, 429),  # asking without streaming cannot fix these
        )

    async def get_json(self, url: str) -> Any:
        try:
            response = await self.client.get(url)
        except httpx.HTTPError as error:
            raise self.transport_failure(error) from error
        if response.status_code >= 400:
            raise self.http_failure(response.status_code, response.content)
        try:
            return response.json()
        except ValueError as error:
            raise BackendError(f"{self.label} sent malformed JSON from {url}.") from error


def error_detail(body: bytes) -> str:
    """The error text of an HTTP error body: `{"error": "..."}`, `{"error": {"message": ...}}` or raw."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300] or "no details"
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error:
            return str(error)[:300]
    return text[:300]


def new_call_id() -> str:
    """An id for a tool call whose backend gave none (Ollama's calls usually have none)."""
    return f"call_{uuid.uuid4().hex[:12]}"


def parse_arguments(raw: Any) -> dict[str, Any] | str:
    """Tool-call arguments as a dict; a string that is not a JSON object is kept as it came."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return raw
        if isinstance(value, dict):
            return value
    return raw if isinstance(raw, str) else json.dumps(raw)


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
