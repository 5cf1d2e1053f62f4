"""Tool calls over ACP: tool_call / tool_call_update, permissions (allow, deny, allow always, dismissed),
writes through fs/write_text_file or to disk with the diff, reads of unsaved buffers."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

from .conftest import RecordingClient, capabilities, run_agent


def write_call(path: str, content: str) -> Reply:
    return Reply([ToolCall("write_file", {"path": path, "content": content})])


async def test_a_read_runs_unasked_with_its_kind_title_and_location(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    (workspace / "main.py").write_text("print('hi')\n")
    llm.enqueue(
        Reply([Text("Looking. "), ToolCall("read_file", {"path": "main.py", "startLine": 1})]),
        Reply([ToolCall("search_files", {"pattern": "print"})]),
        Reply([Text("It prints hi.")]),
    )
    async with run_agent(tmp_path, workspace, llm) as agent:
        session = await agent.new_session()
        result = await agent.prompt(session, "what does main.py do?")
    assert result.stop_reason == "end_turn"
    client = agent.client
    assert not client.permissions
    read, search = client.calls().values()
    start = read["start"]
    assert (start.kind, start.title, start.status) == ("read", "Read main.py (lines 1–end)", "pending")
    assert start.locations[0].path == str(workspace / "main.py") and start.locations[0].line == 1
    assert start.raw_input == {"path": "main.py", "startLine": 1}
    assert read["statuses"] == ["pending", "in_progress", "completed"]
    assert "print('hi')" in read["content"][0].content.text
    assert search["start"].kind == "search" and search["start"].title == "Search for “print”"
    assert search["statuses"][-1] == "completed"
    assert client.text() == "Looking. It prints hi."
    kinds = client.kinds()
    assert kinds.index("tool_call") > kinds.index("agent_message_chunk")


async def test_permission_allowed_once_then_asked_again(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    llm.enqueue(write_call("a.txt", "A\n"), write_call("b.txt", "B\n"), Reply([Text("done")]))
    client = RecordingClient(answers=["allow_once", "allow_once"])
    async with run_agent(tmp_path, workspace, llm, client=client) as agent:
        session = await agent.new_session()
        assert (await agent.prompt(session, "write two files")).stop_reason == "end_turn"
    assert (workspace / "a.txt").read_text() == "A\n" and (workspace / "b.txt").read_text() == "B\n"
    assert len(client.permissions) == 2
    tool_call, options = client.permissions[0]
    assert [o.kind for o in options] == ["allow_once", "allow_always", "reject_once"]
    first_id = next(iter(client.calls()))
    assert tool_call.tool_call_id == first_id
    assert "a.txt" in tool_call.content[0].content.text
    # the permission request comes after the tool_call it is about, never before
    assert client.order.index(f"permission:{first_id}") > client.order.index("update:tool_call")
    for call in client.calls().values():
        assert call["statuses"] == ["pending", "in_progress", "completed"]
        assert call["start"].kind == "edit"


async def test_permission_denied_and_dismissed(tmp_path: Path, workspace: Path, llm: FakeLLM) -> None:
    llm.enqueue(write_call("a.txt", "A\n"), write_call("b.txt", "B\n"), Reply([Text("ok, I won't")]))
    client = RecordingClient(answers=["reject_once", None])
    async with run_agent(tmp_path, workspace, llm, client=client) as agent:
        session = await agent.new_session()
        assert (await agent.prompt(session, "write two files")).stop_reason == "end_turn"
    assert not (workspace / "a.txt").exists() and not (workspace / "b.txt").exists()
    for call in client.calls().values():
        assert call["statuses"] == ["pending", "failed"]
        assert "denied" in call["content"][-1].content.text
    tool_results = [m for m in llm.chat_requests[-1].json["messages"] if m["role"] == "tool"]
    assert all("denied" in m["content"] for m in tool_results)


async def test_allow_always_is_remembered_for_the_session(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    llm.enqueue(write_call("a.txt", "A\n"), write_call("b.txt", "B\n"), Reply([Text("done")]))
    llm.enqueue(write_call("c.txt", "C\n"), Reply([Text("done again")]))
    llm.enqueue(write_call("d.txt", "D\n"), Reply([Text("new session")]))
    client = RecordingClient(answers=["allow_always", "reject_once"])
    async with run_agent(tmp_path, workspace, llm, client=client) as agent:
        session = await agent.new_session()
        await agent.prompt(session, "write two files")
        await agent.prompt(session, "and one more")
        assert len(client.permissions) == 1, "asked once, then allowed for the session"
        other = await agent.new_session()
        await agent.prompt(other, "in another session")
    assert len(client.permissions) == 2, "another session asks again"
    assert [p.name for p in sorted(workspace.iterdir())] == ["a.txt", "b.txt", "c.txt"]


async def test_a_write_goes_through_the_client_with_its_diff(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    (workspace / "main.py").write_text("x = 1\n")
    llm.enqueue(
        Reply([ToolCall("edit_file", {"path": "main.py", "oldText": "x = 1", "newText": "x = 2"})]),
        Reply([Text("changed")]),
    )
    client = RecordingClient(answers=["allow_once"])
    caps = capabilities(read=False, write=True)
    async with run_agent(tmp_path, workspace, llm, client=client, caps=caps) as agent:
        session = await agent.new_session()
        await agent.prompt(session, "set x to 2")
    assert client.writes == [(str(workspace / "main.py"), "x = 2\n")]
    assert (workspace / "main.py").read_text() == "x = 1\n", "the client wrote it, not Ryan"
    (call,) = client.calls().values()
    diff = call["content"][0]
    assert (diff.type, diff.path, diff.old_text, diff.new_text) == (
        "diff",
        str(workspace / "main.py"),
        "x = 1\n",
        "x = 2\n",
    )
    assert call["statuses"][-1] == "completed"


async def test_a_write_goes_to_disk_when_the_client_cannot(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    llm.enqueue(write_call("new/notes.md", "# Notes\n"), Reply([Text("written")]))
    client = RecordingClient(answers=["allow_once"])
    async with run_agent(tmp_path, workspace, llm, client=client) as agent:
        session = await agent.new_session()
        await agent.prompt(session, "write notes")
    assert client.writes == []
    assert (workspace / "new" / "notes.md").read_text() == "# Notes\n"
    (call,) = client.calls().values()
    diff = call["content"][0]
    assert (diff.type, diff.old_text, diff.new_text) == ("diff", None, "# Notes\n")
    assert call["start"].title == "Write new/notes.md"


async def test_a_write_the_client_refuses_fails_the_call(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    llm.enqueue(write_call("a.txt", "A\n"), Reply([Text("it refused")]))
    client = RecordingClient(answers=["allow_once"], refuse_writes=True)
    async with run_agent(tmp_path, workspace, llm, client=client, caps=capabilities(write=True)) as agent:
        session = await agent.new_session()
        assert (await agent.prompt(session, "write")).stop_reason == "end_turn"
    (call,) = client.calls().values()
    assert call["statuses"][-1] == "failed"
    assert "read-only" in call["content"][-1].content.text
    assert not (workspace / "a.txt").exists()


async def test_a_linked_file_is_read_from_the_clients_buffer(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    from acp import resource_link_block

    path = workspace / "draft.py"
    path.write_text("saved = 1\n")
    client = RecordingClient(buffers={str(path): "unsaved = 2\n"})
    llm.enqueue(Reply([Text("ok")]))
    async with run_agent(tmp_path, workspace, llm, client=client, caps=capabilities(read=True)) as agent:
        session = await agent.new_session()
        await agent.prompt(session, "look at ", resource_link_block("draft.py", path.as_uri()))
    sent = llm.chat_requests[-1].json["messages"][-1]["content"]
    assert "unsaved = 2" in sent and "saved = 1" not in sent
    assert client.reads == [str(path)]


async def test_tools_read_the_clients_unsaved_buffer(tmp_path: Path, workspace: Path, llm: FakeLLM) -> None:
    path = workspace / "main.py"
    path.write_text("on_disk = 1\n")
    client = RecordingClient(answers=["allow_once"], buffers={str(path): "in_buffer = 1\n"})
    llm.enqueue(
        Reply([ToolCall("read_file", {"path": "main.py"})]),
        Reply([ToolCall("edit_file", {"path": "main.py", "oldText": "in_buffer", "newText": "edited"})]),
        Reply([Text("done")]),
    )
    caps = capabilities(read=True, write=True)
    async with run_agent(tmp_path, workspace, llm, client=client, caps=caps) as agent:
        session = await agent.new_session()
        await agent.prompt(session, "edit the buffer")
    read, edit = client.calls().values()
    assert "in_buffer = 1" in read["content"][-1].content.text
    assert client.writes == [(str(path), "edited = 1\n")]
    assert edit["content"][0].old_text == "in_buffer = 1\n"


async def test_a_delete_is_asked_as_a_delete_and_happens_on_disk(
    tmp_path: Path, workspace: Path, llm: FakeLLM
) -> None:
    (workspace / "old.txt").write_text("bye\n")
    llm.enqueue(Reply([ToolCall("delete_file", {"path": "old.txt"})]), Reply([Text("deleted")]))
    client = RecordingClient(answers=["allow_once"])
    async with run_agent(tmp_path, workspace, llm, client=client) as agent:
        session = await agent.new_session()
        assert (await agent.prompt(session, "delete old.txt")).stop_reason == "end_turn"
    assert not (workspace / "old.txt").exists()
    (call,) = client.calls().values()
    assert (call["start"].kind, call["start"].title) == ("delete", "Delete old.txt")
    assert call["statuses"] == ["pending", "in_progress", "completed"]
