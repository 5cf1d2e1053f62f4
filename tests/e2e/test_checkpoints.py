"""Checkpoints end to end: what a chat changed, its diff, restore (undo) and redo, hand-edited files,
the editor's path (workspace/applyEdit) and the disk's, and a restore killed midway."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

from .conftest import Chat, base_settings, make_client, request, start

TWICE = "def area(r):\n    return 3.14 * r * r\n\n\ndef name():\n    return 'circle'\n"
GONE = "obsolete = True\n"


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def _apply_to_disk(edit: types.WorkspaceEdit) -> None:
    """What an editor that saves does with Ryan's edits: apply each change to the file."""
    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            _path(change.uri).touch()
        elif isinstance(change, types.DeleteFile):
            _path(change.uri).unlink(missing_ok=True)
        elif isinstance(change, types.TextDocumentEdit):
            path = _path(change.text_document.uri)
            lines = path.read_text().splitlines(keepends=True)
            for e in change.edits:
                assert isinstance(e, types.TextEdit)
                start = sum(len(x) for x in lines[: e.range.start.line]) + e.range.start.character
                end = sum(len(x) for x in lines[: e.range.end.line]) + e.range.end.character
                text = "".join(lines)
                lines = (text[:start] + e.new_text + text[end:]).splitlines(keepends=True)
            path.write_text("".join(lines))


async def _client(llm: FakeLLM, workspace: Path, tmp_path: Path, *, editor: bool) -> LanguageClient:
    capabilities = client_capabilities("visual-studio-code")
    assert capabilities.workspace is not None
    client = make_client()
    if editor:
        assert capabilities.workspace.workspace_edit is not None
        capabilities.workspace.workspace_edit.resource_operations = [
            types.ResourceOperationKind.Create,
            types.ResourceOperationKind.Delete,
        ]
        client.edit_hook = _apply_to_disk  # type: ignore[attr-defined]
    else:
        capabilities.workspace.apply_edit = False
    await client.start_io(sys.executable, "-m", "ryan_server")
    await start(client, capabilities, workspace, base_settings(llm, tmp_path))
    return client


@pytest.fixture(params=["disk", "editor"])
async def session(
    request: pytest.FixtureRequest, llm: FakeLLM, workspace: Path, tmp_path: Path
) -> AsyncIterator[tuple[LanguageClient, str]]:
    """A two-chat session: the first creates new.py and edits twice.py, the second edits twice.py again
    and deletes gone.py."""
    client = await _client(llm, workspace, tmp_path, editor=request.param == "editor")
    (workspace / "twice.py").write_text(TWICE)
    (workspace / "gone.py").write_text(GONE)
    llm.enqueue(
        Reply(
            [
                ToolCall("write_file", {"path": "new.py", "content": "import math\n\nPI = math.pi\n"}),
                ToolCall("edit_file", {"path": "twice.py", "oldText": "3.14", "newText": "PI"}),
            ]
        ),
        Reply([Text("done")]),
        Reply(
            [
                ToolCall("edit_file", {"path": "twice.py", "oldText": "'circle'", "newText": "'disc'"}),
                ToolCall("delete_file", {"path": "gone.py"}),
            ]
        ),
        Reply([Text("done again")]),
    )
    client.answers.extend(["Allow for session"] * 3)  # type: ignore[attr-defined]
    first = await Chat(client, {"prompt": "use math.pi"}).result()
    second = await Chat(client, {"prompt": "rename and clean up", "sessionId": first["sessionId"]}).result()
    assert first["checkpoint"]["files"] == [
        {
            "path": "new.py",
            "uri": (workspace / "new.py").as_uri(),
            "change": "created",
            "added": 3,
            "removed": 0,
        },
        {
            "path": "twice.py",
            "uri": (workspace / "twice.py").as_uri(),
            "change": "modified",
            "added": 1,
            "removed": 1,
        },
    ]
    assert second["checkpoint"]["prompt"] == "rename and clean up"
    client.session_id = first["sessionId"]  # type: ignore[attr-defined]
    client.editor_path = request.param == "editor"  # type: ignore[attr-defined]
    yield client, first["sessionId"]
    await client.shutdown_session()
    await client.stop()


def _state(workspace: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(workspace.iterdir()) if p.is_file()}


AFTER_1 = TWICE.replace("3.14", "PI")
AFTER_2 = AFTER_1.replace("'circle'", "'disc'")
NEW = "import math\n\nPI = math.pi\n"


