"""OpenAI-compatible servers (llama.cpp, vLLM, LM Studio, Ollama's /v1): `/chat/completions` over SSE.

Tool calls arrive as fragments keyed by `index` whose `arguments` strings must be joined; usage is
asked for with `stream_options.include_usage` and arrives in a last chunk with no choices.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ..errors import BackendError, BackendFailure, ModelNotFound, ToolsUnsupported
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
from .lines import iter_sse_data

_loads = json.loads
_REASONING_KEYS = ("reasoning_content", "reasoning")


class OpenAIBackend(Backend):
    label = "the OpenAI-compatible server"
    hint = "Is it running, and does baseUrl point at its API root (usually ending in /v1)?"
    _props_cache: dict[str, Any] | None = None

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            **request.options,
            "model": request.model,
            "messages": [_wire_message(m) for m in request.messages],
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        if isinstance(request.think, str):
            body["reasoning_effort"] = request.think
        if request.tools:
            body["tools"] = request.tools
        if request.continue_final_message:
            body["continue_final_message"] = True
            body["add_generation_prompt"] = False
        return body

    async def stream(self, request: ChatRequest) -> AsyncIterator[list[Delta]]:
        url = self.base_url + "/chat/completions"
        calls: dict[int, dict[str, Any]] = {}
        reason: str | None = None
        usage: dict[str, Any] | None = None
        try:
            async with self.client.stream("POST", url, json=self._body(request, stream=True)) as response:
                if response.status_code >= 400:
                    await self._raise_for_status(request, response.status_code, await response.aread())
                finished = False
                async for events in iter_sse_data(response):
                    batch: list[Delta] = []
                    for data in events:
                        if data == "[DONE]":
                            finished = True
                            break
                        try:
                            chunk = _loads(data)
                            choices = chunk.get("choices")
                            failure = chunk.get("error")
                        except (ValueError, AttributeError):
                            failure = f"malformed data: {data[:200]!r}"
                        if failure:
                            if batch:
                                yield batch
                            raise BackendError(
                                "The OpenAI-compatible server sent "
                                + (
                                    failure
                                    if isinstance(failure, str)
                                    else f"an error mid-answer: {error_detail(data.encode())}"
                                )
                            )
                        if chunk.get("usage"):
                            usage = chunk["usage"]
                        if not choices:
                            continue
                        choice = choices[0]
                        delta = choice.get("delta") or {}
                        for key in _REASONING_KEYS:
                            thinking = delta.get(key)
                            if thinking:
                                batch.append(Thinking(thinking))
                        content = delta.get("content")
                        if content:
                            batch.append(Text(content))
                        if delta.get("tool_calls"):
                            _collect(calls, delta["tool_calls"])
                        if choice.get("finish_reason"):
                            reason = choice["finish_reason"]
                    if batch:
                        yield batch
                    if finished:
                        break
                if not finished and reason is None:
                    raise BackendError(
                        "The OpenAI-compatible server ended the stream before the answer was complete.",
                        resumable=True,
                    )
        except httpx.HTTPError as error:
            raise self.transport_failure(error) from error
        yield [*_finish(calls), _done(reason, usage)]

    async def complete(self, request: ChatRequest) -> list[Delta]:
        try:
            response = await self.client.post(
                self.base_url + "/chat/completions", json=self._body(request, stream=False)
            )
        except httpx.HTTPError as error:
            raise self.transport_failure(error) from error
        if response.status_code >= 400:
            await self._raise_for_status(request, response.status_code, response.content)
        try:
            data = response.json()
            choice = data["choices"][0]
            message = choice.get("message") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise BackendError(
                f"The OpenAI-compatible server sent malformed data: {response.text[:200]!r}"
            ) from None
        deltas: list[Delta] = []
        for key in _REASONING_KEYS:
            if message.get(key):
                deltas.append(Thinking(message[key]))
        if message.get("content"):
            deltas.append(Text(message["content"]))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            deltas.append(
                ToolCall(
                    call_id=call.get("id") or new_call_id(),
                    name=str(function.get("name", "")),
                    arguments=parse_arguments(function.get("arguments", "")),
                )
            )
        deltas.append(_done(choice.get("finish_reason"), data.get("usage")))
        return deltas

    async def _raise_for_status(self, request: ChatRequest, status: int, body: bytes) -> None:
        detail = error_detail(body)
        lowered = detail.lower()
        if status == 404 and ("model" in lowered or "not found" in lowered or "does not exist" in lowered):
            try:
                available = [m.name for m in await self.list_models()]
            except BackendError:
                available = []
            shown = ", ".join(available) if available else "none listed"
            raise ModelNotFound(
                f"The OpenAI-compatible server at {self.base_url} has no model '{request.model}'. "
                f"Pick one it serves: {shown}.",
                available=available,
            )
        if status == 400 and request.tools and "tool" in lowered:
            # llama.cpp without --jinja, vLLM without --enable-auto-tool-choice, and the like
            raise ToolsUnsupported(request.model, detail)
        raise self.http_failure(status, body)

    async def list_models(self) -> list[ModelInfo]:
        data = await self.get_json(self.base_url + "/models")
        models = data.get("data", []) if isinstance(data, dict) else []
        return [
            ModelInfo(name=str(m.get("id")), details={k: v for k, v in m.items() if k != "id"})
            for m in models
            if isinstance(m, dict) and m.get("id")
        ]

    async def context_length(self, model: str) -> int | None:
        """vLLM says `max_model_len` in /v1/models; llama.cpp's server says `n_ctx` in /props."""
        try:
            for m in await self.list_models():
                if m.name == model and isinstance(m.details.get("max_model_len"), int):
                    return int(m.details["max_model_len"])
        except BackendFailure:
            return None
        props = await self._props()
        n_ctx = props.get("n_ctx") or (props.get("default_generation_settings") or {}).get("n_ctx")
        return n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else None

    async def supports_tools(self, model: str) -> bool | None:
        """llama.cpp's server says whether the model's chat template renders tools (/props)."""
        caps = (await self._props()).get("chat_template_caps") or {}
        supported = caps.get("supports_tools") if isinstance(caps, dict) else None
        return supported if isinstance(supported, bool) else None

    async def _props(self) -> dict[str, Any]:
        """llama.cpp's /props (at the server's root), once; {} from servers that have none."""
        if self._props_cache is None:
            try:
                props = await self.get_json(self.base_url.removesuffix("/v1") + "/props")
            except BackendFailure:
                props = None
            self._props_cache = props if isinstance(props, dict) else {}
        return self._props_cache

    async def needs_continue_flag(self) -> bool:
        """vLLM continues a trailing assistant message only when asked; it names itself in /v1/models."""
        try:
            return any(m.details.get("owned_by") == "vllm" for m in await self.list_models())
        except BackendFailure:
            return False

    async def version(self) -> str | None:
        await self.list_models()
        return None


