"""`ryan/chat` end to end: streaming events, coalescing, sessions, thinking, usage, both providers."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM, Raw, Reply, Text, Think

from .conftest import Chat, configure, request


def assert_invariants(chat: Chat, result: dict[str, Any]) -> None:
    assert chat.kinds()[0] == "start"
    assert chat.text("content") == result["content"]
    assert chat.text("thinking") == result["thinking"]


async def test_initialize_advertises_ryan(client: LanguageClient) -> None:
    result = client.init_result  # type: ignore[attr-defined]
    assert result.server_info.name == "ryan-server"
    assert result.server_info.version
    ryan = result.capabilities.experimental["ryan"]
    assert ryan["protocolVersion"] == 1
    assert ryan["providers"] == ["ollama", "openai", "embedded"]
    assert set(ryan["tools"]) == {
        "list_files",
        "read_file",
        "search_files",
        "write_file",
        "edit_file",
        "delete_file",
        "run_command",
    }


async def test_streams_answer_in_order(client: LanguageClient, llm: FakeLLM) -> None:
    words = [f"word{i} " for i in range(30)]
    llm.enqueue(Reply([Think("let me think "), *[Text(w) for w in words]], delay=0.01))
    chat = Chat(client, {"prompt": "Say thirty words"})
    result = await chat.result()
    assert result["content"] == "".join(words)
    assert result["thinking"] == "let me think "
    assert result["stopReason"] == "stop"
    assert result["model"] == "llama3.2:latest"
    assert_invariants(chat, result)
    start = chat.events[0]
    assert start == {"kind": "start", "sessionId": result["sessionId"], "model": "llama3.2:latest"}
    # the answer arrived in several notifications while it was generated, not all at the end
    assert chat.kinds().count("content") >= 3
    assert result["usage"] == {
        "promptTokens": 12,
        "completionTokens": 31,
        "contextWindow": 8192,  # the model's, from /api/show
        "contextUsed": 43,
    }
    timing = result["timing"]
    assert timing["firstTokenMs"] > 0 and timing["totalMs"] >= timing["firstTokenMs"]
    assert timing["tokensPerSecond"] > 0


async def test_coalescing_first_delta_at_once_then_throttled(client: LanguageClient, llm: FakeLLM) -> None:
    await configure(client, {"streaming": {"updateIntervalMs": 150}})
    llm.enqueue(Reply([Text(f"{i},") for i in range(60)], first_delay=0.05, delay=0.005))
    chat = Chat(client, {"prompt": "count"})
    result = await chat.result()
    content_events = [e for e in chat.events if e["kind"] == "content"]
    assert content_events[0]["text"] == "0,"  # the first delta is not held back
    # 60 deltas over ~0.3 s at most one notification per 150 ms: a handful, not sixty
    assert 2 <= len(content_events) <= 6
    assert "".join(e["text"] for e in content_events) == result["content"]
    times = client.event_times[chat.token]  # type: ignore[attr-defined]
    content_times = [t for t, e in zip(times, chat.events, strict=True) if e["kind"] == "content"]
    gaps = [b - a for a, b in itertools.pairwise(content_times)]
    assert all(gap > 0.1 for gap in gaps), gaps


async def test_paused_stream_still_flushes(client: LanguageClient, llm: FakeLLM) -> None:
    """Text buffered by the coalescer is sent when the model pauses, not only at the end."""
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"ryan": {"streaming": {"updateIntervalMs": 100}}})
    )
    # the model stalls for 3 s after "abc": the text must arrive well before (slack for a busy machine)
    llm.enqueue(Reply([Text("a"), Text("b"), Text("c")], delay=0.01, stall_after=3, stall_seconds=3.0))
    chat = Chat(client, {"prompt": "pause"})
    await chat.wait_for(lambda: chat.text() == "abc", timeout=2.5)
    await chat.result()


async def test_session_continues_with_history(client: LanguageClient, llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text("Paris.")]), Reply([Text("About 2 million.")]))
    first = await Chat(client, {"prompt": "Capital of France?"}).result()
    second_chat = Chat(client, {"prompt": "How many people live there?", "sessionId": first["sessionId"]})
    second = await second_chat.result()
    assert second["sessionId"] == first["sessionId"]
    messages = llm.chat_requests[-1].json["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "Capital of France?"
    assert messages[2]["content"] == "Paris."
    assert messages[3]["content"] == "How many people live there?"

    listed = await request(client, "ryan/sessions")
    assert [s["sessionId"] for s in listed["sessions"]] == [first["sessionId"]]
    assert listed["sessions"][0]["title"] == "Capital of France?"
    assert listed["sessions"][0]["messageCount"] == 4
    transcript = await request(client, "ryan/session", {"sessionId": first["sessionId"]})
    assert [(m["role"], m["content"], m["status"]) for m in transcript["messages"]] == [
        ("user", "Capital of France?", "complete"),
        ("assistant", "Paris.", "complete"),
        ("user", "How many people live there?", "complete"),
        ("assistant", "About 2 million.", "complete"),
    ]
    assert await request(client, "ryan/deleteSession", {"sessionId": first["sessionId"]}) is None
    assert (await request(client, "ryan/sessions"))["sessions"] == []


async def test_context_reaches_the_model(client: LanguageClient, llm: FakeLLM, workspace: Path) -> None:
    uri = (workspace / "app.py").as_uri()
    params = {
        "prompt": "What does this do?",
        "context": [
            {
                "uri": uri,
                "range": {"start": {"line": 9, "character": 0}, "end": {"line": 11, "character": 0}},
                "text": "def add(a, b):\n    return a + b\n",
            }
        ],
    }
    await Chat(client, params).result()
    user = llm.chat_requests[-1].json["messages"][-1]["content"]
    assert user.startswith("What does this do?")
    assert "def add(a, b):" in user and "app.py (lines 10-11):" in user  # lines 10-11: the end is exclusive


async def test_model_override_and_options_and_think(client: LanguageClient, llm: FakeLLM) -> None:
    await configure(client, {"options": {"temperature": 0.2, "num_ctx": 4096}, "think": True})
    result = await Chat(client, {"prompt": "hi", "model": "qwen2.5-coder:7b"}).result()
    assert result["model"] == "qwen2.5-coder:7b"
    body = llm.chat_requests[-1].json
    assert body["model"] == "qwen2.5-coder:7b"
    assert body["options"] == {"temperature": 0.2, "num_ctx": 4096}
    assert body["think"] is True
    assert body["stream"] is True


async def test_openai_provider_streams_reasoning_and_usage(client: LanguageClient, llm: FakeLLM) -> None:
    await configure(client, {"provider": "openai", "baseUrl": llm.url + "/v1", "apiKey": "sk-test-123"})
    llm.enqueue(Reply([Think("considering "), Text("Hi "), Text("there")], reasoning_field="reasoning"))
    chat = Chat(client, {"prompt": "hello"})
    result = await chat.result()
    assert result["content"] == "Hi there"
    assert result["thinking"] == "considering "
    assert result["usage"] == {
        "promptTokens": 12,
        "completionTokens": 3,
        "contextWindow": 8192,  # llama.cpp's /props
        "contextUsed": 15,
    }
    assert_invariants(chat, result)
    recorded = llm.chat_requests[-1]
    assert recorded.path == "/v1/chat/completions"
    assert recorded.headers["authorization"] == "Bearer sk-test-123"
    assert recorded.json["stream_options"] == {"include_usage": True}


async def test_usage_estimated_when_backend_does_not_report(client: LanguageClient, llm: FakeLLM) -> None:
    await configure(client, {"provider": "openai", "baseUrl": llm.url + "/v1"})
    chunk = '{"choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":null}]}'
    events = [f"data: {chunk % w}\n\n".encode() for w in ("one ", "two ", "three")]
    done = b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    llm.enqueue(Raw([*events, done], content_type="text/event-stream"))
    result = await Chat(client, {"prompt": "count"}).result()
    assert result["content"] == "one two three"
    usage = result["usage"]
    assert usage | {"contextUsed": 0} == {
        "promptTokens": 0,
        "completionTokens": 3,
        "estimated": True,
        "contextWindow": 8192,
        "contextUsed": 0,
    }
    assert usage["contextUsed"] > 3  # estimated: the prompt as Ryan measures it, and the answer
    assert result["timing"]["tokensPerSecond"] > 0


async def test_non_streaming_setting(client: LanguageClient, llm: FakeLLM) -> None:
    await configure(client, {"streaming": {"enabled": False}})
    llm.enqueue(Reply([Text("all "), Text("at once")]))
    chat = Chat(client, {"prompt": "hi"})
    result = await chat.result()
    assert result["content"] == "all at once"
    assert llm.chat_requests[-1].json["stream"] is False
    assert_invariants(chat, result)


async def test_split_utf8_and_length_stop(client: LanguageClient, llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text("naïve "), Text("日本語 "), Text("🚀")], split_bytes=True, done_reason="length"))
    chat = Chat(client, {"prompt": "unicode"})
    result = await chat.result()
    assert result["content"] == "naïve 日本語 🚀"
    assert result["stopReason"] == "length"
    assert_invariants(chat, result)


async def test_work_done_progress(client: LanguageClient, llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text("ok")]))
    chat = Chat(client, {"prompt": "hi"}, work_done=True)
    await chat.result()  # the work-done `end` is sent before the response
    reports = client.work_done[chat.work_token]  # type: ignore[attr-defined]
    assert reports[0]["kind"] == "begin" and reports[0]["title"] == "Ryan: llama3.2:latest"
    assert any(r["kind"] == "report" and r.get("message") == "generating…" for r in reports)
    assert reports[-1]["kind"] == "end"


async def test_concurrent_chats_in_two_sessions_overlap(client: LanguageClient, llm: FakeLLM) -> None:
    llm.enqueue(
        Reply([Text(f"a{i} ") for i in range(10)], delay=0.05),
        Reply([Text(f"b{i} ") for i in range(10)], delay=0.05),
    )
    first = Chat(client, {"prompt": "first"})
    await first.wait_for(lambda: len(first.events) >= 2)
    second = Chat(client, {"prompt": "second"})
    await second.wait_for(lambda: len(second.events) >= 2)
    assert not first.future.done()  # both are streaming at the same time
    one, two = await first.result(), await second.result()
    assert one["sessionId"] != two["sessionId"]
    assert {one["content"], two["content"]} == {
        "".join(f"a{i} " for i in range(10)),
        "".join(f"b{i} " for i in range(10)),
    }


async def test_models_and_status(client: LanguageClient, llm: FakeLLM, tmp_path: Path) -> None:
    models = await request(client, "ryan/models")
    assert [m["name"] for m in models["models"]] == ["llama3.2:latest", "qwen2.5-coder:7b"]
    assert models["models"][0]["details"]["parameter_size"] == "3B"
    assert models["current"] == "llama3.2:latest"
    status = await request(client, "ryan/status")
    assert status == {
        "provider": "ollama",
        "baseUrl": llm.url,
        "reachable": True,
        "version": "0.12.0",
        "model": "llama3.2:latest",
        "history": {"path": str(tmp_path / "history.sqlite3"), "persistent": True},
        "mcp": [],
        "settingsErrors": [],
    }
