"""A stream that breaks off after the answer began is resumed: the model is asked to continue its
answer (a trailing assistant message), and the user gets the whole answer once, with one `resumed`."""

from __future__ import annotations

import pytest
from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

from .conftest import Chat, configure, request
from .test_errors import error_of

WORDS = [Text(f"w{i} ") for i in range(12)]
FULL = "".join(t.text for t in WORDS)


@pytest.fixture(params=["ollama", "openai"])
async def wire(request: pytest.FixtureRequest, client: LanguageClient, llm: FakeLLM) -> str:
    if request.param == "openai":
        await configure(client, {"provider": "openai", "baseUrl": llm.url + "/v1"})
    return str(request.param)


@pytest.mark.parametrize("how", ["dropped", "stalled"])
async def test_a_broken_stream_is_resumed_without_losing_or_doubling_text(
    client: LanguageClient, llm: FakeLLM, wire: str, how: str
) -> None:
    if how == "stalled":
        await configure(client, {"requestTimeout": 0.5})
        broken = Reply(WORDS, stall_after=5, stall_seconds=3)
    else:
        broken = Reply(WORDS, drop_after=5)
    llm.enqueue(broken, Reply(WORDS))
    chat = Chat(client, {"prompt": "count"})
    result = await chat.result()
    assert result["content"] == FULL == chat.text()
    resumed = [e for e in chat.events if e["kind"] == "resumed"]
    assert resumed == [{"kind": "resumed", "attempt": 1, "offset": len("w0 w1 w2 w3 w4 ")}]
    again = llm.chat_requests[-1].json["messages"]
    assert again[-1] == {"role": "assistant", "content": "w0 w1 w2 w3 w4 "}
    transcript = await request(client, "ryan/session", {"sessionId": result["sessionId"]})
    answer = transcript["messages"][-1]
    assert (answer["content"], answer["status"]) == (FULL, "complete")


async def test_a_tool_call_cut_off_with_the_stream_is_asked_again(
    client: LanguageClient, llm: FakeLLM, wire: str
) -> None:
    turn = [Text("Let me look. "), ToolCall("list_files", {})]
    llm.enqueue(Reply(turn, drop_after=1), Reply(turn), Reply([Text("Found it.")]))
    chat = Chat(client, {"prompt": "what is here?"})
    result = await chat.result()
    assert [e["kind"] for e in chat.events if e["kind"] in ("resumed", "toolCall", "toolResult")] == [
        "resumed",
        "toolCall",
        "toolResult",
    ]
    assert result["content"] == "Let me look. Found it."


async def test_breaking_more_often_than_resume_attempts_fails_with_everything_received(
    client: LanguageClient, llm: FakeLLM, wire: str
) -> None:
    await configure(client, {"streaming": {"resumeAttempts": 1}})
    llm.enqueue(Reply(WORDS, drop_after=3), Reply(WORDS, drop_after=3))
    chat = Chat(client, {"prompt": "count"})
    error = await error_of(chat)
    assert error.code == -32003
    received = "w0 w1 w2 w3 w4 w5 "  # three words, then three more from the continuation
    assert error.data["partialContent"] == received == chat.text()
    assert [e["attempt"] for e in chat.events if e["kind"] == "resumed"] == [1]
