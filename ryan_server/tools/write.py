"""What write_file, edit_file, delete_file and restores share: reading a file's text and putting new
text in its place (`read_current`, `put_text`), and the plan that reads, recomputes and writes.

The current text is the editor's buffer when the file is open there, else the disk's. The new text is
offered to the editor first; when it does not apply it, the file is replaced on disk atomically,
through the sandbox's descriptors that refuse a symlink swapped in on the way. A write through a plan
is noted in the chat's checkpoint (`ToolContext.journal`) before and after it lands.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import anyio

from ..ports import EditRejected
from .plan import Plan, ToolContext
from .text import is_binary, line_delta, unified_diff
from .workspace import ToolError, Workspace


def atomic_write(ws: Workspace, real: Path, data: bytes) -> None:
    """Replace `real` with `data` atomically: temp file in the same folder, fsync, rename.

    The folder is reached through descriptors opened with O_NOFOLLOW from the root (see
    `Workspace.open_parent`) and the rename replaces a directory entry, never following a symlink
    that appeared at the target meanwhile. The temp file is removed on any failure; an existing
    file keeps its permission bits.
    """
    dir_fd, name = ws.open_parent(real, create_parents=True)
    tmp_name: str | None = f".{name[:200]}.ryan-{secrets.token_hex(4)}.tmp"
    use_fd = dir_fd >= 0
    folder = real.parent
    dir_arg: dict[str, Any] = {"dir_fd": dir_fd} if use_fd else {}
    try:
        mode: int | None = None
        try:
            st = os.stat(name if use_fd else real, follow_symlinks=False, **dir_arg)
        except FileNotFoundError:
            pass
        else:
            if stat.S_ISLNK(st.st_mode):
                raise ToolError(f"{ws.display(real)!r} became a symlink while Ryan was writing it; refused")
            if stat.S_ISDIR(st.st_mode):
                raise ToolError(f"{ws.display(real)!r} is a folder, not a file")
            mode = stat.S_IMODE(st.st_mode)
        assert tmp_name is not None
        flags = (
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        )
        fd = os.open(tmp_name if use_fd else folder / tmp_name, flags, 0o666, **dir_arg)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        if use_fd:
            os.replace(tmp_name, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        else:
            ws.recheck(real.parent)
            os.replace(folder / tmp_name, real)
        tmp_name = None
        if use_fd:
            with contextlib.suppress(OSError):
                os.fsync(dir_fd)
    except OSError as exc:
        raise ToolError(f"could not write {ws.display(real)!r}: {exc.strerror or exc}") from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                if use_fd:
                    os.unlink(tmp_name, dir_fd=dir_fd)
                else:
                    os.unlink(folder / tmp_name)
        if use_fd:
            os.close(dir_fd)


def unlink_file(ws: Workspace, real: Path) -> None:
    """Delete the file `real` through the sandbox's descriptors (nothing to do when it is gone)."""
    dir_fd, name = ws.open_parent(real)
    use_fd = dir_fd >= 0
    dir_arg: dict[str, Any] = {"dir_fd": dir_fd} if use_fd else {}
    try:
        st = os.stat(name if use_fd else real, follow_symlinks=False, **dir_arg)
        if stat.S_ISDIR(st.st_mode):
            raise ToolError(f"{ws.display(real)!r} is a folder; Ryan only deletes files")
        os.unlink(name if use_fd else real, **dir_arg)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ToolError(f"could not delete {ws.display(real)!r}: {exc.strerror or exc}") from exc
    finally:
        if use_fd:
            os.close(dir_fd)


async def read_current(ctx: ToolContext, target: Path) -> str | None:
    """The file's current text: the editor's if open there, else the disk's; None if it does not exist."""
    text = await ctx.editor.open_text(target)
    if text is not None:
        return text
    return await anyio.to_thread.run_sync(_read_disk, ctx.workspace, target)


