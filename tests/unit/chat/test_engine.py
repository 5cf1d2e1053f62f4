"""The engine on its own: a scripted backend, the in-memory store and a fake editor (no sockets, no
subprocess). Each test is one thing a user would notice in a chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ryan_server.backends.base import Backend, ChatRequest, Delta, Done, ModelInfo, Text, ToolCall
from ryan_server.chat.engine import ChatEngine
from ryan_server.chat.types import ChatInput, ChatResult
from ryan_server.errors import BackendError, SessionBusy
from ryan_server.protocol import Content, Event, Start, ToolCallStarted, ToolResult
from ryan_server.settings import Settings
from ryan_server.store import BackgroundStore, MemoryStore
from ryan_server.tools import ToolRegistry, Workspace


@dataclass
class Pause:
    """Where a scripted turn stops and waits (until the chat is cancelled); `reached` is set then."""

    reached: asyncio.Event = field(default_factory=asyncio.Event)


Step = Delta | Pause | BaseException


class ScriptedBackend(Backend):
    """Plays one scripted list of steps per model turn and records what each turn was sent."""

    label = "the scripted backend"
    hint = "It has no server."

    def __init__(self, *turns: list[Step]) -> None:
        super().__init__("http://scripted.invalid", api_key=None, timeout=5)
        self.turns = list(turns)
        self.sent: list[list[dict[str, Any]]] = []

    def stream(self, request: ChatRequest) -> AsyncIterator[list[Delta]]:
        self.sent.append([dict(m) for m in request.messages])
        return self._play(self.turns.pop(0))

    async def _play(self, steps: list[Step]) -> AsyncIterator[list[Delta]]:
        for step in steps:
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, Pause):
                step.reached.set()
                await asyncio.Event().wait()
            else:
                yield [step]

    async def complete(self, request: ChatRequest) -> list[Delta]:
        raise AssertionError("these tests stream")

    async def list_models(self) -> list[ModelInfo]:
        return [ModelInfo("scripted")]

    async def version(self) -> str | None:
        return "1"


@dataclass
class Sink:
    events: list[Event] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)

    def event(self, event: Event) -> None:
        self.events.append(event)

    def status(self, message: str) -> None:
        self.statuses.append(message)

    def text(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, Content))


@dataclass
class FakeEditor:
    """Answers approval questions from `answers`, in order, and records the questions."""

    answers: list[str | None] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    async def request_approval(self, message: str, actions: Sequence[str]) -> str | None:
        self.asked.append(message)
        return self.answers.pop(0)

    async def apply_edit(self, path: Path, old_text: str | None, new_text: str | None) -> bool:
        return False  # the tools write to disk themselves

    async def open_text(self, path: Path) -> str | None:
        return None


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def engine_for(backend: ScriptedBackend, workspace: Path) -> ChatEngine:
    engine = ChatEngine(
        BackgroundStore(MemoryStore()),
        workspace=str(workspace),
        tools_factory=lambda settings, editor: ToolRegistry(
            Workspace([workspace]), editor, auto_approve=settings.tools.auto_approve
        ),
        backend_factory=lambda settings: backend,
    )
    engine.settings = Settings.model_validate({"model": "scripted", "streaming": {"updateIntervalMs": 0}})
    return engine


async def chat(
    engine: ChatEngine, prompt: str, editor: FakeEditor | None = None, **kw: Any
) -> tuple[ChatResult, Sink]:
    sink = Sink()
    result = await engine.chat(ChatInput(prompt=prompt, **kw), sink, editor or FakeEditor())
    return result, sink


async def test_a_turn_streams_its_text_and_is_kept_in_history(workspace: Path) -> None:
    backend = ScriptedBackend([Text("Hel"), Text("lo"), Done("stop", prompt_tokens=7, completion_tokens=2)])
    engine = engine_for(backend, workspace)
    result, sink = await chat(engine, "hi")
    assert sink.events[0] == Start(result.session_id, "scripted")
    assert sink.text() == result.content == "Hello"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.estimated) == (
        7,
        2,
        False,
    )
    _, messages = await engine.session(result.session_id)
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "hi", "complete"),
        ("assistant", "Hello", "complete"),
    ]
    follow_up = ScriptedBackend([Text("again"), Done("stop")])
    engine._backend_factory = lambda settings: follow_up
    engine.settings = engine.settings.model_copy(update={"request_timeout": 6})  # a new backend
    await chat(engine, "more", session_id=result.session_id)
    assert [m["content"] for m in follow_up.sent[0][1:]] == ["hi", "Hello", "more"]


async def test_a_tool_call_runs_and_its_result_goes_back_to_the_model(workspace: Path) -> None:
    (workspace / "notes.txt").write_text("the answer is 42\n")
    backend = ScriptedBackend(
        [ToolCall("c1", "read_file", {"path": "notes.txt"}), Done("tool_calls")],
        [Text("It says 42."), Done("stop")],
    )
    engine = engine_for(backend, workspace)
    result, sink = await chat(engine, "what do my notes say?")
    assert result.content == "It says 42."
    assert [(c.name, c.status) for c in result.tool_calls] == [("read_file", "ok")]
    kinds = [e.kind for e in sink.events if isinstance(e, ToolCallStarted | ToolResult)]
    assert kinds == ["toolCall", "toolResult"]
    tool_message = backend.sent[1][-1]
    assert tool_message["role"] == "tool" and "the answer is 42" in tool_message["content"]


async def test_a_denied_write_changes_nothing_and_the_model_is_told(workspace: Path) -> None:
    backend = ScriptedBackend(
        [ToolCall("c1", "write_file", {"path": "new.txt", "content": "x"}), Done("tool_calls")],
        [Text("Understood."), Done("stop")],
    )
    editor = FakeEditor(answers=["Deny"])
    _, sink = await chat(engine_for(backend, workspace), "make a file", editor)
    assert not (workspace / "new.txt").exists()
    assert len(editor.asked) == 1 and editor.asked[0].startswith("write_file:")
    results = [e for e in sink.events if isinstance(e, ToolResult)]
    assert [r.status for r in results] == ["denied"]
    assert "denied" in backend.sent[1][-1]["content"]


async def test_allow_for_session_is_per_tool_and_per_session(workspace: Path) -> None:
    (workspace / "a.txt").write_text("one\n")

    def write(call_id: str, name: str, args: dict[str, Any]) -> list[Step]:
        return [ToolCall(call_id, name, args), Done("tool_calls")]

    backend = ScriptedBackend(
        write("c1", "write_file", {"path": "b.txt", "content": "b"}),
        write("c2", "write_file", {"path": "c.txt", "content": "c"}),
        write("c3", "edit_file", {"path": "a.txt", "oldText": "one", "newText": "two"}),
        [Text("done"), Done("stop")],
        write("c4", "write_file", {"path": "d.txt", "content": "d"}),
        [Text("done"), Done("stop")],
    )
    engine = engine_for(backend, workspace)
    editor = FakeEditor(answers=["Allow for session", "Allow"])
    await chat(engine, "write twice, then edit", editor)
    # asked for the first write_file, not the second; edit_file is another tool: asked again
    assert [q.split(":")[0] for q in editor.asked] == ["write_file", "edit_file"]
    assert (workspace / "c.txt").read_text() == "c" and (workspace / "a.txt").read_text() == "two\n"
    editor = FakeEditor(answers=["Deny"])
    await chat(engine, "a new session", editor)
    assert [q.split(":")[0] for q in editor.asked] == ["write_file"]  # a new session asks again
    assert not (workspace / "d.txt").exists()


async def test_cancelling_keeps_what_had_arrived_marked_interrupted(workspace: Path) -> None:
    pause = Pause()
    backend = ScriptedBackend([Text("partial "), Text("answer"), pause], [Text("ok"), Done("stop")])
    engine = engine_for(backend, workspace)
    sink = Sink()
    task = asyncio.create_task(engine.chat(ChatInput(prompt="go"), sink, FakeEditor()))
    await asyncio.wait_for(pause.reached.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.text() == "partial answer"
    session_id = sink.events[0].session_id  # type: ignore[union-attr]
    _, messages = await engine.session(session_id)
    assert [(m.role, m.content, m.status) for m in messages][-1] == (
        "assistant",
        "partial answer",
        "interrupted",
    )
    result, _ = await chat(engine, "again", session_id=session_id)  # the session is free again
    assert result.session_id == session_id


async def test_a_failure_mid_answer_keeps_the_partial_text(workspace: Path) -> None:
    backend = ScriptedBackend([Text("so far"), BackendError("Ollama ended the stream early.")])
    engine = engine_for(backend, workspace)
    sink = Sink()
    with pytest.raises(BackendError) as failure:
        await engine.chat(ChatInput(prompt="go"), sink, FakeEditor())
    assert failure.value.code == -32003
    assert failure.value.data["partialContent"] == "so far"
    session_id = sink.events[0].session_id  # type: ignore[union-attr]
    _, messages = await engine.session(session_id)
    assert (messages[-1].content, messages[-1].status) == ("so far", "error")


async def test_a_second_chat_in_a_busy_session_is_refused(workspace: Path) -> None:
    pause = Pause()
    backend = ScriptedBackend([Text("first"), Done("stop")], [Text("slow"), pause])
    engine = engine_for(backend, workspace)
    first, _ = await chat(engine, "one")
    task = asyncio.create_task(
        engine.chat(ChatInput(prompt="two", session_id=first.session_id), Sink(), FakeEditor())
    )
    await asyncio.wait_for(pause.reached.wait(), 5)
    with pytest.raises(SessionBusy):
        await chat(engine, "three", session_id=first.session_id)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
