"""`ryan` with a model that has no tool support: the server describes the tools in the prompt and reads
the model's calls from its answer text (docs/protocol.md, "Tool modes"). The user sees tool lines, the
approval and the answer, is told once that the tools are in the prompt, and never sees the call text.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pexpect
import pytest

from tests.e2e.client.conftest import Ryan
from tests.fakes.llm_server import FakeLLM, Reply, pieces

MODEL = "llama3.2:latest"  # the backend's first model: what `ryan` uses without --model
MARKERS = ("<tool_call>", "</tool_call>", "tool_call>", '"arguments"')
PROMPT = "you> "


def hermes(name: str, arguments: dict[str, Any]) -> str:
    """A tool call written as text, the Hermes/Qwen way."""
    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


def script_edit(llm: FakeLLM, old: str, new: str, answer: str, *, read_first: bool = True) -> None:
    """The model (without tool support) reads notes.txt, edits it, then answers: all as text, in pieces."""
    llm.no_tools.add(MODEL)
    replies = []
    if read_first:
        replies.append(Reply(pieces("Let me look.\n" + hermes("read_file", {"path": "notes.txt"}))))
    replies.append(Reply(pieces(hermes("edit_file", {"path": "notes.txt", "oldText": old, "newText": new}))))
    replies.append(Reply(pieces(answer)))
    llm.enqueue(*replies)


def assert_no_call_text(*outputs: str) -> None:
    for out in outputs:
        for marker in MARKERS:
            assert marker not in out, f"{marker!r} printed:\n{out}"


def assert_tools_went_in_the_prompt(llm: FakeLLM) -> None:
    last = llm.chat_requests[-1].json
    assert "tools" not in last
    system = last["messages"][0]["content"]
    assert "<tools>" in system and '"edit_file"' in system


@pytest.fixture(params=["ollama", "openai"])
def provider(request: pytest.FixtureRequest) -> str:
    """Ollama says up front (`/api/show`) that the model has no tools; an OpenAI-compatible server
    answers the first request that carries them with HTTP 400, and the server then falls back."""
    return str(request.param)


def provider_args(ryan: Ryan, provider: str) -> tuple[list[str], str]:
    if provider == "openai":
        return ["--provider", "openai"], ryan.llm.url + "/v1"
    return [], ryan.llm.url


def test_yes_reads_and_edits_through_text_calls(ryan: Ryan, provider: str) -> None:
    notes = ryan.workspace / "notes.txt"
    notes.write_text("buy milk\n")
    script_edit(ryan.llm, "milk", "bread", "Changed milk to bread.")
    flags, url = provider_args(ryan, provider)
    done = ryan.run("chat", "change milk to bread in my notes", "--yes", *flags, base_url=url)
    assert done.returncode == 0, done.stderr
    assert notes.read_text() == "buy bread\n"
    # stdout carries only the answer: the text around the calls, none of the calls
    assert done.stdout == "Let me look.\nChanged milk to bread.\n"
    err = done.stderr
    for line in (
        "⋯ read_file notes.txt",
        "✓ read_file notes.txt",
        "⋯ edit_file notes.txt",
        "✓ allowed (--yes): edit_file: Ryan wants to edit notes.txt",
        "✓ edit_file notes.txt",
    ):
        assert line in err, f"{line!r} not in stderr:\n{err}"
    assert err.index("⋯ read_file") < err.index("⋯ edit_file") < err.index("✓ edit_file")
    notices = [line for line in err.splitlines() if line.startswith("… ")]
    assert len(notices) == 1 and "in the prompt" in notices[0], err
    assert "Traceback" not in err
    assert_no_call_text(done.stdout, err)
    assert_tools_went_in_the_prompt(ryan.llm)


def test_json_content_has_no_call_text(ryan: Ryan, provider: str) -> None:
    notes = ryan.workspace / "notes.txt"
    notes.write_text("buy milk\n")
    script_edit(ryan.llm, "milk", "bread", "Changed milk to bread.")
    flags, url = provider_args(ryan, provider)
    done = ryan.run("chat", "change milk to bread in my notes", "--yes", "--json", *flags, base_url=url)
    assert done.returncode == 0, done.stderr
    assert notes.read_text() == "buy bread\n"
    events = [json.loads(line) for line in done.stdout.splitlines()]
    content = [e["text"] for e in events if e["kind"] == "content"]
    assert len(content) > 2, "streamed in pieces"
    assert_no_call_text(*content)
    assert "".join(content) == events[-1]["content"] == "Let me look.\nChanged milk to bread."
    calls = [e for e in events if e["kind"] == "toolCall"]
    assert [(c["name"], c["arguments"]) for c in calls] == [
        ("read_file", {"path": "notes.txt"}),
        ("edit_file", {"path": "notes.txt", "oldText": "milk", "newText": "bread"}),
    ]
    results = [(e["name"], e["status"]) for e in events if e["kind"] == "toolResult"]
    assert results == [("read_file", "ok"), ("edit_file", "ok")]
    (notice,) = [e for e in events if e["kind"] == "notice"]
    assert "in the prompt" in notice["message"]
    assert [c["status"] for c in events[-1]["toolCalls"]] == ["ok", "ok"]


def test_interactive_approval_of_text_calls(ryan: Ryan) -> None:
    """The chat REPL: the edit is allowed at the prompt; in the next turn of the same session another
    is denied; the notice comes once."""
    notes = ryan.workspace / "notes.txt"
    notes.write_text("buy milk\n")
    script_edit(ryan.llm, "milk", "bread", "Changed milk to bread.")
    script_edit(ryan.llm, "bread", "eggs", "Kept the bread.", read_first=False)
    child = ryan.spawn()
    seen = io.StringIO()
    child.logfile_read = seen
    child.expect_exact(PROMPT)

    child.sendline("change milk to bread in my notes")
    child.expect("Tools are described")
    child.expect("read_file notes.txt")
    child.expect_exact("edit_file: Ryan wants to edit notes.txt")
    child.expect_exact("[a]llow / allow for [s]ession / [d]eny")
    child.sendline("a")
    child.expect("Changed milk to bread")
    child.expect_exact(PROMPT)
    assert notes.read_text() == "buy bread\n"

    child.sendline("now change bread to eggs")
    child.expect_exact("[a]llow / allow for [s]ession / [d]eny")
    child.sendline("d")
    child.expect("denied")
    child.expect("Kept the bread")
    child.expect_exact(PROMPT)
    assert notes.read_text() == "buy bread\n"

    child.sendeof()
    child.expect(pexpect.EOF, timeout=10)
    child.close()
    assert child.exitstatus == 0
    transcript = seen.getvalue()
    assert_no_call_text(transcript)
    assert transcript.count("Tools are described") == 1, "told once per session"
    assert "Let me look." in transcript
    assert len(ryan.llm.chat_requests) == 5
    assert not any("tools" in r.json for r in ryan.llm.chat_requests)
