"""Resuming needs vLLM to be told to continue the trailing assistant message; others continue it as is."""

from __future__ import annotations

import json

import httpx
import pytest

from ryan_server.backends.base import ChatRequest
from ryan_server.backends.openai import OpenAIBackend


def backend_owned_by(owner: str, seen: list[dict[str, object]]) -> OpenAIBackend:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "m", "object": "model", "owned_by": owner}]})
        seen.append(json.loads(request.content))
        done = b'data: {"choices":[{"index":0,"delta":{"content":"."},"finish_reason":"stop"}]}\n\n'
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=done)

    backend = OpenAIBackend("http://model.test/v1", api_key=None, timeout=5)
    backend.client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return backend


@pytest.mark.parametrize("owner, flag", [("vllm", True), ("llamacpp", False)])
async def test_the_continue_flag_goes_to_vllm_only(owner: str, flag: bool) -> None:
    seen: list[dict[str, object]] = []
    backend = backend_owned_by(owner, seen)
    assert await backend.needs_continue_flag() is flag
    messages = [{"role": "user", "content": "count"}, {"role": "assistant", "content": "one two"}]
    request = ChatRequest(model="m", messages=messages, continue_final_message=flag)
    [_ async for _ in backend.stream(request)]
    body = seen[0]
    assert body["messages"][-1] == {"role": "assistant", "content": "one two"}  # type: ignore[index]
    assert ("continue_final_message" in body, body.get("add_generation_prompt")) == (
        (True, False) if flag else (False, None)
    )