def _read_disk(ws: Workspace, target: Path) -> str | None:
    try:
        fd = ws.open_in_root(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except ToolError:
        if not os.path.lexists(target):
            return None
        raise
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ToolError(f"{ws.display(target)!r} is not a regular file")
        data = fh.read()
    if is_binary(data):
        raise ToolError(f"{ws.display(target)!r} is a binary file; Ryan only edits text files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(
            f"{ws.display(target)!r} is not UTF-8 text; Ryan only edits UTF-8 text files"
        ) from exc


async def put_text(ctx: ToolContext, target: Path, base: str | None, new_text: str | None) -> None:
    """Make `target` (now holding `base`; None: absent) hold `new_text` (None: delete it), through the
    editor when it applies the change, else on disk."""
    ws = ctx.workspace
    created = _missing_folders(ws, target) if base is None and new_text is not None else []
    if created:
        # Create the folders now (sandboxed), so that an editor's CreateFile finds them.
        dir_fd = ws.open_parent(target, create_parents=True)[0]
        if dir_fd >= 0:
            os.close(dir_fd)
    try:
        try:
            applied = await ctx.editor.apply_edit(target, base, new_text)
        except EditRejected as exc:
            raise ToolError(f"the editor refused the change to {ws.display(target)!r}: {exc}") from exc
        if applied:
            return
        # not abandoned on cancellation: the write is atomic, so it finishes before the cancel lands
        if new_text is None:
            await anyio.to_thread.run_sync(unlink_file, ws, target)
        else:
            data = new_text.encode("utf-8", "surrogatepass")
            await anyio.to_thread.run_sync(atomic_write, ws, target, data)
    except BaseException:
        for folder in created:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


class WritePlan(Plan):
    """Shared by write_file and edit_file: read the base text, compute the new one, write it."""

    writes: ClassVar[bool] = True
    path_arg: str
    base: str | None  # the text before the change (None: no file yet), read by `load`
    new_text: str | None  # None: the file is deleted
    replaced: int
    delta: tuple[int, int]

    def __init__(self, ctx: ToolContext, path: str) -> None:
        self.ctx = ctx
        self.path_arg = path
        self.target = ctx.workspace.resolve(path, must_exist=False, allow_dir=False)

    async def load(self) -> None:
        self.base = await read_current(self.ctx, self.target)
        self.new_text, self.replaced = self.compute(self.base)
        self.delta = line_delta(self.base or "", self.new_text or "")

    @abstractmethod
    def compute(self, base: str | None) -> tuple[str | None, int]:
        """The new text for `base` and how many replacements made it."""

    def approval_detail(self) -> str:
        return unified_diff(self.ctx.workspace.display(self.target), self.base, self.new_text)

    async def run(self) -> str:
        ws = self.ctx.workspace
        target = ws.resolve(self.path_arg, must_exist=False, allow_dir=False)
        if target != self.target:
            raise ToolError(
                f"{self.path_arg!r} now leads somewhere else than when the change was approved; refused"
            )
        base = await read_current(self.ctx, target)
        new_text, replaced = self.compute(base)
        delta = line_delta(base or "", new_text or "")
        if base == new_text:
            return f"{ws.display(target)} already has this content; nothing changed."
        await self.write(target, base, new_text)
        return self.result(ws.display(target), base, new_text, replaced, delta)

    @abstractmethod
    def result(
        self, shown: str, base: str | None, new_text: str | None, replaced: int, delta: tuple[int, int]
    ) -> str:
        """What the model is told once the write landed."""

    async def write(self, target: Path, base: str | None, new_text: str | None) -> None:
        journal = self.ctx.journal
        if journal is not None:
            await journal.before_write(target, base)
        await put_text(self.ctx, target, base, new_text)
        if journal is not None:
            await journal.after_write(target, new_text)


def _missing_folders(ws: Workspace, target: Path) -> list[Path]:
    """The folders above `target` that do not exist yet, deepest first."""
    missing: list[Path] = []
    folder = target.parent
    while not os.path.lexists(folder) and ws.root_of(folder) is not None:
        missing.append(folder)
        folder = folder.parent
    return missing
