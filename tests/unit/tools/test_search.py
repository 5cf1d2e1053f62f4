"""search_files through ripgrep and through the pure-Python fallback: the same lines on the same tree.

The fallback's tests run always (it is what runs when ripgrep is missing); with ripgrep installed,
each also checks that rg prints exactly the same. Only the tests about rg itself skip without it.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from ryan_server.tools import ToolError, ToolRegistry, Workspace
from ryan_server.tools.ripgrep import find_rg

from .util import call, write

HAVE_RG = find_rg() is not None
needs_rg = pytest.mark.skipif(not HAVE_RG, reason="ripgrep is not installed")

TREE: dict[str, str | bytes] = {
    ".gitignore": "build/\n*.log\n",
    "src/app.py": "import os\n\ndef Needle():\n    return 'needle'\n",
    "src/util.py": "# NEEDLE in caps\nx = 1\n",
    "src/app.log": "needle in an ignored file\n",
    "src/gen/.gitignore": "*.py\n",
    "src/gen/out.py": "needle in a nested-ignored file\n",
    "src/gen/notes.md": "needle in markdown\n",
    "build/x.txt": "needle in an ignored folder\n",
    "blob.bin": b"needle\x00\x01\x02needle\n",
    "crlf.txt": "first needle\r\nsecond line\r\nneedle$\r\n",
    "uni.txt": "ünïcödé NEEDLE 🎉\n",
    ".hidden/cfg.yml": "needle: true\n",
    ".git/config": "needle\n",
    "a.d/z.txt": "needle z\n",
    "a/b.txt": "needle b\n",
}


@pytest.fixture
def tree(root: Path) -> Path:
    write(root, TREE)
    return root


async def both(make: Callable[..., ToolRegistry], **arguments: object) -> str:
    """The Python fallback's output, after checking that rg's is the same (when rg is installed)."""
    py = await call(make(search_backend="python"), "search_files", **arguments)
    if HAVE_RG:
        rg = await call(make(search_backend="rg"), "search_files", **arguments)
        assert rg == py
    return py


async def test_default_search(tree: Path, make_registry: Callable[..., ToolRegistry]) -> None:
    out = await both(make_registry, pattern="needle")
    assert out.splitlines() == [
        ".hidden/cfg.yml:1: needle: true",
        "a/b.txt:1: needle b",
        "a.d/z.txt:1: needle z",
        "crlf.txt:1: first needle",
        "crlf.txt:3: needle$",
        "src/app.py:3: def Needle():",
        "src/app.py:4:     return 'needle'",
        "src/gen/notes.md:1: needle in markdown",
        "src/util.py:1: # NEEDLE in caps",
        "uni.txt:1: ünïcödé NEEDLE 🎉",
    ]


async def test_case_sensitive_anchors_and_unicode(
    tree: Path, make_registry: Callable[..., ToolRegistry]
) -> None:
    out = await both(make_registry, pattern="needle", caseSensitive=True)
    assert "src/util.py" not in out and "src/app.py:3" not in out and "src/app.py:4" in out
    assert (await both(make_registry, pattern=r"needle\$$")).splitlines() == ["crlf.txt:3: needle$"]
    assert (await both(make_registry, pattern="^first")).splitlines() == ["crlf.txt:1: first needle"]
    assert (await both(make_registry, pattern="ÜNÏ")).splitlines() == ["uni.txt:1: ünïcödé NEEDLE 🎉"]


async def test_glob_path_and_cap(tree: Path, make_registry: Callable[..., ToolRegistry]) -> None:
    assert (await both(make_registry, pattern="needle", glob="*.py")).splitlines() == [
        "src/app.py:3: def Needle():",
        "src/app.py:4:     return 'needle'",
        "src/util.py:1: # NEEDLE in caps",
    ]
    # a glob never brings back what .gitignore hides (rg's own --glob would)
    assert "app.log" not in await both(make_registry, pattern="needle", glob="*.log")
    assert "build/x.txt" not in await both(make_registry, pattern="needle", glob="build/**")
    assert (await both(make_registry, pattern="needle", glob="src/*.{md,py}")).splitlines() == [
        "src/app.py:3: def Needle():",
        "src/app.py:4:     return 'needle'",
        "src/util.py:1: # NEEDLE in caps",
    ]
    assert (await both(make_registry, pattern="needle", path="src/gen")).splitlines() == [
        "src/gen/notes.md:1: needle in markdown"
    ]
    assert (await both(make_registry, pattern="needle", path="src/app.py")).splitlines() == [
        "src/app.py:3: def Needle():",
        "src/app.py:4:     return 'needle'",
    ]
    capped = (await both(make_registry, pattern="needle", maxResults=3)).splitlines()
    assert capped == [
        ".hidden/cfg.yml:1: needle: true",
        "a/b.txt:1: needle b",
        "a.d/z.txt:1: needle z",
        "… results capped at 3; narrow the pattern, path or glob to see the rest",
    ]
    none = await both(make_registry, pattern="nothing-here", path="src", glob="*.md")
    assert none == "No matches for 'nothing-here' in src (files matching '*.md')."


async def test_explicit_ignored_folder_and_binary_file(
    tree: Path, make_registry: Callable[..., ToolRegistry]
) -> None:
    assert (await both(make_registry, pattern="needle", path="build")).splitlines() == [
        "build/x.txt:1: needle in an ignored folder"
    ]
    assert await both(make_registry, pattern="needle", path="blob.bin") == (
        "blob.bin is a binary file; search_files only searches text."
    )


async def test_symlinks_are_not_followed(
    tree: Path, outside: Path, make_registry: Callable[..., ToolRegistry]
) -> None:
    (tree / "src/link.py").symlink_to(tree / "src/app.py")
    (tree / "out").symlink_to(outside, target_is_directory=True)
    out = await both(make_registry, pattern="needle|secret")
    assert "link.py" not in out and "SECRET" not in out


async def test_regex_and_glob_errors_name_the_problem(
    tree: Path, make_registry: Callable[..., ToolRegistry]
) -> None:
    with pytest.raises(ToolError, match="invalid regex 'foo\\(': missing \\)"):
        await call(make_registry(search_backend="python"), "search_files", pattern="foo(")
    with pytest.raises(ToolError, match="invalid glob"):
        await call(make_registry(), "search_files", pattern="x", glob="[a")


@needs_rg
async def test_rg_regex_errors_name_the_problem(
    tree: Path, make_registry: Callable[..., ToolRegistry]
) -> None:
    with pytest.raises(ToolError, match="invalid regex 'foo\\(': unclosed group"):
        await call(make_registry(search_backend="rg"), "search_files", pattern="foo(")
    with pytest.raises(ToolError, match="look-around"):
        await call(make_registry(search_backend="rg"), "search_files", pattern="(?<=x)foo")


async def test_long_lines_are_cut(root: Path, make_registry: Callable[..., ToolRegistry]) -> None:
    write(root, {"min.js": "var a=1;" * 1000 + "needle\n"})
    out = await both(make_registry, pattern="needle")
    assert out.startswith("min.js:1: var a=1;") and out.endswith("…") and len(out) < 400


@needs_rg
async def test_random_trees_agree(root: Path, make_registry: Callable[..., ToolRegistry]) -> None:
    rnd = random.Random(7)
    words = ["alpha", "Beta", "gamma", "delta_1", "ÉPSILON", "zeta-2", "eta"]
    files: dict[str, str | bytes] = {".gitignore": "ignored*/\n*.tmp\n!keep.tmp\n"}
    for i in range(120):
        depth = rnd.randint(0, 3)
        folders = [rnd.choice(["src", "lib", "ignored_a", "x", "a.b", "A"]) for _ in range(depth)]
        name = rnd.choice(["f", "g", "keep", "h.x"]) + str(i) + rnd.choice([".py", ".txt", ".tmp", ".md", ""])
        lines = [
            " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 5))) for _ in range(rnd.randint(0, 8))
        ]
        files["/".join([*folders, name])] = rnd.choice(["\n", "\r\n"]).join(lines) + rnd.choice(["", "\n"])
    files["lib/.gitignore"] = "*.md\n"
    write(root, files)
    cases: list[tuple[str, dict[str, object]]] = [
        ("alpha", {}),
        ("beta|gamma", {"caseSensitive": True}),
        (r"^\w+ eta$", {}),
        ("épsilon", {}),
        (r"delta_\d", {"glob": "*.py"}),
        ("zeta", {"glob": "src/**"}),
        ("a", {"maxResults": 25}),
        ("eta", {"path": "lib"}),
    ]
    for pattern, extra in cases:
        await both(make_registry, pattern=pattern, **extra)


async def test_cancel_kills_rg(
    root: Path, make_registry: Callable[..., ToolRegistry], tmp_path: Path
) -> None:
    write(root, {"a.txt": "x\n"})
    pid_file = tmp_path / "pid"
    fake = tmp_path / "fake-rg"
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 30\n")
    fake.chmod(0o755)
    registry = make_registry(search_backend="rg")
    with patch("ryan_server.tools.plan.find_rg", return_value=str(fake)):
        prepared = await registry.prepare("search_files", {"pattern": "x"})  # runs without a real rg too
        task = asyncio.ensure_future(prepared.run())
        for _ in range(200):
            await asyncio.sleep(0.01)
            if pid_file.exists() and pid_file.read_text().strip():
                break
        pid = int(pid_file.read_text())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped


async def test_cancel_stops_the_python_walk(
    root: Path, make_registry: Callable[..., ToolRegistry], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(root, {f"f{i:03d}.txt": "x\n" for i in range(300)})
    real_walk = Workspace.walk_files
    seen: list[Path] = []

    def slow_walk(self: Workspace, *args: Any, **kwargs: Any) -> Iterator[Path]:
        for path in real_walk(self, *args, **kwargs):
            seen.append(path)
            time.sleep(0.005)
            yield path

    monkeypatch.setattr(Workspace, "walk_files", slow_walk)
    registry = make_registry(search_backend="python")
    task = asyncio.ensure_future(call(registry, "search_files", pattern="nothing"))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stopped_at = len(seen)
    await asyncio.sleep(0.2)
    assert stopped_at < 300 and len(seen) <= stopped_at + 1