async def test_checkpoints_diff_restore_and_redo(
    session: tuple[LanguageClient, str], workspace: Path
) -> None:
    client, session_id = session
    assert _state(workspace) == {"new.py": NEW, "twice.py": AFTER_2}

    listed = (await request(client, "ryan/checkpoints", {"sessionId": session_id}))["checkpoints"]
    assert [c["prompt"] for c in listed] == ["use math.pi", "rename and clean up"]
    assert [[(f["path"], f["change"], f["added"], f["removed"]) for f in c["files"]] for c in listed] == [
        [("new.py", "created", 3, 0), ("twice.py", "modified", 1, 1)],
        [("gone.py", "deleted", 0, 1), ("twice.py", "modified", 1, 1)],
    ]
    assert [c["undone"] for c in listed] == [False, False]
    first, second = (c["checkpointId"] for c in listed)

    diff = await request(client, "ryan/diff", {"checkpointId": first})
    by_path = {f["path"]: f for f in diff["files"]}
    assert by_path["new.py"]["before"] is None and by_path["new.py"]["current"] == NEW
    assert by_path["new.py"]["diff"].startswith("--- /dev/null\n+++ b/new.py\n")
    assert by_path["twice.py"]["before"] == TWICE and by_path["twice.py"]["current"] == AFTER_2
    assert "-    return 3.14 * r * r\n+    return PI * r * r" in by_path["twice.py"]["diff"]
    assert "-    return 'circle'\n+    return 'disc'" in by_path["twice.py"]["diff"]
    one = await request(client, "ryan/diff", {"checkpointId": second, "path": "gone.py"})
    assert [(f["path"], f["before"], f["current"]) for f in one["files"]] == [("gone.py", GONE, None)]
    assert one["files"][0]["diff"].startswith("--- a/gone.py\n+++ /dev/null\n")

    # undo the second chat, then the first
    result = await request(client, "ryan/restore", {"checkpointId": second})
    assert sorted(result["restored"]) == ["gone.py", "twice.py"] and not result["conflicts"]
    assert _state(workspace) == {"gone.py": GONE, "new.py": NEW, "twice.py": AFTER_1}
    listed = (await request(client, "ryan/checkpoints", {"sessionId": session_id}))["checkpoints"]
    assert [c["undone"] for c in listed] == [False, True]
    await request(client, "ryan/restore", {"checkpointId": first})
    assert _state(workspace) == {"gone.py": GONE, "twice.py": TWICE}
    assert client.approval_requests[3:] == []  # type: ignore[attr-defined]  # nothing changed by hand: not asked

    # redo goes forward again, one restore at a time
    await request(client, "ryan/redo", {"sessionId": session_id})
    assert _state(workspace) == {"gone.py": GONE, "new.py": NEW, "twice.py": AFTER_1}
    await request(client, "ryan/redo", {"sessionId": session_id})
    assert _state(workspace) == {"new.py": NEW, "twice.py": AFTER_2}
    listed = (await request(client, "ryan/checkpoints", {"sessionId": session_id}))["checkpoints"]
    assert [c["undone"] for c in listed] == [False, False]
    with pytest.raises(JsonRpcException, match="nothing to redo"):
        await request(client, "ryan/redo", {"sessionId": session_id})
    if client.editor_path:  # type: ignore[attr-defined]
        deletes = [
            c
            for e in client.applied_edits
            for c in e.document_changes or []
            if isinstance(c, types.DeleteFile)
        ]  # type: ignore[attr-defined]
        assert deletes, "the restores' deletions went through the editor"


async def test_a_file_changed_by_hand_is_asked_about(
    session: tuple[LanguageClient, str], workspace: Path
) -> None:
    client, session_id = session
    listed = (await request(client, "ryan/checkpoints", {"sessionId": session_id}))["checkpoints"]
    second = listed[1]["checkpointId"]
    mine = AFTER_2 + "# my own note\n"
    (workspace / "twice.py").write_text(mine)
    asked_before = len(client.approval_requests)  # type: ignore[attr-defined]

    client.answers.append("Keep my changes")  # type: ignore[attr-defined]
    result = await request(client, "ryan/restore", {"checkpointId": second})
    question = client.approval_requests[asked_before]  # type: ignore[attr-defined]
    assert question.message == "Ryan: these files changed since Ryan's edits: `twice.py`. Overwrite them?"
    assert [a.title for a in question.actions] == ["Overwrite", "Keep my changes"]
    assert result["conflicts"] == ["twice.py"] and result["restored"] == ["gone.py"]
    assert result["skipped"] == [{"path": "twice.py", "reason": "changed since Ryan's edits; kept"}]
    assert _state(workspace) == {"gone.py": GONE, "new.py": NEW, "twice.py": mine}

    # dismissed: nothing is restored
    (workspace / "new.py").write_text("edited\n")
    result = await request(client, "ryan/restore", {"checkpointId": listed[0]["checkpointId"]})
    assert result["cancelled"] is True and result["restored"] == []
    assert _state(workspace) == {"gone.py": GONE, "new.py": "edited\n", "twice.py": mine}

    # overwrite given up front: not asked
    asked = len(client.approval_requests)  # type: ignore[attr-defined]
    result = await request(
        client, "ryan/restore", {"checkpointId": listed[0]["checkpointId"], "overwrite": True}
    )
    assert len(client.approval_requests) == asked  # type: ignore[attr-defined]
    assert sorted(result["conflicts"]) == ["new.py", "twice.py"]
    assert _state(workspace) == {"gone.py": GONE, "twice.py": TWICE}


