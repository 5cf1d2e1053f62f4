"""Sessions over ACP: session/cancel (within 200 ms, partial kept), session/load replaying history."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

from .conftest import Agent, RecordingClient, run_agent


async def wait_for(predicate: object, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_cancel_stops_the_turn_quickly_and_keeps_the_partial_answer(agent: Agent, llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text(f"t{i} ") for i in range(300)], delay=0.02))
    session = await agent.new_session()
    turn = asyncio.ensure_future(agent.prompt(session, "long answer"))
    await wait_for(lambda: len(agent.client.text()) > 20)
    loop = asyncio.get_running_loop()
    cancelled_at = loop.time()
    await agent.conn.cancel(session_id=session)
    result = await turn
    latency = loop.time() - cancelled_at
    print(f"cancel answered after {latency * 1000:.0f} ms")
    assert result.stop_reason == "cancelled"
    assert latency < 0.2
    assert llm.wait_disconnect(1.0), "the backend connection stayed open"
    seen = agent.client.text()
    # the partial answer is in history: the next turn sends it to the model
    llm.enqueue(Reply([Text("next")]))
    assert (await agent.prompt(session, "again")).stop_reason == "end_turn"
    messages = llm.chat_requests[-1].json["messages"]
    assert messages[-2]["role"] == "assistant" and messages[-2]["content"].startswith(seen)
    assert agent.client.text().endswith("next")


async def test_cancel_while_a_permission_is_asked(tmp_path: Path, workspace: Path, llm: FakeLLM) -> None:
    llm.enqueue(Reply([ToolCall("write_file", {"path": "a.txt", "content": "A"})]))
    client = RecordingClient(hold_permissions=True)
    async with run_agent(tmp_path, workspace, llm, client=client) as agent:
        session = await agent.new_session()
        turn = asyncio.ensure_future(agent.prompt(session, "write"))
        await wait_for(lambda: client.permissions)
        cancelled_at = asyncio.get_running_loop().time()
        await agent.conn.cancel(session_id=session)
        result = await turn
        assert asyncio.get_running_loop().time() - cancelled_at < 0.2
        assert result.stop_reason == "cancelled"
        (call,) = client.calls().values()
        assert call["statuses"] == ["pending", "failed"]
        assert not (workspace / "a.txt").exists()
        # the connection and the session still work
        llm.enqueue(Reply([Text("still here")]))
        assert (await agent.prompt(session, "hello?")).stop_reason == "end_turn"


async def test_load_replays_the_session_before_answering(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    (workspace / "main.py").write_text("print('hi')\n")
    llm.enqueue(
        Reply([Text("Reading. "), ToolCall("read_file", {"path": "main.py"})]),
        Reply([Text("It prints hi.")]),
    )
    llm.enqueue(Reply([Text("Second answer.")]))
    async with run_agent(tmp_path, workspace, llm) as first:
        session = await first.new_session()
        await first.prompt(session, "what does main.py do?")
        await first.prompt(session, "and then?")
    client = RecordingClient()
    async with run_agent(tmp_path, workspace, llm, client=client) as second:
        response = await second.conn.load_session(cwd=str(workspace), session_id=session, mcp_servers=[])
        replayed = list(client.kinds())
        assert replayed == [
            "user_message_chunk",
            "agent_message_chunk",
            "tool_call",
            "agent_message_chunk",
            "user_message_chunk",
            "agent_message_chunk",
        ]
        assert client.text("user_message_chunk") == "what does main.py do?and then?"
        assert client.text() == "Reading. It prints hi.Second answer."
        (call,) = client.of("tool_call")
        assert (call.status, call.kind, call.title) == ("completed", "read", "Read main.py")
        assert "print('hi')" in call.content[0].content.text
        assert response.config_options is not None
        # the loaded session goes on with its history
        llm.enqueue(Reply([Text("Third.")]))
        assert (await second.prompt(session, "more")).stop_reason == "end_turn"
        sent = llm.chat_requests[-1].json["messages"]
        assert [m["role"] for m in sent[1:]] == [
            "user",
            "assistant",
            "tool",
            "assistant",
            "user",
            "assistant",
            "user",
        ]


async def test_loading_an_unknown_session_is_an_error(agent: Agent) -> None:
    from acp import RequestError

    try:
        await agent.conn.load_session(cwd=str(agent.workspace), session_id="nope", mcp_servers=[])
    except RequestError as error:
        assert "There is no session 'nope'" in str(error)
        assert error.data["code"] == -32005
    else:
        raise AssertionError("loading an unknown session succeeded")


async def test_list_sessions_shows_the_folders_sessions(agent: Agent, llm: FakeLLM) -> None:
    llm.enqueue(Reply([Text("one")]), Reply([Text("two")]))
    first = await agent.new_session()
    await agent.prompt(first, "first")
    second = await agent.new_session()
    await agent.prompt(second, "second")
    listed = await agent.conn.list_sessions(cwd=str(agent.workspace))
    assert [s.session_id for s in listed.sessions] == [second, first]
    assert [s.title for s in listed.sessions] == ["second", "first"]  # named by their first prompts
    assert all(s.cwd == str(agent.workspace) for s in listed.sessions)
