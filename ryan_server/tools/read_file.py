"""read_file: a text file's lines, numbered, from the editor's buffer when open there, else from disk.

A file over the read limit is refused unless a line range is asked for; a range of a file too large
to load is read line by line. The output itself is kept within the limit too. Text that is not UTF-8
(Latin-1, a stray byte) is shown as search_files shows it, with replacement characters, and a note says so.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

import anyio

from .args import ReadFileArgs
from .plan import Plan, ToolContext, in_thread
from .text import BINARY_PROBE, count_lines, human_size, is_binary, split_lines
from .workspace import ToolError


class ReadFile(Plan):
    def __init__(self, ctx: ToolContext, args: ReadFileArgs) -> None:
        self.ctx, self.args = ctx, args
        self.target = ctx.workspace.resolve(args.path, must_exist=False, allow_dir=False)

    async def load(self) -> None:
        if await self.ctx.editor.open_text(self.target) is None:
            if not await anyio.to_thread.run_sync(os.path.exists, self.target):
                self.ctx.workspace.resolve(self.args.path)  # raises "does not exist", with suggestions

    def approval_message(self) -> str:
        rng = ""
        if self.args.start_line or self.args.end_line:
            rng = f" (lines {self.args.start_line or 1}-{self.args.end_line or 'end'})"
        return f"Ryan wants to read {self.ctx.workspace.display(self.target)}{rng}"

    async def run(self) -> str:
        target = self.ctx.workspace.resolve(self.args.path, must_exist=False, allow_dir=False)
        text = await self.ctx.editor.open_text(target)
        return await in_thread(lambda cancel: self._read(cancel, target, text))

    def _read(self, cancel: threading.Event, target: Path, text: str | None) -> str:
        """Read `target`, or show `text` (the editor's buffer of it) when there is one."""
        ws = self.ctx.workspace
        shown = ws.display(target)
        start, end = self.args.start_line, self.args.end_line
        ranged = start is not None or end is not None
        limit = self.ctx.max_read_bytes
        if text is not None:
            if not ranged and len(text.encode("utf-8", "surrogatepass")) > limit:
                raise ToolError(
                    self._too_big(shown, len(text.encode("utf-8", "surrogatepass")), count_lines(text))
                )
            return self._whole(shown, text, start or 1, end)
        fd = ws.open_in_root(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise ToolError(f"{shown!r} is a folder, not a file; use list_files to see what is in it")
            if not stat.S_ISREG(st.st_mode):
                raise ToolError(f"{shown!r} is not a regular file")
            head = fh.read(BINARY_PROBE)
            if is_binary(head):
                raise ToolError(
                    f"{shown!r} is a binary file ({human_size(st.st_size)}); read_file only reads text"
                )
            if st.st_size <= limit:
                text, lossy = _decode(head + fh.read())
                return self._whole(shown, text.removeprefix("\ufeff"), start or 1, end) + _note(shown, lossy)
            fh.seek(0)
            if not ranged:
                total = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
                raise ToolError(self._too_big(shown, st.st_size, total))
            return self._stream(shown, fh, start or 1, end, st.st_size, cancel)

    def _too_big(self, shown: str, size: int, lines: int) -> str:
        return (
            f"{shown!r} is {human_size(size)} ({lines} lines), "
            f"over the {human_size(self.ctx.max_read_bytes)} read limit; "
            "read part of it with startLine and endLine, or find the place with search_files"
        )

    def _whole(self, shown: str, text: str, start: int, end: int | None) -> str:
        lines = split_lines(text)
        total = len(lines)
        if total == 0:
            return f"{shown} is empty."
        if start > total:
            raise ToolError(f"startLine {start} is past the end of {shown!r} ({total} lines)")
        last = min(end or total, total)
        return self._format(lines[start - 1 : last], start, total, f" of {total}")

    def _stream(
        self, shown: str, fh: Any, start: int, end: int | None, size: int, cancel: threading.Event
    ) -> str:
        """Read lines [start, end] of a file too large to load, one line at a time."""
        lines: list[str] = []
        number = 0
        budget = self.ctx.max_read_bytes
        lossy = False
        for number, raw in enumerate(fh, 1):
            if number < start:
                continue
            if (end is not None and number > end) or budget < 0:
                break
            if cancel.is_set():
                raise ToolError("cancelled")
            line, bad = _decode(raw)
            lossy |= bad
            budget -= len(raw)
            lines.append(line.rstrip("\n").removesuffix("\r"))
        if not lines:
            raise ToolError(f"startLine {start} is past the end of {shown!r} ({number} lines)")
        return self._format(lines, start, None, f" of a {human_size(size)} file") + _note(shown, lossy)

    def _format(self, lines: list[str], first: int, total: int | None, of: str) -> str:
        """Number `lines` (the first is line `first`), keeping the output within the read limit."""
        last = first + len(lines) - 1
        width = max(4, len(str(last)))
        out: list[str] = []
        budget = self.ctx.max_read_bytes
        for number, line in enumerate(lines, first):
            budget -= len(line) + width + 3
            if budget < 0 and out:
                out.append(
                    f"… output truncated at the {human_size(self.ctx.max_read_bytes)} limit; "
                    f"continue with startLine={number}"
                )
                return "\n".join(out)
            out.append(f"{number:>{width}}| {line}")
        if first > 1 or total is None or last < total:
            out.append(f"(lines {first}-{last}{of})")
        return "\n".join(out)


def _decode(data: bytes) -> tuple[str, bool]:
    """UTF-8, with bytes that are not shown as U+FFFD (as search_files shows them); True if any were."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), True


def _note(shown: str, lossy: bool) -> str:
    if not lossy:
        return ""
    return (
        f"\n(note: {shown} is not UTF-8 text, perhaps Latin-1: the bytes that are not UTF-8 are shown "
        "as \ufffd, and edit_file and write_file refuse the file)"
    )
