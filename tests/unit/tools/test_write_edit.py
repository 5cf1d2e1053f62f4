"""write_file and edit_file: through the editor, atomically on disk, and refusing what would be wrong."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ryan_server.tools import ToolError, ToolRegistry

from .conftest import FakeEditor
from .util import call, write


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def no_temp_files(folder: Path) -> None:
    assert [p.name for p in folder.rglob("*.tmp")] == []


async def test_create_through_the_editor(root: Path, registry: ToolRegistry, editor: FakeEditor) -> None:
    editor.applies = True
    prepared = await registry.prepare("write_file", {"path": "notes/todo.md", "content": "a\nb\nc\n"})
    assert prepared.writes
    assert prepared.approval_message() == "Ryan wants to create notes/todo.md (3 lines)"
    assert await prepared.run() == "Wrote 3 lines to notes/todo.md (created)"
    assert editor.edits == [(root / "notes/todo.md", None, "a\nb\nc\n")]
    assert not (root / "notes/todo.md").exists()  # the editor holds it (its CreateFile makes it)
    assert (root / "notes").is_dir()  # the folder was made, inside the workspace, for the editor


async def test_overwrite_through_the_editor(root: Path, registry: ToolRegistry, editor: FakeEditor) -> None:
    editor.applies = True
    write(root, {"a.py": "one\ntwo\nthree\n"})
    prepared = await registry.prepare("write_file", {"path": "a.py", "content": "one\n2\nthree\nfour\n"})
    assert prepared.approval_message() == "Ryan wants to overwrite a.py (+2 −1 lines)"
    assert await prepared.run() == "Wrote 4 lines to a.py (replaced its content: +2 −1 lines)"
    assert editor.edits == [(root / "a.py", "one\ntwo\nthree\n", "one\n2\nthree\nfour\n")]
    assert (root / "a.py").read_text() == "one\ntwo\nthree\n"


async def test_write_to_disk_when_the_editor_cannot(
    root: Path, registry: ToolRegistry, editor: FakeEditor
) -> None:
    write(root, {"run.sh": "#!/bin/sh\necho old\n"})
    (root / "run.sh").chmod(0o751)
    out = await call(registry, "write_file", path="run.sh", content="#!/bin/sh\necho new\n")
    assert out == "Wrote 2 lines to run.sh (replaced its content: +1 −1 lines)"
    assert (root / "run.sh").read_text() == "#!/bin/sh\necho new\n"
    assert stat.S_IMODE((root / "run.sh").stat().st_mode) == 0o751
    assert len(editor.edits) == 1  # it was asked first
    assert (
        await call(registry, "write_file", path="d/new.txt", content="x")
        == "Wrote 1 line to d/new.txt (created)"
    )
    assert (root / "d/new.txt").read_text() == "x"
    no_temp_files(root)


async def test_failed_disk_write_leaves_nothing(
    root: Path, registry: ToolRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(root, {"a.txt": "old\n"})

    def broken_replace(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ToolError, match=r"could not write 'a.txt': No space left on device"):
        await call(registry, "write_file", path="a.txt", content="new\n")
    with pytest.raises(ToolError, match="No space left"):
        await call(registry, "write_file", path="fresh/b.txt", content="new\n")
    assert (root / "a.txt").read_text() == "old\n"
    assert names(root) == ["a.txt"]  # no temp file, no new folder


async def test_failed_fsync_leaves_nothing(
    root: Path, registry: ToolRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(root, {"a.txt": "old\n"})

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(ToolError, match="Input/output error"):
        await call(registry, "write_file", path="a.txt", content="new\n")
    assert (root / "a.txt").read_text() == "old\n"
    no_temp_files(root)


async def test_editor_rejection_is_a_tool_error(
    root: Path, registry: ToolRegistry, editor: FakeEditor
) -> None:
    editor.reject = "the file is read-only"
    with pytest.raises(ToolError, match=r"the editor refused the change to 'x/y.txt': the file is read-only"):
        await call(registry, "write_file", path="x/y.txt", content="hi")
    assert names(root) == []  # the folder made for it is gone again


async def test_write_refuses_binary_and_reports_no_change(root: Path, registry: ToolRegistry) -> None:
    write(root, {"img.bin": b"\x00\x01", "same.txt": "same\n"})
    with pytest.raises(ToolError, match="binary"):
        await registry.prepare("write_file", {"path": "img.bin", "content": "text"})
    assert await call(registry, "write_file", path="same.txt", content="same\n") == (
        "same.txt already has this content; nothing changed."
    )


# -- edit_file -----------------------------------------------------------------------------------

UTILS = "def helper(x):\n    return x + 1\n\n\ndef main():\n    print(helper(2))\n    print(helper(3))\n"


async def test_edit_unique(root: Path, registry: ToolRegistry, editor: FakeEditor) -> None:
    write(root, {"utils.py": UTILS})
    args = {
        "path": "utils.py",
        "oldText": "def helper(x):\n    return x + 1",
        "newText": "def inc(x):\n    return x + 1",
    }
    prepared = await registry.prepare("edit_file", args)
    assert prepared.approval_message() == "Ryan wants to edit utils.py (+1 −1 lines)"
    assert await prepared.run() == "Edited utils.py: replaced 1 occurrence (+1 −1 lines)"
    assert (root / "utils.py").read_text() == UTILS.replace("def helper(x)", "def inc(x)")
    assert editor.edits[0][1] == UTILS


async def test_edit_zero_and_many(root: Path, registry: ToolRegistry) -> None:
    write(root, {"utils.py": UTILS})
    with pytest.raises(ToolError, match=r"oldText was not found in utils.py"):
        await registry.prepare("edit_file", {"path": "utils.py", "oldText": "nope", "newText": "x"})
    with pytest.raises(ToolError, match=r"oldText occurs 3 times in utils.py; .* set replaceAll"):
        await registry.prepare("edit_file", {"path": "utils.py", "oldText": "helper(", "newText": "inc("})
    with pytest.raises(ToolError, match="oldText is empty"):
        await registry.prepare("edit_file", {"path": "utils.py", "oldText": "", "newText": "x"})
    with pytest.raises(ToolError, match="does not exist; use write_file"):
        await registry.prepare("edit_file", {"path": "other.py", "oldText": "a", "newText": "b"})
    assert (root / "utils.py").read_text() == UTILS


async def test_edit_replace_all(root: Path, registry: ToolRegistry) -> None:
    write(root, {"utils.py": UTILS})
    prepared = await registry.prepare(
        "edit_file", {"path": "utils.py", "oldText": "helper(", "newText": "inc(", "replaceAll": True}
    )
    assert prepared.approval_message() == "Ryan wants to edit utils.py: replace 3 occurrences (+3 −3 lines)"
    assert await prepared.run() == "Edited utils.py: replaced 3 occurrences (+3 −3 lines)"
    assert (root / "utils.py").read_text() == UTILS.replace("helper(", "inc(")


async def test_edit_non_ascii_and_crlf(root: Path, registry: ToolRegistry) -> None:
    write(root, {"fr.txt": "Ça va ? 🎉\r\nOui, très bien.\r\nÀ bientôt\r\n"})
    out = await call(
        registry, "edit_file", path="fr.txt", oldText="Oui, très bien.\nÀ bientôt", newText="Non 😢\nAdieu"
    )
    assert out == "Edited fr.txt: replaced 1 occurrence (+2 −2 lines)"
    assert (root / "fr.txt").read_bytes().decode() == "Ça va ? 🎉\r\nNon 😢\r\nAdieu\r\n"


async def test_edit_uses_the_unsaved_text(root: Path, registry: ToolRegistry, editor: FakeEditor) -> None:
    editor.applies = True
    write(root, {"a.py": "x = 1\n"})
    editor.open[root / "a.py"] = "x = 1\ny = 2\n"
    await call(registry, "edit_file", path="a.py", oldText="y = 2", newText="y = 3")
    assert editor.edits == [(root / "a.py", "x = 1\ny = 2\n", "x = 1\ny = 3\n")]
    assert (root / "a.py").read_text() == "x = 1\n"


async def test_run_rechecks_the_file(root: Path, registry: ToolRegistry) -> None:
    write(root, {"a.py": "foo\n"})
    prepared = await registry.prepare("edit_file", {"path": "a.py", "oldText": "foo", "newText": "bar"})
    (root / "a.py").write_text("foo\nfoo\n")  # changed between approval and run
    with pytest.raises(ToolError, match="occurs 2 times"):
        await prepared.run()
    assert (root / "a.py").read_text() == "foo\nfoo\n"


async def test_the_question_shows_the_change(root: Path, registry: ToolRegistry) -> None:
    created = await registry.prepare("write_file", {"path": "new.txt", "content": "a\nb\n"})
    assert created.question() == (
        "write_file: Ryan wants to create new.txt (2 lines)\n\n"
        "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+a\n+b"
    )
    (root / "long.txt").write_text("".join(f"{i}\n" for i in range(200)))
    rewritten = await registry.prepare("write_file", {"path": "long.txt", "content": "x\n"})
    shown = rewritten.question().split("\n")
    assert len(shown) == 2 + 60 + 1 and shown[-1] == "… 144 more lines of the diff"
