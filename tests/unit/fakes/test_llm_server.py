"""Self-tests for the scripted LLM server: plain httpx against the real loopback server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.llm_server import FakeLLM, HttpError, Part, Raw, Reply, Text, Think, ToolCall

MODEL = "llama3.2:latest"


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(models=[MODEL, "qwen2.5-coder:7b"], no_tools={"qwen2.5-coder:7b"}) as server:
        yield server


def ollama_lines(llm: FakeLLM, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream("POST", llm.url + "/api/chat", json=body, timeout=5) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/x-ndjson"
        return [json.loads(line) for line in r.iter_lines() if line]


def sse_events(llm: FakeLLM, body: dict[str, Any]) -> list[Any]:
    """The `data:` payloads, parsed; `[DONE]` kept as the string."""
    with httpx.stream("POST", llm.url + "/v1/chat/completions", json=body, timeout=5) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/event-stream"
        datas = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    return [d if d == "[DONE]" else json.loads(d) for d in datas]


@pytest.mark.parametrize("split", [False, True])
def test_ollama_ndjson_concatenates_to_script(llm: FakeLLM, split: bool) -> None:
    call = ToolCall("read_file", {"path": "a.py"})
    parts: list[Part] = [Think("hmm "), Text("Héllo, "), Text("wörld ✓"), call]
    llm.enqueue(Reply(parts, split_bytes=split))
    lines = ollama_lines(llm, {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert "".join(c["message"]["content"] for c in lines) == "Héllo, wörld ✓"
    assert "".join(c["message"].get("thinking", "") for c in lines) == "hmm "
    calls = [tc for c in lines for tc in c["message"].get("tool_calls", [])]
    assert calls == [{"function": {"name": "read_file", "arguments": {"path": "a.py"}}}]
    assert [c["done"] for c in lines] == [False] * 4 + [True]
    assert lines[-1]["prompt_eval_count"] == 12 and lines[-1]["eval_count"] == 4
    assert llm.chat_requests[0].json["messages"][0]["content"] == "hi"


def test_default_reply_and_usage_none(llm: FakeLLM) -> None:
    assert ollama_lines(llm, {"model": MODEL})[0]["message"]["content"] == "Hello from the fake."
    llm.enqueue(Reply([Text("x")], usage=None, done_reason="length"))
    final = ollama_lines(llm, {"model": MODEL})[-1]
    assert final["done_reason"] == "length" and "eval_count" not in final


def test_openai_sse_tool_call_fragments_reassemble(llm: FakeLLM) -> None:
    args = {"pattern": "déf main", "path": ".", "maxResults": 5}
    llm.enqueue(Reply([Text("Let me look."), ToolCall("search_files", args), ToolCall("list_files", {})]))
    events = sse_events(llm, {"model": MODEL, "stream": True, "messages": []})
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert "".join(d.get("content") or "" for d in deltas) == "Let me look."
    calls: dict[int, dict[str, str]] = {}
    frags = 0
    for d in deltas:
        for tc in d.get("tool_calls", []):
            slot = calls.setdefault(tc["index"], {"id": "", "name": "", "arguments": ""})
            slot["id"] += tc.get("id", "")
            slot["name"] += tc.get("function", {}).get("name", "")
            slot["arguments"] += tc.get("function", {}).get("arguments", "")
            frags += tc["index"] == 0 and bool(tc["function"]["arguments"])
    assert frags >= 3
    assert json.loads(calls[0]["arguments"]) == args and calls[0]["name"] == "search_files"
    assert json.loads(calls[1]["arguments"]) == {} and calls[1]["id"] and calls[0]["id"] != calls[1]["id"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert not any("usage" in c for c in chunks)


def test_openai_include_usage_and_reasoning_field(llm: FakeLLM) -> None:
    llm.enqueue(Reply([Think("why"), Text("ok")], usage=(7, 2), reasoning_field="reasoning"))
    body = {"model": MODEL, "stream": True, "stream_options": {"include_usage": True}}
    events = sse_events(llm, body)
    assert events[-1] == "[DONE]"
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
    assert events[-3]["choices"][0]["finish_reason"] == "stop"
    assert any(e["choices"] and e["choices"][0]["delta"].get("reasoning") == "why" for e in events[:-1])


def test_non_streaming_bodies(llm: FakeLLM) -> None:
    llm.enqueue(
        Reply([Think("t"), Text("a"), Text("b"), ToolCall("read_file", {"path": "x"}, id="c1")]),
        Reply([Text("plain")]),
    )
    msg = httpx.post(llm.url + "/v1/chat/completions", json={"model": MODEL}).json()["choices"][0]
    assert msg["finish_reason"] == "tool_calls"
    assert msg["message"]["content"] == "ab" and msg["message"]["reasoning_content"] == "t"
    fn = {"name": "read_file", "arguments": '{"path": "x"}'}
    assert msg["message"]["tool_calls"][0] == {"id": "c1", "type": "function", "function": fn}
    out = httpx.post(llm.url + "/api/chat", json={"model": MODEL, "stream": False}).json()
    assert out["message"]["content"] == "plain" and out["done"] is True and out["eval_count"] == 1


def test_drop_after_ends_stream_early(llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text("a"), Text("b"), Text("c")], drop_after=1))
    got: list[dict[str, Any]] = []
    try:
        with httpx.stream("POST", llm.url + "/api/chat", json={"model": MODEL}, timeout=5) as r:
            got.extend(json.loads(line) for line in r.iter_lines() if line)
    except httpx.RemoteProtocolError:
        pass
    assert [c["message"]["content"] for c in got] == ["a"]
    assert llm.disconnects == 0  # our own drop is not a client disconnect


@pytest.mark.parametrize("openai", [False, True])
def test_error_after_writes_error_line(llm: FakeLLM, openai: bool) -> None:
    llm.enqueue(Reply([Text("part")], error_after=1, error_message="CUDA out of memory"))
    if openai:
        events = sse_events(llm, {"model": MODEL, "stream": True})
        assert events[-1] == {"error": {"message": "CUDA out of memory", "type": "server_error"}}
    else:
        lines = ollama_lines(llm, {"model": MODEL})
        assert lines == [lines[0], {"error": "CUDA out of memory"}]


async def test_client_close_mid_stream_counts_disconnect(llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text("a"), Text("b")], stall_after=1, stall_seconds=30))
    async with httpx.AsyncClient(timeout=5) as client:
        async with client.stream("POST", llm.url + "/api/chat", json={"model": MODEL}) as r:
            async for line in r.aiter_lines():
                assert json.loads(line)["message"]["content"] == "a"
                break
        t0 = time.monotonic()
    assert await asyncio.to_thread(llm.wait_disconnect, 1.0)
    assert time.monotonic() - t0 < 1.0 and llm.disconnects == 1


def test_http_error_times_then_success(llm: FakeLLM) -> None:
    llm.enqueue(HttpError(503, times=2, headers={"Retry-After": "0"}), Reply([Text("fine")]))
    with httpx.Client(base_url=llm.url) as client:
        for _ in range(2):
            r = client.post("/api/chat", json={"model": MODEL, "stream": False})
            assert r.status_code == 503 and "error" in r.json() and r.headers["retry-after"] == "0"
        r = client.post("/api/chat", json={"model": MODEL, "stream": False})
        assert r.status_code == 200 and r.json()["message"]["content"] == "fine"
    llm.enqueue(HttpError(429, "slow down"))
    r = httpx.post(llm.url + "/v1/chat/completions", json={"model": MODEL})
    assert r.status_code == 429 and r.text == "slow down"


def test_unknown_model_and_no_tools_do_not_consume_queue(llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text("queued")]))
    r = httpx.post(llm.url + "/api/chat", json={"model": "nope"})
    assert r.status_code == 404 and r.json() == {"error": 'model "nope" not found, try pulling it first'}
    r = httpx.post(llm.url + "/v1/chat/completions", json={"model": "nope", "stream": True})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    tools = [{"type": "function", "function": {"name": "f"}}]
    r = httpx.post(llm.url + "/api/chat", json={"model": "qwen2.5-coder:7b", "tools": tools})
    assert r.status_code == 400 and "does not support tools" in r.json()["error"]
    assert ollama_lines(llm, {"model": MODEL})[0]["message"]["content"] == "queued"


def test_keep_alive_and_recorded_headers(llm: FakeLLM) -> None:
    with httpx.Client(base_url=llm.url, headers={"Authorization": "Bearer sk-test"}) as client:
        assert client.post("/api/chat", json={"model": MODEL, "stream": False}).status_code == 200
        assert client.post("/v1/chat/completions", json={"model": MODEL}).status_code == 200
    assert llm.connections == 1
    assert [r.path for r in llm.chat_requests] == ["/api/chat", "/v1/chat/completions"]
    assert llm.requests[0].headers["authorization"] == "Bearer sk-test"


def test_listing_endpoints(llm: FakeLLM) -> None:
    with httpx.Client(base_url=llm.url) as client:
        tags = client.get("/api/tags").json()["models"]
        assert [m["name"] for m in tags] == [MODEL, "qwen2.5-coder:7b"]
        assert client.get("/api/version").json() == {"version": "0.12.0"}
        caps = [client.post("/api/show", json={"model": m}).json()["capabilities"] for m in llm.models]
        assert caps == [["completion", "tools"], ["completion"]]
        assert client.post("/api/show", json={"model": "nope"}).status_code == 404
        assert [m["id"] for m in client.get("/v1/models").json()["data"]] == [MODEL, "qwen2.5-coder:7b"]
        assert client.get("/nowhere").status_code == 404
        llm.models.append("new:1b")
        assert client.get("/v1/models").json()["data"][-1]["id"] == "new:1b"


def test_raw_chunks_and_reset(llm: FakeLLM) -> None:
    llm.enqueue(Raw([b'{"message": {"con', b'tent": "x"}}\n', b"not json\n"]))
    with httpx.stream("POST", llm.url + "/api/chat", json={"model": MODEL}) as r:
        assert r.read() == b'{"message": {"content": "x"}}\nnot json\n'
    llm.enqueue(Reply([Text("never")]))
    llm.reset()
    assert llm.requests == [] and llm.disconnects == 0
    assert ollama_lines(llm, {"model": MODEL})[0]["message"]["content"] == "Hello from the fake."


def test_stop_does_not_hang_with_open_stream() -> None:
    llm = FakeLLM().start()
    llm.enqueue(Reply([Text("a"), Text("b")], stall_after=1, stall_seconds=30))
    with httpx.stream("POST", llm.url + "/api/chat", json={"model": MODEL}, timeout=5) as r:
        lines = r.iter_lines()
        next(lines)
        t0 = time.monotonic()
        llm.stop()
        assert time.monotonic() - t0 < 2.0
        with pytest.raises(httpx.HTTPError):
            list(lines)
    assert llm.disconnects == 0
