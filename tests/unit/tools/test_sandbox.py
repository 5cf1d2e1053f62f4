"""Path resolution and the attack list: nothing outside the workspace is read, listed or written."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ryan_server.tools import ToolError, ToolRegistry, Workspace
from ryan_server.tools.ripgrep import find_rg
from ryan_server.tools.write import atomic_write

from .conftest import FakeEditor
from .util import call, write

SECRET = "TOP SECRET needle\n"


def outside_untouched(outside: Path) -> None:
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == SECRET


# -- Workspace.resolve ----------------------------------------------------------------------------


def test_relative_and_absolute_inside(root: Path) -> None:
    write(root, {"src/a.py": "x\n"})
    ws = Workspace([root])
    assert ws.resolve("src/a.py") == root / "src/a.py"
    assert ws.resolve(str(root / "src/a.py")) == root / "src/a.py"
    assert ws.resolve("./src/../src/a.py") == root / "src/a.py"
    assert ws.resolve(".") == root
    assert ws.display(root / "src/a.py") == "src/a.py"


def test_second_root_by_absolute_path(tmp_path: Path, root: Path) -> None:
    other = tmp_path / "other"
    write(other, {"b.txt": "b\n"})
    ws = Workspace([root, other])
    assert ws.resolve(str(other / "b.txt")) == other.resolve() / "b.txt"
    assert ws.display(other.resolve() / "b.txt") == str(other.resolve() / "b.txt")


def test_no_workspace_folder() -> None:
    with pytest.raises(ToolError, match="no workspace folder is open"):
        Workspace([]).resolve("a.txt")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../outside/secret.txt", "outside the workspace"),
        ("src/../../outside/secret.txt", "outside the workspace"),
        ("/etc/passwd", "outside the workspace"),
        ("a\x00b", "NUL byte"),
        ("a/" * 5000, "too long"),
        ("x" * 300, "longer than 255"),
        (".git/hooks/pre-commit", ".git"),
        ("sub/.git/config", ".git"),
        (".GIT/config", ".git"),
    ],
)
def test_resolve_refuses(root: Path, path: str, message: str) -> None:
    (root / ".git/hooks").mkdir(parents=True)
    (root / "sub/.git").mkdir(parents=True)
    with pytest.raises(ToolError, match=message) as info:
        Workspace([root]).resolve(path, must_exist=False)
    assert len(str(info.value)) < 400  # a 10,000-character path is not echoed whole


def test_resolve_refuses_symlinks_out(root: Path, outside: Path) -> None:
    (root / "out_dir").symlink_to(outside, target_is_directory=True)
    (root / "out_file").symlink_to(outside / "secret.txt")
    (root / "git_link").symlink_to(root / ".git")
    (root / ".git").mkdir()
    ws = Workspace([root])
    for path in ("out_dir", "out_dir/secret.txt", "out_file", "out_dir/new.txt", "git_link/config"):
        with pytest.raises(ToolError):
            ws.resolve(path, must_exist=False)


def test_symlink_inside_is_followed(root: Path) -> None:
    write(root, {"docs/readme.md": "hi\n"})
    (root / "readme.md").symlink_to(root / "docs/readme.md")
    assert Workspace([root]).resolve("readme.md") == root / "docs/readme.md"


def test_root_behind_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    write(real, {"a.txt": "a\n"})
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    ws = Workspace([tmp_path / "link"])
    assert ws.resolve("a.txt") == real.resolve() / "a.txt"
    assert ws.resolve(str(tmp_path / "link" / "a.txt")) == real.resolve() / "a.txt"


def test_missing_file_suggests(root: Path) -> None:
    write(root, {"src/utils.py": "x\n"})
    with pytest.raises(ToolError, match=r"did you mean 'src/utils.py'"):
        Workspace([root]).resolve("src/utlis.py")


# -- the attack list, through every tool ---------------------------------------------------------

ATTACKS = [
    "../outside/secret.txt",
    "ABS",  # replaced by the absolute path of the outside secret
    "out_dir/secret.txt",
    "out_dir",
    "out_file",
    ".git/hooks/pre-commit",
    "ok\x00.txt",
    "a" * 10_000,
]


@pytest.fixture
def attack_tree(root: Path, outside: Path) -> Path:
    write(root, {"ok.txt": "needle\n", ".git/hooks/pre-commit": "#!/bin/sh\nneedle\n"})
    (root / "out_dir").symlink_to(outside, target_is_directory=True)
    (root / "out_file").symlink_to(outside / "secret.txt")
    return root


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize(
    ("tool", "extra"),
    [
        ("list_files", {}),
        ("read_file", {}),
        ("search_files", {"pattern": "needle"}),
        ("write_file", {"content": "pwned\n"}),
        ("edit_file", {"oldText": "needle", "newText": "pwned"}),
    ],
)
async def test_attack_refused(
    attack_tree: Path,
    outside: Path,
    registry: ToolRegistry,
    editor: FakeEditor,
    tool: str,
    extra: dict[str, str],
    attack: str,
) -> None:
    path = str(outside / "secret.txt") if attack == "ABS" else attack
    with pytest.raises(ToolError):
        await call(registry, tool, path=path, **extra)
    outside_untouched(outside)
    assert (attack_tree / ".git/hooks/pre-commit").read_text() == "#!/bin/sh\nneedle\n"
    assert editor.edits == []


@pytest.fixture
def sibling(root: Path) -> Path:
    """A folder beside the workspace, named with the workspace's name as a prefix: `ws-evil` by `ws`."""
    evil = root.parent / (root.name + "-evil")
    write(evil, {"secret": SECRET})
    return evil