def _collect(calls: dict[int, dict[str, Any]], fragments: list[dict[str, Any]]) -> None:
    for position, fragment in enumerate(fragments):
        index = fragment.get("index", position)
        call = calls.setdefault(index, {"id": None, "name": "", "arguments": []})
        if fragment.get("id"):
            call["id"] = fragment["id"]
        function = fragment.get("function") or {}
        if function.get("name"):
            call["name"] += function["name"]
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            call["arguments"].append(arguments)
        elif isinstance(arguments, dict):
            call["arguments"].append(json.dumps(arguments))


def _finish(calls: dict[int, dict[str, Any]]) -> list[ToolCall]:
    return [
        ToolCall(
            call_id=call["id"] or new_call_id(),
            name=call["name"],
            arguments=parse_arguments("".join(call["arguments"])),
        )
        for _, call in sorted(calls.items())
    ]


def _done(reason: str | None, usage: dict[str, Any] | None) -> Done:
    usage = usage or {}
    return Done(
        reason=reason or "stop",
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
    )


def _wire_message(message: dict[str, Any]) -> dict[str, Any]:
    """A neutral message in OpenAI's shape (tool calls with JSON-string arguments, `tool_call_id`)."""
    wire: dict[str, Any] = {"role": message["role"], "content": message.get("content") or ""}
    if message.get("tool_calls"):
        wire["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {
                    "name": c["name"],
                    "arguments": c["arguments"]
                    if isinstance(c["arguments"], str)
                    else json.dumps(c["arguments"]),
                },
            }
            for c in message["tool_calls"]
        ]
    if message.get("tool_call_id"):
        wire["tool_call_id"] = message["tool_call_id"]
    return wire
