"""Ollama's native API: `/api/chat` streamed as NDJSON, `/api/tags`, `/api/show`, `/api/version`.

The line loop is the relay's hot path: one `json.loads` and a few dict look-ups per chunk, no
model validation.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ..errors import BackendError, ModelNotFound, ToolsUnsupported
from .base import (
    Backend,
    ChatRequest,
    Delta,
    Done,
    ModelInfo,
    Text,
    Thinking,
    ToolCall,
    error_detail,
    new_call_id,
    parse_arguments,
)
from .lines import iter_lines

_loads = json.loads


class OllamaBackend(Backend):
    label = "Ollama"
    context_option = "num_ctx"
    hint = "Is 'ollama serve' running? (Set baseUrl or OLLAMA_HOST if it runs elsewhere.)"

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [_wire_message(m) for m in request.messages],
            "stream": stream,
        }
        if request.options:
            body["options"] = request.options
        if request.think is not None:
            body["think"] = request.think
        if request.tools:
            body["tools"] = request.tools
        return body

    async def stream(self, request: ChatRequest) -> AsyncIterator[list[Delta]]:
        url = self.base_url + "/api/chat"
        try:
            async with self.client.stream("POST", url, json=self._body(request, stream=True)) as response:
                if response.status_code >= 400:
                    await self._raise_for_status(request, response.status_code, await response.aread())
                finished = False
                async for lines in iter_lines(response):
                    batch: list[Delta] = []
                    for line in lines:
                        if not line:
                            continue
                        try:
                            chunk = _loads(line)
                            message = chunk.get("message")
                        except (ValueError, AttributeError):
                            if batch:
                                yield batch
                            raise BackendError(f"Ollama sent malformed data: {line[:200]!r}") from None
                        if message:
                            if message.get("thinking"):
                                batch.append(Thinking(message["thinking"]))
                            content = message.get("content")
                            if content:
                                batch.append(Text(content))
                            if message.get("tool_calls"):
                                batch.extend(_tool_calls(message["tool_calls"]))
                        if chunk.get("done"):
                            finished = True
                            batch.append(_done(chunk))
                        elif "error" in chunk:
                            if batch:
                                yield batch
                            raise BackendError(f"Ollama reported an error mid-answer: {chunk['error']}")
                    if batch:
                        yield batch
                if not finished:
                    raise BackendError(
                        "Ollama ended the stream before the answer was complete.", resumable=True
                    )
        except httpx.HTTPError as error:
            raise self.transport_failure(error) from error

    async def complete(self, request: ChatRequest) -> list[Delta]:
        try:
            response = await self.client.post(
                self.base_url + "/api/chat", json=self._body(request, stream=False)
            )
        except httpx.HTTPError as error:
            raise self.transport_failure(error) from error
        if response.status_code >= 400:
            await self._raise_for_status(request, response.status_code, response.content)
        try:
            chunk = response.json()
            message = chunk.get("message") or {}
        except (ValueError, AttributeError):
            raise BackendError(f"Ollama sent malformed data: {response.text[:200]!r}") from None
        if "error" in chunk:
            raise BackendError(f"Ollama reported an error: {chunk['error']}")
        deltas: list[Delta] = []
        if message.get("thinking"):
            deltas.append(Thinking(message["thinking"]))
        if message.get("content"):
            deltas.append(Text(message["content"]))
        deltas.extend(_tool_calls(message.get("tool_calls") or []))
        deltas.append(_done(chunk))
        return deltas

    async def _raise_for_status(self, request: ChatRequest, status: int, body: bytes) -> None:
        detail = error_detail(body)
        if status == 404 and "not found" in detail.lower():
            available = [m.name for m in await self.list_models()]
            shown = ", ".join(available) if available else "none: pull one first"
            raise ModelNotFound(
                f"Ollama has no model '{request.model}'. Pull it with 'ollama pull {request.model}', "
                f"or pick one it has: {shown}.",
                available=available,
            )
        if status == 400 and "does not support tools" in detail:
            raise ToolsUnsupported(request.model, detail)
        raise self.http_failure(status, body)

    async def list_models(self) -> list[ModelInfo]:
        data = await self.get_json(self.base_url + "/api/tags")
        models = data.get("models", []) if isinstance(data, dict) else []
        return [
            ModelInfo(name=m.get("name") or m.get("model", "?"), details=m.get("details") or {})
            for m in models
            if isinstance(m, dict)
        ]

    async def version(self) -> str | None:
        data = await self.get_json(self.base_url + "/api/version")
        return data.get("version") if isinstance(data, dict) else None

    async def show(self, model: str) -> dict[str, Any]:
        """`/api/show` for `model`: capabilities and model_info; {} when the server does not say."""
        try:
            response = await self.client.post(self.base_url + "/api/show", json={"model": model})
            if response.status_code >= 400:
                return {}
            data = response.json()
        except (httpx.TransportError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    async def supports_tools(self, model: str) -> bool | None:
        capabilities = (await self.show(model)).get("capabilities")
        return "tools" in capabilities if isinstance(capabilities, list) else None

    async def context_length(self, model: str) -> int | None:
        info = (await self.show(model)).get("model_info") or {}
        for key, value in info.items():
            if key.endswith(".context_length") and isinstance(value, int):
                return value
        return None


def _done(chunk: dict[str, Any]) -> Done:
    return Done(
        reason=chunk.get("done_reason") or "stop",
        prompt_tokens=chunk.get("prompt_eval_count"),
        completion_tokens=chunk.get("eval_count"),
    )


def _tool_calls(calls: list[Any]) -> list[ToolCall]:
    found = []
    for call in calls:
        function = call.get("function") or {} if isinstance(call, dict) else {}
        found.append(
            ToolCall(
                call_id=call.get("id") or new_call_id(),
                name=str(function.get("name", "")),
                arguments=parse_arguments(function.get("arguments", {})),
            )
        )
    return found


def _wire_message(message: dict[str, Any]) -> dict[str, Any]:
    """A neutral message in Ollama's shape (tool calls with object arguments, `tool_name`)."""
    wire: dict[str, Any] = {"role": message["role"], "content": message.get("content") or ""}
    if message.get("tool_calls"):
        wire["tool_calls"] = [
            {"function": {"name": c["name"], "arguments": _object(c["arguments"])}}
            for c in message["tool_calls"]
        ]
    if message.get("tool_name"):
        wire["tool_name"] = message["tool_name"]
    return wire


def _object(arguments: Any) -> dict[str, Any]:
    """Ollama wants arguments as an object; a call whose arguments were not JSON is sent as empty."""
    return arguments if isinstance(arguments, dict) else {}
