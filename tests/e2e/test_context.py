"""The model's real context window: learned from the backend, sized for Ollama (`num_ctx`), shown in
`usage`, and never overflowed: older turns are left out first, and a prompt that cannot fit is refused
with a message that says what to raise."""

from __future__ import annotations

from pathlib import Path

from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

from .conftest import Chat, configure
from .test_errors import error_of


async def test_num_ctx_fits_the_conversation_and_stays_while_it_fits(
    client: LanguageClient, llm: FakeLLM
) -> None:
    llm.context_length = 32768
    result = await Chat(client, {"prompt": "hi"}).result()
    for prompt in ("again", "once more"):
        await Chat(client, {"prompt": prompt, "sessionId": result["sessionId"]}).result()
    await Chat(client, {"prompt": "long " * 2500, "sessionId": result["sessionId"]}).result()  # ~3,100 tokens
    await Chat(client, {"prompt": "short again", "sessionId": result["sessionId"]}).result()
    sizes = [r.json["options"]["num_ctx"] for r in llm.chat_requests]
    assert sizes == [4096, 4096, 4096, 8192, 8192]  # raised when needed (with room to answer), then kept


async def test_the_context_length_setting_caps_the_window(client: LanguageClient, llm: FakeLLM) -> None:
    await configure(client, {"contextLength": 4096})
    result = await Chat(client, {"prompt": "hi"}).result()
    assert result["usage"]["contextWindow"] == 4096
    assert 0 < result["usage"]["contextUsed"] < 4096


async def test_num_ctx_the_user_set_is_left_alone(client: LanguageClient, llm: FakeLLM) -> None:
    await configure(client, {"options": {"num_ctx": 3000}})
    result = await Chat(client, {"prompt": "hi"}).result()
    assert llm.chat_requests[-1].json["options"]["num_ctx"] == 3000
    assert result["usage"]["contextWindow"] == 3000


async def test_trimming_keeps_tool_calls_with_their_results(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    await configure(client, {"contextLength": 2048})  # 1,536 tokens for the prompt
    (workspace / "a.txt").write_text("alpha\n")
    llm.enqueue(Reply([ToolCall("read_file", {"path": "a.txt"})]), Reply([Text("read it")]))
    first = await Chat(client, {"prompt": "read a.txt"}).result()
    for i in range(4):  # about 500 tokens a turn
        await Chat(client, {"prompt": f"turn {i} " + "word " * 400, "sessionId": first["sessionId"]}).result()
    sent = llm.chat_requests[-1].json["messages"]
    assert sent[0]["role"] == "system" and sent[1]["role"] == "user"
    assert not any(m.get("content") == "read a.txt" for m in sent)  # the oldest turn went
    for i, m in enumerate(sent):  # every tool result still follows its call
        if m["role"] == "tool":
            assert sent[i - 1]["role"] in ("assistant", "tool")
    assert sent[-1]["content"].startswith("turn 3 ")


async def test_a_prompt_that_cannot_fit_is_refused_with_what_to_raise(
    client: LanguageClient, llm: FakeLLM
) -> None:
    await configure(client, {"contextLength": 1024})
    error = await error_of(Chat(client, {"prompt": "huge " * 2000}))
    assert error.code == -32003
    assert "context window of 1024 tokens" in error.message and "contextLength" in error.message
    assert llm.chat_requests == []  # nothing was sent to be cut by the model server