@pytest.mark.parametrize("absolute", [False, True])
@pytest.mark.parametrize(
    ("tool", "extra"),
    [("read_file", {}), ("write_file", {"content": "pwned\n"}), ("list_files", {})],
)
async def test_sibling_folder_with_the_root_as_prefix_is_outside(
    root: Path,
    sibling: Path,
    registry: ToolRegistry,
    editor: FakeEditor,
    tool: str,
    extra: dict[str, str],
    absolute: bool,
) -> None:
    """A containment check by string prefix would let `../ws-evil/secret` in; the sandbox must not."""
    path = str(sibling / "secret") if absolute else f"../{sibling.name}/secret"
    with pytest.raises(ToolError) as info:
        await call(registry, tool, path=path, **extra)
    assert str(info.value) == f"path {path!r} is outside the workspace; use a path inside {root}"
    assert sorted(p.name for p in sibling.iterdir()) == ["secret"]
    assert (sibling / "secret").read_text() == SECRET
    assert editor.edits == []


async def test_listing_and_search_never_leave(
    attack_tree: Path, outside: Path, registry: ToolRegistry
) -> None:
    listing = await call(registry, "list_files")
    assert listing.splitlines() == ["ok.txt"]
    for backend in ("rg", "python") if find_rg() is not None else ("python",):
        reg = ToolRegistry(registry.workspace, registry.context.editor, search_backend=backend)
        found = await call(reg, "search_files", pattern="needle|SECRET")
        assert found.splitlines() == ["ok.txt:1: needle"], backend


@pytest.mark.parametrize("tool", ["read_file", "write_file", "edit_file"])
async def test_directory_path_refused(root: Path, registry: ToolRegistry, tool: str) -> None:
    write(root, {"src/a.py": "x\n"})
    extra = {"write_file": {"content": "x"}, "edit_file": {"oldText": "x", "newText": "y"}}.get(tool, {})
    with pytest.raises(ToolError, match="is a folder"):
        await call(registry, tool, path="src", **extra)
    assert (root / "src").is_dir()
    assert (root / "src/a.py").read_text() == "x\n"


async def test_file_swapped_for_symlink_after_prepare(
    root: Path, outside: Path, registry: ToolRegistry, editor: FakeEditor
) -> None:
    write(root, {"a.txt": "hello\n"})
    for tool, extra in (
        ("write_file", {"content": "pwned\n"}),
        ("edit_file", {"oldText": "hello", "newText": "x"}),
    ):
        prepared = await registry.prepare(tool, {"path": "a.txt", **extra})
        (root / "a.txt").unlink()
        (root / "a.txt").symlink_to(outside / "secret.txt")
        with pytest.raises(ToolError):
            await prepared.run()
        outside_untouched(outside)
        (root / "a.txt").unlink()
        write(root, {"a.txt": "hello\n"})
    assert editor.edits == []


async def test_folder_swapped_for_symlink_after_prepare(
    root: Path, outside: Path, registry: ToolRegistry
) -> None:
    write(root, {"sub/a.txt": "hello\n"})
    prepared = await registry.prepare("write_file", {"path": "sub/a.txt", "content": "pwned\n"})
    os.rename(root / "sub", root / "sub_old")
    (root / "sub").symlink_to(outside, target_is_directory=True)
    (outside / "a.txt").write_text("outside a\n")
    with pytest.raises(ToolError):
        await prepared.run()
    assert (outside / "a.txt").read_text() == "outside a\n"


def test_atomic_write_does_not_follow_a_swap_after_the_check(root: Path, outside: Path) -> None:
    """The narrowest window: the path was checked, then swapped, then written."""
    write(root, {"sub/a.txt": "hello\n", "b.txt": "b\n"})
    ws = Workspace([root])
    checked = ws.resolve("sub/a.txt")
    os.rename(root / "sub", root / "sub_old")
    (root / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ToolError, match="symlink"):
        atomic_write(ws, checked, b"pwned\n")
    outside_untouched(outside)

    checked = ws.resolve("b.txt")
    (root / "b.txt").unlink()
    (root / "b.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(ToolError, match="symlink"):
        atomic_write(ws, checked, b"pwned\n")
    outside_untouched(outside)
    assert sorted(p.name for p in root.iterdir()) == ["b.txt", "sub", "sub_old"]


async def test_read_does_not_follow_a_swap_after_the_check(
    root: Path, outside: Path, make_registry: Callable[..., ToolRegistry]
) -> None:
    write(root, {"sub/a.txt": "hello\n"})
    ws = Workspace([root])
    checked = ws.resolve("sub/a.txt")
    os.rename(root / "sub", root / "sub_old")
    (root / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ToolError, match="symlink"):
        ws.open_in_root(checked, os.O_RDONLY)


async def test_create_makes_parent_folders_inside_only(
    root: Path, outside: Path, registry: ToolRegistry
) -> None:
    out = await call(registry, "write_file", path="new/deep/file.txt", content="a\nb\n")
    assert out == "Wrote 2 lines to new/deep/file.txt (created)"
    assert (root / "new/deep/file.txt").read_text() == "a\nb\n"
    with pytest.raises(ToolError, match="outside"):
        await call(registry, "write_file", path="../outside/newdir/x.txt", content="x")
    outside_untouched(outside)
