"""list_files and read_file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ryan_server.tools import ToolError, ToolRegistry

from .conftest import FakeEditor
from .util import call, write

TREE: dict[str, str | bytes] = {
    ".gitignore": "build/\n*.log\n!keep.log\n/top-only.txt\n",
    "README.md": "# hi\n",
    "top-only.txt": "ignored at the root\n",
    "src/top-only.txt": "not ignored below the root\n",
    "src/app.py": "print('app')\n",
    "src/app.log": "ignored\n",
    "src/keep.log": "kept by negation\n",
    "src/gen/.gitignore": "*.py\n!keep.py\n",
    "src/gen/out.py": "ignored by the nested .gitignore\n",
    "src/gen/keep.py": "re-included\n",
    "src/gen/data.json": "{}\n",
    "build/artifact.txt": "ignored folder\n",
    "docs/build/x.txt": "ignored folder at any depth\n",
    ".github/workflows/ci.yml": "on: push\n",
    ".git/config": "[core]\n",
    "a.d/z.txt": "z\n",
    "a/b.txt": "b\n",
}


@pytest.fixture
def tree(root: Path) -> Path:
    write(root, TREE)
    return root


async def test_list_honours_gitignore_root_and_nested(tree: Path, registry: ToolRegistry) -> None:
    out = await call(registry, "list_files")
    assert out.splitlines() == [
        ".github/workflows/ci.yml",
        ".gitignore",
        "README.md",
        "a/b.txt",
        "a.d/z.txt",
        "src/app.py",
        "src/gen/.gitignore",
        "src/gen/data.json",
        "src/gen/keep.py",
        "src/keep.log",
        "src/top-only.txt",
    ]


async def test_list_subfolder_glob_and_cap(tree: Path, registry: ToolRegistry) -> None:
    assert (await call(registry, "list_files", path="src", glob="*.py")).splitlines() == [
        "src/app.py",
        "src/gen/keep.py",
    ]
    assert (await call(registry, "list_files", glob="src/*.py")).splitlines() == ["src/app.py"]
    assert (await call(registry, "list_files", glob="src/**/*.{py,json}")).splitlines() == [
        "src/app.py",
        "src/gen/data.json",
        "src/gen/keep.py",
    ]
    capped = (await call(registry, "list_files", maxResults=3)).splitlines()
    assert capped[:3] == [".github/workflows/ci.yml", ".gitignore", "README.md"]
    assert capped[3] == "… 8 more (narrow with path or glob)"
    assert await call(registry, "list_files", glob="*.rs") == "No files in . match '*.rs'."


async def test_list_inside_an_ignored_folder_named_explicitly(tree: Path, registry: ToolRegistry) -> None:
    write(tree, {"build/sub/y.txt": "y\n", "build/z.log": "log\n"})
    assert (await call(registry, "list_files", path="build")).splitlines() == [
        "build/artifact.txt",
        "build/sub/y.txt",
    ]


async def test_list_notices_gitignore_changes(tree: Path, registry: ToolRegistry) -> None:
    assert "README.md" in await call(registry, "list_files")
    gi = tree / ".gitignore"
    gi.write_text(gi.read_text() + "README.md\n")
    assert "README.md" not in await call(registry, "list_files")


async def test_list_git_repo_and_nested_repo(tree: Path, registry: ToolRegistry) -> None:
    write(tree, {"vendor/lib/.git/HEAD": "ref\n", "vendor/lib/x.log": "not ignored: separate repo\n"})
    out = await call(registry, "list_files", path="vendor")
    assert out.splitlines() == ["vendor/lib/x.log"]


# -- read_file ------------------------------------------------------------------------------------


async def test_read_with_line_numbers_and_ranges(root: Path, registry: ToolRegistry) -> None:
    write(root, {"a.py": "".join(f"line {i}\n" for i in range(1, 13))})
    full = await call(registry, "read_file", path="a.py")
    assert full.splitlines()[0] == "   1| line 1"
    assert full.splitlines()[-1] == "  12| line 12"
    assert len(full.splitlines()) == 12
    part = await call(registry, "read_file", path="a.py", startLine=10, endLine=11)
    assert part.splitlines() == ["  10| line 10", "  11| line 11", "(lines 10-11 of 12)"]
    tail = await call(registry, "read_file", path="a.py", startLine=11, endLine=99)
    assert tail.splitlines() == ["  11| line 11", "  12| line 12", "(lines 11-12 of 12)"]
    with pytest.raises(ToolError, match="startLine 13 is past the end"):
        await call(registry, "read_file", path="a.py", startLine=13)
    with pytest.raises(ToolError, match="endLine"):
        await call(registry, "read_file", path="a.py", startLine=5, endLine=2)


async def test_read_crlf_non_ascii_and_empty(root: Path, registry: ToolRegistry) -> None:
    write(root, {"w.txt": "héllo\r\nwörld 🎉\r\n", "empty.txt": ""})
    assert (await call(registry, "read_file", path="w.txt")).splitlines() == ["   1| héllo", "   2| wörld 🎉"]
    assert await call(registry, "read_file", path="empty.txt") == "empty.txt is empty."


async def test_read_refuses_binary(root: Path, registry: ToolRegistry) -> None:
    write(root, {"img.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"})
    with pytest.raises(ToolError, match="binary file"):
        await call(registry, "read_file", path="img.png")


async def test_huge_file_refused_without_range_served_with_range(
    root: Path, make_registry: Callable[..., ToolRegistry]
) -> None:
    registry = make_registry(max_read_bytes=10_000)
    write(root, {"big.log": "".join(f"entry {i:05d}\n" for i in range(1, 5001))})  # 60 KB
    with pytest.raises(ToolError, match=r"5000 lines\), over the 9.8 KB read limit; read part of it"):
        await call(registry, "read_file", path="big.log")

    out = await call(registry, "read_file", path="big.log", startLine=4999, endLine=5000)
    assert out.splitlines() == [
        "4999| entry 04999",
        "5000| entry 05000",
        "(lines 4999-5000 of a 58.6 KB file)",
    ]
    # Lines are streamed: a range at the start never reaches the tail (here, bytes that are not UTF-8).
    with (root / "big.log").open("ab") as fh:
        fh.write(b"\xff\xfe tail\n")
    out = await call(registry, "read_file", path="big.log", startLine=2, endLine=3)
    assert out.splitlines()[:2] == ["   2| entry 00002", "   3| entry 00003"]
    # a range of a large file does not even get the output past the limit
    out = await call(registry, "read_file", path="big.log", startLine=10)
    assert out.splitlines()[-1].startswith("… output truncated at the 9.8 KB limit; continue with startLine=")


async def test_read_prefers_the_editors_unsaved_text(
    root: Path, registry: ToolRegistry, editor: FakeEditor
) -> None:
    write(root, {"a.py": "on disk\n"})
    editor.open[root / "a.py"] = "unsaved\nedit\n"
    assert (await call(registry, "read_file", path="a.py")).splitlines() == ["   1| unsaved", "   2| edit"]
    editor.open[root / "new.py"] = "untitled buffer"  # open in the editor, never saved
    assert await call(registry, "read_file", path="new.py") == "   1| untitled buffer"


async def test_read_missing_file(root: Path, registry: ToolRegistry) -> None:
    with pytest.raises(ToolError, match=r"'nope.py' does not exist"):
        await registry.prepare("read_file", {"path": "nope.py"})


async def test_read_through_inside_symlink(root: Path, registry: ToolRegistry) -> None:
    write(root, {"docs/readme.md": "docs\n"})
    (root / "readme.md").symlink_to("docs/readme.md")
    assert await call(registry, "read_file", path="readme.md") == "   1| docs"
    assert "readme.md" in (await call(registry, "list_files")).splitlines()
