"""How attached context reaches the model: each block headed by the file as the tools name it (relative
to the workspace) and the lines the editor selected, counted as LSP counts them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM

from .conftest import Chat

CODE = "def add(a, b):\n    return a + b\n"


def item(uri: str | None, start: tuple[int, int], end: tuple[int, int], text: str = CODE) -> dict[str, Any]:
    context: dict[str, Any] = {
        "range": {
            "start": {"line": start[0], "character": start[1]},
            "end": {"line": end[0], "character": end[1]},
        },
        "text": text,
    }
    if uri is not None:
        context["uri"] = uri
    return context


async def sent(client: LanguageClient, llm: FakeLLM, *context: dict[str, Any]) -> str:
    await Chat(client, {"prompt": "What does this do?", "context": list(context)}).result()
    return str(llm.chat_requests[-1].json["messages"][-1]["content"])


async def test_whole_lines_name_the_file_and_the_lines_selected(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    uri = (workspace / "src" / "app.py").as_uri()
    # lines 10 and 11, as editors send whole lines: the end is the start of the next line
    user = await sent(client, llm, item(uri, (9, 0), (11, 0)))
    assert user == f"What does this do?\n\nsrc/app.py (lines 10-11):\n```\n{CODE}```"
    assert "file://" not in user


async def test_a_range_ending_inside_a_line_counts_that_line(
    client: LanguageClient, llm: FakeLLM, workspace: Path
) -> None:
    uri = (workspace / "app.py").as_uri()
    user = await sent(client, llm, item(uri, (9, 4), (10, 5), "add(a, b):\n    ret"))
    assert "app.py (lines 10-11):\n```\nadd(a, b):\n    ret\n```" in user
    user = await sent(client, llm, item(uri, (9, 0), (10, 0), "def add(a, b):\n"))
    assert "app.py (line 10):\n```\ndef add(a, b):\n```" in user


async def test_a_file_outside_the_workspace_and_a_nameless_selection(
    client: LanguageClient, llm: FakeLLM, workspace: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere" / "notes.md"
    user = await sent(
        client,
        llm,
        item(elsewhere.as_uri(), (0, 0), (2, 0)),
        item("untitled:Untitled-1", (0, 0), (2, 0)),
        item(None, (0, 0), (2, 0)),
    )
    assert f"\n{elsewhere.as_posix()} (lines 1-2):\n```\n{CODE}```" in user
    assert "\nuntitled:Untitled-1 (lines 1-2):\n```\n" in user
    assert "\nselection (lines 1-2):\n```\n" in user
