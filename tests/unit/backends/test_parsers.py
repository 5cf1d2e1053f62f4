"""The NDJSON and SSE stream parsers: any split of the byte stream gives the same deltas.

These are narrow parser tests, so they use httpx.MockTransport; the wire behaviour end to end is
tested against the scripted LLM server in tests/e2e.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ryan_server.backends.base import ChatRequest, Done, Text, Thinking, ToolCall
from ryan_server.backends.ollama import OllamaBackend
from ryan_server.backends.openai import OpenAIBackend
from ryan_server.errors import BackendError

texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12)
parts = st.lists(st.tuples(st.sampled_from(["text", "think"]), texts), min_size=1, max_size=15)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


def backend_with(cls: type[Any], chunks: list[bytes], content_type: str) -> Any:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            await asyncio.sleep(0)
            yield chunk

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=body())

    backend = cls("http://model.test", api_key=None, timeout=5)
    backend.client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return backend


async def collect(backend: Any) -> list[Any]:
    request = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}])
    return [delta async for batch in backend.stream(request) for delta in batch]


def expected(script: list[tuple[str, str]]) -> list[Any]:
    return [Text(t) if kind == "text" else Thinking(t) for kind, t in script]


def ollama_bytes(script: list[tuple[str, str]], tool: dict[str, Any] | None = None) -> bytes:
    lines = []
    for kind, text in script:
        message = (
            {"role": "assistant", "content": text}
            if kind == "text"
            else {"role": "assistant", "content": "", "thinking": text}
        )
        lines.append({"model": "m", "message": message, "done": False})
    if tool:
        lines.append(
            {
                "model": "m",
                "message": {"role": "assistant", "content": "", "tool_calls": [{"function": tool}]},
                "done": False,
            }
        )
    lines.append(
        {
            "model": "m",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 7,
            "eval_count": len(script),
        }
    )
    return b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)


@settings(max_examples=60, deadline=None)
@given(script=parts, cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=20))
def test_ollama_any_split_same_deltas(script: list[tuple[str, str]], cuts: list[int]) -> None:
    data = ollama_bytes(script, tool={"name": "read_file", "arguments": {"path": "é.py"}})
    deltas = asyncio.run(collect(backend_with(OllamaBackend, split(data, cuts), "application/x-ndjson")))
    assert deltas[:-2] == expected(script)
    call = deltas[-2]
    assert isinstance(call, ToolCall) and call.name == "read_file" and call.arguments == {"path": "é.py"}
    assert deltas[-1] == Done(reason="stop", prompt_tokens=7, completion_tokens=len(script))


def sse_bytes(script: list[tuple[str, str]], arguments: str) -> bytes:
    events: list[dict[str, Any]] = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    for kind, text in script:
        key = "content" if kind == "text" else "reasoning_content"
        events.append({"choices": [{"index": 0, "delta": {key: text}, "finish_reason": None}]})
    events.append(
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "search_files", "arguments": ""},
                            }
                        ]
                    },
                }
            ]
        }
    )
    for start in range(0, len(arguments), 4):
        events.append(
            {
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [
                                {"index": 0, "function": {"arguments": arguments[start : start + 4]}}
                            ]
                        },
                    }
                ]
            }
        )
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    events.append({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 9}})
    body = b"".join(b"data: " + json.dumps(e, ensure_ascii=False).encode() + b"\n\n" for e in events)
    return body + b"data: [DONE]\n\n"


@settings(max_examples=60, deadline=None)
@given(script=parts, cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=20), pattern=texts)
def test_sse_any_split_same_deltas(script: list[tuple[str, str]], cuts: list[int], pattern: str) -> None:
    arguments = json.dumps({"pattern": pattern, "caseSensitive": True}, ensure_ascii=False)
    data = sse_bytes(script, arguments)
    deltas = asyncio.run(collect(backend_with(OpenAIBackend, split(data, cuts), "text/event-stream")))
    assert deltas[:-2] == expected(script)
    call = deltas[-2]
    assert isinstance(call, ToolCall) and call.call_id == "call_1"
    assert call.arguments == {"pattern": pattern, "caseSensitive": True}
    assert deltas[-1] == Done(reason="tool_calls", prompt_tokens=3, completion_tokens=9)


async def test_ollama_error_line_and_truncation() -> None:
    first = b'{"message":{"role":"assistant","content":"a"},"done":false}\n'
    with pytest.raises(BackendError, match="out of memory"):
        await collect(
            backend_with(OllamaBackend, [first, b'{"error":"out of memory"}\n'], "application/x-ndjson")
        )
    with pytest.raises(BackendError, match="before the answer was complete"):
        await collect(backend_with(OllamaBackend, [first], "application/x-ndjson"))
    with pytest.raises(BackendError, match="malformed"):
        await collect(backend_with(OllamaBackend, [first, b"[1,2\n"], "application/x-ndjson"))


async def test_sse_error_event_and_missing_done() -> None:
    first = b'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'
    with pytest.raises(BackendError, match="overloaded"):
        await collect(
            backend_with(
                OpenAIBackend, [first, b'data: {"error":{"message":"overloaded"}}\n\n'], "text/event-stream"
            )
        )
    with pytest.raises(BackendError, match="before the answer was complete"):
        await collect(backend_with(OpenAIBackend, [first], "text/event-stream"))


@pytest.mark.parametrize("cut", [1, 7, 0])
async def test_ollama_final_line_without_newline_completes(cut: int) -> None:
    """The `done` line need not end in a newline: losing it would turn a finished answer into an error."""
    data = ollama_bytes([("text", "all "), ("text", "done")]).removesuffix(b"\n")
    chunks = split(data, [len(data) - cut]) if cut else [data]
    deltas = await collect(backend_with(OllamaBackend, chunks, "application/x-ndjson"))
    assert deltas == [Text("all "), Text("done"), Done(reason="stop", prompt_tokens=7, completion_tokens=2)]


@pytest.mark.parametrize("ending", [b"data: [DONE]", b"data: [DONE]\n", b"data: [DONE]\r\n"])
async def test_sse_last_event_without_blank_line_completes(ending: bytes) -> None:
    body = sse_bytes([("text", "fine")], '{"pattern": "x"}').removesuffix(b"data: [DONE]\n\n") + ending
    deltas = await collect(backend_with(OpenAIBackend, split(body, [len(body) - 3]), "text/event-stream"))
    assert deltas[0] == Text("fine") and deltas[-1] == Done(
        reason="tool_calls", prompt_tokens=3, completion_tokens=9
    )


async def test_sse_finish_event_last_without_blank_line_or_done_completes() -> None:
    finish = b'data: {"choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}]}'
    first = b'data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}\n\n'
    deltas = await collect(backend_with(OpenAIBackend, [first, finish], "text/event-stream"))
    assert [d for d in deltas if isinstance(d, Text)] == [Text("ok"), Text("!")]
    assert isinstance(deltas[-1], Done) and deltas[-1].reason == "stop"
