"""search_files: the lines matching a regex in workspace files, as `path:line: text`.

Search runs ripgrep when it is found (see `ripgrep.py`) and a pure-Python walk otherwise; both
apply the same ignore rules (see `workspace.py`), skip binary files (rg skips a file whose first
buffer holds a NUL; the fallback skips any file holding one), search line by line and print
`path:line: text` in the same order (`--sort path`). The regex dialects differ slightly: rg's Rust
syntax has no look-around or backreferences but knows `\\p{L}`; Python's `re` is the other way
round. Each reports its own syntax errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .args import SearchFilesArgs
from .globs import GlobFilter
from .plan import Plan, ToolContext, in_thread
from .ripgrep import rg_error, rg_text
from .text import BINARY_PROBE, is_binary, split_lines
from .workspace import ToolError, shorten

MAX_LINE_CHARS = 300  # a search hit's text is cut here (minified files have megabyte lines)


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching line, as either backend found it."""

    path: str  # as displayed
    line: int
    text: str

    def render(self) -> str:
        text = self.text if len(self.text) <= MAX_LINE_CHARS else self.text[:MAX_LINE_CHARS] + "…"
        return f"{self.path}:{self.line}: {text}"


class SearchFiles(Plan):
    def __init__(self, ctx: ToolContext, args: SearchFilesArgs) -> None:
        self.ctx, self.args = ctx, args
        self.target = ctx.workspace.resolve(args.path)
        self.glob = GlobFilter.parse(args.glob) if args.glob else None
        if "\x00" in args.pattern:
            raise ToolError("pattern contains a NUL byte")
        self.python_regex: re.Pattern[str] | None = None
        if ctx.rg() is None:
            self.python_regex = self._compile()

    def _compile(self) -> re.Pattern[str]:
        try:
            return re.compile(self.args.pattern, 0 if self.args.case_sensitive else re.IGNORECASE)
        except re.error as exc:
            raise ToolError(f"invalid regex {shorten(self.args.pattern)!r}: {exc}") from exc

    def approval_message(self) -> str:
        where = self.ctx.workspace.display(self.target)
        return f"Ryan wants to search files for {shorten(self.args.pattern, 80)!r}" + (
            "" if where == "." else f" in {where}"
        )

    async def run(self) -> str:
        ws = self.ctx.workspace
        target = ws.resolve(self.args.path)
        root = ws.root_of(target)
        assert root is not None
        limit = self.args.max_results
        if target.is_file():
            fd = ws.open_in_root(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as fh:
                if is_binary(fh.read(BINARY_PROBE)):
                    return f"{ws.display(target)} is a binary file; search_files only searches text."
        rg = self.ctx.rg()
        hits: list[Hit] | None = None
        if rg is not None:
            hits = await self._run_rg(rg, root, target, limit + 1)
        if hits is None:
            if self.python_regex is None:
                self.python_regex = self._compile()
            regex = self.python_regex
            hits = await in_thread(lambda cancel: self._run_python(regex, root, target, limit + 1, cancel))
        return self._render(hits, limit)

    def _render(self, hits: list[Hit], limit: int) -> str:
        where = self.ctx.workspace.display(self.target)
        if not hits:
            scope = "" if where == "." else f" in {where}"
            if self.glob is not None:
                scope += f" (files matching {self.args.glob!r})"
            return f"No matches for {shorten(self.args.pattern, 80)!r}{scope}."
        out = [h.render() for h in hits[:limit]]
        if len(hits) > limit:
            out.append(f"… results capped at {limit}; narrow the pattern, path or glob to see the rest")
        return "\n".join(out)

    def _keep(self, rel: str) -> bool:
        return self.glob is None or self.glob.matches(rel)

    async def _run_rg(self, rg: str, root: Path, target: Path, want: int) -> list[Hit] | None:
        """Search with ripgrep; None when it cannot be started (the caller falls back to Python)."""
        ws = self.ctx.workspace
        rel_target = target.relative_to(root).as_posix()
        argv = [
            rg, "--no-config", "--json", "--sort", "path", "--hidden", "--no-require-git", "--no-ignore-dot",
            "--no-ignore-global", "--no-ignore-exclude", "--no-messages", "--crlf",
            "--case-sensitive" if self.args.case_sensitive else "--ignore-case",
        ]  # fmt: skip
        slash_glob = False
        if self.glob is not None:
            if self.glob.by_name:
                # A file type, unlike --glob, filters files only and never overrides .gitignore.
                argv += ["--type-add", f"ryanglob:{self.glob.glob}", "--type", "ryanglob"]
            else:
                slash_glob = True  # filtered below, on root-relative paths, exactly like the fallback
        argv += [
            "--glob",
            "!.git",
            "--regexp",
            self.args.pattern,
            "--",
            rel_target if rel_target != "." else "./",
        ]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=root,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError:
            return None
        assert proc.stdout is not None and proc.stderr is not None
        hits: list[Hit] = []
        buffer = b""
        try:
            while len(hits) < want:
                chunk = await proc.stdout.read(1 << 16)
                if not chunk:
                    break
                buffer += chunk
                if b"\n" not in chunk:
                    continue
                *complete, buffer = buffer.split(b"\n")
                for raw in complete:
                    if not raw.startswith(b'{"type":"match"'):
                        continue
                    data = json.loads(raw)["data"]
                    rel = rg_text(data["path"])
                    rel = rel[2:] if rel.startswith("./") else rel
                    if not self._keep(rel):
                        continue
                    if slash_glob and ws.is_ignored(root / rel):
                        continue
                    text = rg_text(data["lines"]).rstrip("\n").removesuffix("\r")
                    hits.append(Hit(ws.display(root / rel), int(data["line_number"]), text))
                    if len(hits) >= want:
                        break
            if len(hits) < want:
                stderr = await proc.stderr.read()
                code = await proc.wait()
                if code == 2 and not hits and stderr.strip():
                    raise ToolError(rg_error(self.args.pattern, stderr.decode("utf-8", "replace")))
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        return hits

    def _run_python(
        self, regex: re.Pattern[str], root: Path, target: Path, want: int, cancel: threading.Event
    ) -> list[Hit]:
        ws = self.ctx.workspace
        # A whole-file search first skips most files at C speed; it is only sound when the pattern
        # cannot tell a file from a line (no anchors on the whole string, no look-around).
        prefilter = not re.search(r"\\[AZz]|\(\?<?[=!]|\(\?[a-zA-Z]*-", self.args.pattern)
        flags = regex.flags | re.MULTILINE
        whole = re.compile(regex.pattern, flags) if prefilter else None
        files: Iterator[Path] = (
            iter([target]) if target.is_file() else ws.walk_files(target, cancel, include_links=False)
        )
        hits: list[Hit] = []
        for path in files:
            if cancel.is_set():
                break
            rel = path.relative_to(root).as_posix()
            if not self._keep(rel):
                continue
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            if b"\x00" in data:
                continue
            text = data.decode("utf-8", "replace")
            if whole is not None and whole.search(text.replace("\r\n", "\n")) is None:
                continue
            shown: str | None = None
            for number, line in enumerate(split_lines(text), 1):
                if regex.search(line):
                    if shown is None:
                        shown = ws.display(path)
                    hits.append(Hit(shown, number, line))
                    if len(hits) >= want:
                        return hits
        return hits
