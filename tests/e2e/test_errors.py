"""Failures end to end: every error code, retry, fallback, cancellation, bad settings, bad JSON-RPC."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM, HttpError, Raw, Reply, Text

from .conftest import Chat, base_settings, configure, make_client, request, settled, start


async def error_of(chat: Chat) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as caught:
        await chat.result()
    return caught.value


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_invalid_params(client: LanguageClient) -> None:
    for params, field in (
        ({}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": 5}, "prompt"),
        ({"prompt": "x", "context": [{"uri": "file:///a"}]}, "context.0.text"),
    ):
        error = await error_of(Chat(client, params))
        assert error.code == -32602
        assert field in error.message
    bad_session = await asyncio.gather(request(client, "ryan/session", {}), return_exceptions=True)
    assert isinstance(bad_session[0], JsonRpcException) and bad_session[0].code == -32602


async def test_a_refused_connection_fails_at_once(client: LanguageClient) -> None:
    """Nothing listening on a local port will not mend in seconds: no retries, the message at once."""
    url = f"http://127.0.0.1:{closed_port()}"
    await configure(client, {"baseUrl": url, "streaming": {"retryAttempts": 3, "retryDelayMs": 1000}})
    chat = Chat(client, {"prompt": "hi", "model": "llama3.2:latest"})
    started = time.perf_counter()
    error = await error_of(chat)
    assert time.perf_counter() - started < 0.9  # before the first retry's delay would have passed
    assert error.code == -32001
    assert f"Cannot connect to Ollama at {url} (connection refused)" in error.message
    assert "ollama serve" in error.message
    assert "retry" not in chat.kinds()
    status = await request(client, "ryan/status")
    assert status["reachable"] is False and "Cannot connect" in status["error"]
    models = await asyncio.gather(request(client, "ryan/models"), return_exceptions=True)
    assert isinstance(models[0], JsonRpcException) and models[0].code == -32001


async def test_model_not_found_lists_available(client: LanguageClient) -> None:
    error = await error_of(Chat(client, {"prompt": "hi", "model": "mistral:7b"}))
    assert error.code == -32002
    assert error.data["available"] == ["llama3.2:latest", "qwen2.5-coder:7b"]
    assert "ollama pull mistral:7b" in error.message and "llama3.2:latest" in error.message


async def test_no_models_at_all(client: LanguageClient, llm: FakeLLM) -> None:
    llm.models.clear()
    error = await error_of(Chat(client, {"prompt": "hi"}))
    assert error.code == -32002 and "ollama pull" in error.message


async def test_retry_then_success(client: LanguageClient, llm: FakeLLM) -> None:
    llm.enqueue(HttpError(503, times=2), Reply([Text("finally")]))
    chat = Chat(client, {"prompt": "hi"})
    result = await chat.result()
    assert result["content"] == "finally"
    assert [e["attempt"] for e in chat.events if e["kind"] == "retry"] == [1, 2]
    assert chat.kinds().index("retry") > chat.kinds().index("start")


async def test_http_error_after_retries_and_fallback(client: LanguageClient, llm: FakeLLM) -> None:
    llm.enqueue(HttpError(500, {"error": "CUDA out of memory"}, times=10))
    chat = Chat(client, {"prompt": "hi"})
    error = await error_of(chat)
    assert error.code == -32003
    assert "HTTP 500" in error.message and "CUDA out of memory" in error.message
    assert chat.kinds().count("retry") == 3 and chat.kinds().count("fallback") == 1
    assert error.data["partialContent"] == ""


@pytest.mark.parametrize("status, requests", [(400, 2), (401, 1)])
async def test_a_client_error_is_not_retried(
    client: LanguageClient, llm: FakeLLM, status: int, requests: int
) -> None:
    """4xx is not transient: no retry. A 400 may come from streaming options a server lacks, so it is
    asked once without streaming; a 401 cannot be fixed that way."""
    llm.enqueue(HttpError(status, {"error": "nope"}, times=10))
    chat = Chat(client, {"prompt": "hi"})
    error = await error_of(chat)
    assert error.code == -32003 and f"HTTP {status}" in error.message
    assert "retry" not in chat.kinds()
    assert len(llm.chat_requests) == requests


async def test_fallback_without_streaming(client: LanguageClient, llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text("never")], drop_after=0), Reply([Text("recovered answer")]))
    chat = Chat(client, {"prompt": "hi"})
    result = await chat.result()
    assert result["content"] == "recovered answer"
    assert chat.kinds() == ["start", "fallback", "content"]
    assert [r.json["stream"] for r in llm.chat_requests] == [True, False]


@pytest.mark.parametrize(
    "reply, words",
    [
        (
            Reply([Text("one "), Text("two "), Text("three")], error_after=2, error_message="model crashed"),
            "model crashed",
        ),
        (Reply([Text("one "), Text("two "), Text("three")], drop_after=2), "broke off"),
    ],
    ids=["error-line", "dropped"],
)
async def test_mid_stream_failure_keeps_partial(
    client: LanguageClient, llm: FakeLLM, reply: Reply, words: str
) -> None:
    await configure(client, {"streaming": {"resumeAttempts": 0}})  # resuming: tests/e2e/test_resume.py
    llm.enqueue(reply)
    chat = Chat(client, {"prompt": "count"})
    error = await error_of(chat)
    assert error.code == -32003 and words in error.message
    assert error.data["partialContent"] == "one two "
    assert chat.text() == "one two "
    session_id = chat.events[0]["sessionId"]
    transcript = await request(client, "ryan/session", {"sessionId": session_id})
    assert transcript["messages"][-1] | {"createdAt": None, "id": None} == {
        "id": None,
        "siblings": [transcript["messages"][-1]["id"]],
        "role": "assistant",
        "content": "one two ",
        "status": "error",
        "createdAt": None,
    }


async def test_malformed_line(client: LanguageClient, llm: FakeLLM) -> None:
    ok = b'{"model":"m","message":{"role":"assistant","content":"fine "},"done":false}\n'
    llm.enqueue(Raw([ok, b"<html>502 Bad Gateway</html>\n"]))
    error = await error_of(Chat(client, {"prompt": "hi"}))
    assert error.code == -32003 and "malformed" in error.message
    assert error.data["partialContent"] == "fine "


async def test_stall_longer_than_timeout(client: LanguageClient, llm: FakeLLM) -> None:
    await configure(client, {"requestTimeout": 0.5, "streaming": {"resumeAttempts": 0}})
    llm.enqueue(Reply([Text("slow "), Text("never")], stall_after=1, stall_seconds=3))
    error = await error_of(Chat(client, {"prompt": "hi"}))
    assert error.code == -32003 and "sent nothing for 0.5 s" in error.message
    assert error.data["partialContent"] == "slow "


async def test_cancel_stops_backend_and_keeps_partial(client: LanguageClient, llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text(f"t{i} ") for i in range(300)], delay=0.02))
    chat = Chat(client, {"prompt": "long answer"})
    await chat.wait_for(lambda: len(chat.text()) > 20)
    loop = asyncio.get_running_loop()
    cancelled_at = loop.time()
    chat.cancel()
    error = await error_of(chat)
    answered_at = loop.time()
    assert error.code == -32800
    assert answered_at - cancelled_at < 0.2
    assert llm.wait_disconnect(1.0), "the backend connection stayed open"
    seen = len(chat.events)
    times = client.event_times[chat.token]  # type: ignore[attr-defined]
    assert max(times) <= answered_at
    await settled(client)  # whatever the server sent for the chat has arrived by now
    assert len(chat.events) == seen, "progress arrived after the response"
    transcript = await request(client, "ryan/session", {"sessionId": chat.events[0]["sessionId"]})
    last = transcript["messages"][-1]
    assert last["role"] == "assistant" and last["status"] == "interrupted"
    assert last["content"].startswith(chat.text()) and len(last["content"]) > 20
    # the session is free again
    llm.enqueue(Reply([Text("next")]))
    result = await Chat(client, {"prompt": "again", "sessionId": chat.events[0]["sessionId"]}).result()
    assert result["content"] == "next"


async def test_busy_session_and_unknown_session(client: LanguageClient, llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text("x ")] * 100, delay=0.02))
    first = Chat(client, {"prompt": "long"})
    await first.wait_for(lambda: len(first.events) >= 2)
    session_id = first.events[0]["sessionId"]
    busy = await error_of(Chat(client, {"prompt": "again", "sessionId": session_id}))
    assert busy.code == -32004 and "busy" in busy.message
    first.cancel()
    await error_of(first)
    missing = await error_of(Chat(client, {"prompt": "hi", "sessionId": "no-such-session"}))
    assert missing.code == -32005
    for method in ("ryan/session", "ryan/deleteSession"):
        outcome = await asyncio.gather(request(client, method, {"sessionId": "nope"}), return_exceptions=True)
        assert isinstance(outcome[0], JsonRpcException) and outcome[0].code == -32005


async def test_invalid_settings_are_reported_and_valid_keys_apply(
    client: LanguageClient, llm: FakeLLM
) -> None:
    await configure(
        client,
        {
            "provider": "bogus",
            "model": "qwen2.5-coder:7b",
            "streaming": {"updateIntervalMs": -5},
            "requestTimeout": "soon",
        },
    )  # the error messages go out before the round trip's answer
    errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert any("ryan.provider" in m for m in errors)
    assert any("ryan.streaming.updateIntervalMs" in m for m in errors)
    assert any("ryan.requestTimeout" in m for m in errors)
    result = await Chat(client, {"prompt": "still working?"}).result()
    assert result["model"] == "qwen2.5-coder:7b"  # the valid key beside them took effect
    assert llm.chat_requests[-1].path == "/api/chat"  # provider kept its valid value


async def test_a_bad_setting_is_told_once_in_plain_words_and_listed_in_status(
    client: LanguageClient, llm: FakeLLM
) -> None:
    bad = {"baseUrl": "localhost:11434", "streaming": {"retryAttempts": 99}}
    await configure(client, bad)
    await configure(client, bad)  # the same settings again, as initializationOptions then configuration
    errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 2, errors
    assert not any("Value error" in m for m in errors)
    assert any("ryan.baseUrl: must start with http:// or https://" in m for m in errors)
    logged = [m.message for m in client.log_messages if m.type == types.MessageType.Error]
    assert not logged  # not a second time as an error in the log
    status = await request(client, "ryan/status")
    assert [e.split(":")[0] for e in status["settingsErrors"]] == [
        "ryan.baseUrl",
        "ryan.streaming.retryAttempts",
    ]
    await configure(client, {"baseUrl": llm.url, "streaming": {"retryAttempts": 1}})
    assert (await request(client, "ryan/status"))["settingsErrors"] == []


async def test_malformed_jsonrpc_does_not_kill_the_server(client: LanguageClient) -> None:
    writer = client.protocol.writer
    assert writer is not None
    for body in (
        b"{this is not json",
        b'{"jsonrpc": "2.0", "id": 99, "method": "ryan/chat", "params": 7}',
        b"[1, 2, 3]",
    ):
        writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    models = await request(client, "ryan/models")
    assert models["current"] == "llama3.2:latest"


async def test_api_key_never_logged(llm: FakeLLM, workspace: Path, tmp_path: Path) -> None:
    secret = "sk-very-secret-0123456789"
    log_file = tmp_path / "server.log"
    client = make_client()
    await client.start_io(sys.executable, "-m", "ryan_server", "-v", "--log-file", str(log_file))
    try:
        options = base_settings(llm, tmp_path) | {"apiKey": secret, "logLevel": "debug"}
        await start(client, "visual-studio-code", workspace, options)
        llm.enqueue(Reply([Text("ok")]), HttpError(401, {"error": f"bad key {secret}"}))
        await Chat(client, {"prompt": "hi"}).result()
        error = await error_of(Chat(client, {"prompt": "again"}))
        assert error.code == -32003 and "apiKey" in error.message
        assert llm.chat_requests[0].headers["authorization"] == f"Bearer {secret}"
        await client.shutdown_session()
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()
    text = log_file.read_text()
    assert "chat" in text  # the log is written, at debug level
    assert secret not in text
    assert all(secret not in m.message for m in client.log_messages)


async def test_waiting_for_a_silent_model_is_shown_with_the_seconds(client: LanguageClient) -> None:
    """A port that accepts and never answers: the status says so, counting, instead of silence."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        await configure(client, {"baseUrl": url, "requestTimeout": 1.5, "streaming": {"retryAttempts": 0}})
        chat = Chat(client, {"prompt": "hi", "model": "llama3.2:latest"}, work_done=True)
        error = await error_of(chat)
        assert "sent nothing for 1.5 s" in error.message
        reports = [v.get("message") for v in client.work_done[chat.work_token]]  # type: ignore[attr-defined]
        waited = [m for m in reports if m and m.startswith("waiting for the model")]
        assert waited[:3] == [
            "waiting for the model… 1 s",
            "waiting for the model… 2 s",
            "waiting for the model… 3 s",
        ]
    finally:
        silent.close()