async def test_unknown_checkpoint_and_files_outside_the_workspace(
    llm: FakeLLM, workspace: Path, tmp_path: Path
) -> None:
    client = await _client(llm, workspace, tmp_path, editor=False)
    try:
        with pytest.raises(JsonRpcException, match="no checkpoint 999"):
            await request(client, "ryan/restore", {"checkpointId": 999})
        with pytest.raises(JsonRpcException, match="no checkpoint 999"):
            await request(client, "ryan/diff", {"checkpointId": 999})
        llm.enqueue(
            Reply([ToolCall("write_file", {"path": "a.txt", "content": "new\n"})]), Reply([Text("ok")])
        )
        client.answers.append("Allow")  # type: ignore[attr-defined]
        result = await Chat(client, {"prompt": "write a"}).result()
        checkpoint = result["checkpoint"]["checkpointId"]
    finally:
        await client.shutdown_session()
        await client.stop()
    # the same history opened with another folder as the workspace: a.txt is outside it now
    other = tmp_path / "other"
    other.mkdir()
    client = await _client(llm, other, tmp_path, editor=False)
    try:
        result = await request(client, "ryan/restore", {"checkpointId": checkpoint})
        assert result["restored"] == [] and len(result["skipped"]) == 1
        assert (workspace / "a.txt").read_text() == "new\n"
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_restore_killed_midway_leaves_no_file_half_written(
    llm: FakeLLM, workspace: Path, tmp_path: Path
) -> None:
    count, size = 24, 1_000_000
    old = {f"big{i:02}.txt": (f"old {i} " * (size // 8)) + "\n" for i in range(count)}
    new = {name: (f"new {i} " * (size // 8)) + "\n" for i, name in enumerate(old)}
    for name, text in old.items():
        (workspace / name).write_text(text)
    llm.context_length = 100 * count * size  # the calls' arguments go back to the model in the next turn
    client = await _client(llm, workspace, tmp_path, editor=False)
    killed = False
    try:
        llm.enqueue(
            Reply([ToolCall("write_file", {"path": name, "content": text}) for name, text in new.items()]),
            Reply([Text("rewrote them")]),
        )
        client.answers.append("Allow for session")  # type: ignore[attr-defined]
        result = await Chat(client, {"prompt": "rewrite"}).result(timeout=60)
        checkpoint = result["checkpoint"]["checkpointId"]
        restoring = asyncio.ensure_future(request(client, "ryan/restore", {"checkpointId": checkpoint}))
        while not any((workspace / name).read_text() == text for name, text in old.items()):
            await asyncio.sleep(0.005)
        server = client._server
        assert server is not None
        os.kill(server.pid, signal.SIGKILL)
        killed = True
        restoring.cancel()
    finally:
        if not killed:
            await client.shutdown_session()
        await client.stop()
    # (a temporary file being written when the kill came may stay behind: it is never the file itself)
    names = sorted(p.name for p in workspace.iterdir() if not p.name.startswith("."))
    assert names == sorted(old), "no file lost"
    states = [(workspace / name).read_text() == old[name] for name in names]
    assert 0 < sum(states) < count, "killed midway: some files restored, some not"
    assert all((workspace / name).read_text() in (old[name], new[name]) for name in old), (
        "no file half written"
    )

    # a new server finishes the job: the files not restored yet are restored, none is asked about
    client = await _client(llm, workspace, tmp_path, editor=False)
    try:
        result = await request(client, "ryan/restore", {"checkpointId": checkpoint})
        assert result["conflicts"] == [] and len(result["restored"]) == count
        assert all((workspace / name).read_text() == text for name, text in old.items())
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_regenerated_answer_gets_its_own_checkpoint(
    llm: FakeLLM, workspace: Path, tmp_path: Path
) -> None:
    client = await _client(llm, workspace, tmp_path, editor=False)
    try:
        llm.enqueue(
            Reply([ToolCall("write_file", {"path": "a.txt", "content": "one\n"})]),
            Reply([Text("wrote one")]),
            Reply([ToolCall("write_file", {"path": "a.txt", "content": "two\n"})]),
            Reply([Text("wrote two")]),
        )
        client.answers.extend(["Allow", "Allow"])  # type: ignore[attr-defined]
        first = await Chat(client, {"prompt": "write a"}).result()
        again = await Chat(client, {"sessionId": first["sessionId"], "regenerate": True}).result()
        assert again["checkpoint"]["checkpointId"] != first["checkpoint"]["checkpointId"]
        assert again["checkpoint"]["messageId"] == first["checkpoint"]["messageId"] == first["userMessageId"]
        assert again["checkpoint"]["files"][0]["change"] == "modified"
        await request(client, "ryan/restore", {"checkpointId": again["checkpoint"]["checkpointId"]})
        assert (workspace / "a.txt").read_text() == "one\n"
    finally:
        await client.shutdown_session()
        await client.stop()
