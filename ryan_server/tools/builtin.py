"""The five workspace tools: their argument models (whose JSON schemas the model sees) and their work.

Each tool is prepared first (arguments validated, paths checked against the sandbox, the size of a
change measured for the approval question) and run later, after approval; running re-resolves and
re-reads everything, so what lands on disk is decided at run time, never from a stale check.

Search runs ripgrep when it is found (the venv's `bin/` beside `sys.executable` first, then PATH)
and a pure-Python walk otherwise; both apply the same ignore rules (see `workspace.py`), skip
binary files (rg skips a file whose first buffer holds a NUL; the fallback skips any file holding
one), search line by line and print `path:line: text` in the same order (`--sort path`). The regex
dialects differ slightly: rg's Rust syntax has no look-around or backreferences but knows `\\p{L}`;
Python's `re` is the other way round. Each reports its own syntax errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import json
import os
import re
import secrets
import shutil
import stat
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..ports import Editor, EditRejected
from .workspace import ToolError, Workspace, shorten

T = TypeVar("T")

BINARY_PROBE = 8192
MAX_LINE_CHARS = 300  # a search hit's text is cut here (minified files have megabyte lines)
LIST_COUNT_LIMIT = 100_000  # past this many extra files, list_files stops counting

# -- argument models ------------------------------------------------------------------------------


class ToolArgs(BaseModel):
    """Common configuration: camelCase on the wire, snake_case accepted, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        # Small models often send `"glob": null` or `"startLine": ""` for "not given".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None and not (v == "" and k not in _KEEP_EMPTY)}
        return data


_KEEP_EMPTY = frozenset({"content", "newText", "new_text", "oldText", "old_text", "pattern", "path"})


def _clamp(value: int, high: int) -> int:
    return max(1, min(value, high))


class ListFilesArgs(ToolArgs):
    path: str = Field(
        ".", description="Folder to list, relative to the workspace root. Default: the whole workspace."
    )
    glob: str | None = Field(
        None,
        description="Only list files matching this glob, e.g. '*.py' (matches file names anywhere) "
        "or 'src/**/*.ts' (matches paths from the workspace root).",
    )
    max_results: int = Field(200, description="Most files to return.")

    @field_validator("max_results")
    @classmethod
    def _cap(cls, value: int) -> int:
        return _clamp(value, 5000)


class ReadFileArgs(ToolArgs):
    path: str = Field(description="File to read, relative to the workspace root, e.g. 'src/main.py'.")
    start_line: int | None = Field(None, ge=1, description="First line to read (1-based). Default: 1.")
    end_line: int | None = Field(None, ge=1, description="Last line to read (inclusive). Default: the end.")

    @model_validator(mode="after")
    def _order(self) -> ReadFileArgs:
        if self.start_line is not None and self.end_line is not None and self.end_line < self.start_line:
            raise ValueError(f"endLine ({self.end_line}) is before startLine ({self.start_line})")
        return self


class SearchFilesArgs(ToolArgs):
    pattern: str = Field(
        min_length=1,
        description="Regular expression to search file contents for, e.g. 'def load_config' or 'TODO|FIXME'.",
    )
    path: str = Field(
        ".", description="Folder (or file) to search in, relative to the workspace root. Default: everything."
    )
    glob: str | None = Field(
        None, description="Only search files matching this glob, e.g. '*.py' or 'src/**/*.ts'."
    )
    case_sensitive: bool = Field(
        False, description="Match letter case exactly. Default: false (ignore case)."
    )
    max_results: int = Field(100, description="Most matching lines to return.")

    @field_validator("max_results")
    @classmethod
    def _cap(cls, value: int) -> int:
        return _clamp(value, 2000)


class WriteFileArgs(ToolArgs):
    path: str = Field(
        description="File to create or replace, relative to the workspace root. Missing folders are created."
    )
    content: str = Field(description="The complete new content of the file.")


class EditFileArgs(ToolArgs):
    path: str = Field(description="Existing file to change, relative to the workspace root.")
    old_text: str = Field(
        description="The exact text to replace, copied from the file (same whitespace and indentation, "
        "without line numbers). Include enough surrounding lines to make it unique."
    )
    new_text: str = Field(description="The text to put in its place.")
    replace_all: bool = Field(False, description="Replace every occurrence instead of requiring exactly one.")


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    args: type[ToolArgs]
    writes: bool


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "list_files",
        "List the files in a workspace folder and its subfolders (skipping files ignored by .gitignore). "
        "Use it to find out which files exist before reading them.",
        ListFilesArgs,
        False,
    ),
    ToolSpec(
        "read_file",
        "Read a text file from the workspace. Returns its lines prefixed with line numbers ('  12| text'); "
        "the numbers are not part of the file. For large files, read a range with startLine/endLine.",
        ReadFileArgs,
        False,
    ),
    ToolSpec(
        "search_files",
        "Search the contents of workspace files for a regular expression, like grep. "
        "Returns matching lines as 'path:line: text'. Use it to find where something is defined or used.",
        SearchFilesArgs,
        False,
    ),
    ToolSpec(
        "write_file",
        "Create a new file, or replace the entire content of an existing file. To change part of an existing "
        "file, use edit_file instead.",
        WriteFileArgs,
        True,
    ),
    ToolSpec(
        "edit_file",
        "Change part of an existing file: replace oldText, which must occur in the file exactly once "
        "(unless replaceAll is true), with newText. Read the file first and copy oldText exactly.",
        EditFileArgs,
        True,
    ),
)

# -- helpers --------------------------------------------------------------------------------------


def count_lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def split_lines(text: str) -> list[str]:
    """Lines as editors and rg number them: split at `\\n`, a trailing `\\r` dropped, no empty last line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def line_delta(old: str, new: str) -> tuple[int, int]:
    """(lines added, lines removed) going from `old` to `new`."""
    a, b = split_lines(old), split_lines(new)
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if not a or not b or len(a) * len(b) > 4_000_000:
        return len(b), len(a)
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    return added, removed


def _delta_text(delta: tuple[int, int]) -> str:
    return f"+{delta[0]} −{delta[1]} lines"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def is_binary(head: bytes) -> bool:
    return b"\x00" in head[:BINARY_PROBE]


@cache
def find_rg() -> str | None:
    """The ripgrep executable: the one installed beside this Python (the `ripgrep` wheel), else PATH's."""
    beside = Path(sys.executable).parent / ("rg.exe" if os.name == "nt" else "rg")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("rg")


# -- globs ----------------------------------------------------------------------------------------


def glob_to_regex(glob: str) -> str:
    """Translate a glob (ripgrep/globset dialect: `*`, `?`, `**`, `[a-z]`, `[!x]`, `{a,b}`) to a regex."""
    out: list[str] = []
    i, n, depth = 0, len(glob), 0
    while i < n:
        c = glob[i]
        if c == "*":
            if glob.startswith("**", i):
                at_start = i == 0 or glob[i - 1] == "/"
                after = i + 2
                if at_start and after < n and glob[after] == "/":
                    out.append("(?:.*/)?")
                    i = after + 1
                    continue
                if at_start and after == n:
                    out.append(".*")
                    i = after
                    continue
                out.append("[^/]*")
                i = after
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and glob[j] in "!^":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:
                raise ToolError(f"invalid glob {glob!r}: unclosed character class '['")
            body = glob[i + 1 : j]
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            body = body.replace("\\", "\\\\")
            out.append(("[^/" if negate else "[") + body + "]")
            i = j
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        raise ToolError(f"invalid glob {glob!r}: unclosed '{{'")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class GlobFilter:
    """A `glob` argument: without a slash it matches file names, with one the path from the root."""

    glob: str
    by_name: bool
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, glob: str) -> GlobFilter:
        g = glob.strip()
        while g.startswith("./"):
            g = g[2:]
        g = g.lstrip("/")
        if g.endswith("/"):
            g += "**"
        if not g:
            raise ToolError(f"invalid glob {glob!r}: it is empty")
        try:
            regex = re.compile(glob_to_regex(g) + r"\Z", re.DOTALL)
        except re.error as exc:
            raise ToolError(f"invalid glob {glob!r}: {exc}") from exc
        return cls(g, "/" not in g, regex)

    def matches(self, rel: str) -> bool:
        """Whether the root-relative posix path `rel` passes."""
        return self.regex.match(rel.rsplit("/", 1)[-1] if self.by_name else rel) is not None


# -- the tools ------------------------------------------------------------------------------------


class ToolContext:
    """What the tools work with: the sandboxed workspace, the editor port and the limits."""

    def __init__(
        self, workspace: Workspace, editor: Editor, *, max_read_bytes: int, search_backend: str = "auto"
    ) -> None:
        if search_backend not in ("auto", "rg", "python"):
            raise ValueError(f"search_backend must be 'auto', 'rg' or 'python', not {search_backend!r}")
        self.workspace = workspace
        self.editor = editor
        self.max_read_bytes = max_read_bytes
        self.search_backend = search_backend

    def rg(self) -> str | None:
        if self.search_backend == "python":
            return None
        found = find_rg()
        if found is None and self.search_backend == "rg":
            raise ToolError("ripgrep (rg) is not installed")
        return found


class Plan(ABC):
    """A prepared tool call: what to ask the user, and the work to do once allowed."""

    writes: ClassVar[bool] = False

    @abstractmethod
    def approval_message(self) -> str: ...

    @abstractmethod
    async def run(self) -> str: ...


async def _in_thread(fn: Callable[[threading.Event], T]) -> T:
    """Run `fn(cancel)` in a worker thread; if this task is cancelled, tell `fn` to stop."""
    cancel = threading.Event()
    try:
        return await asyncio.to_thread(fn, cancel)
    finally:
        cancel.set()


# list_files ---------------------------------------------------------------------------------------


class ListFiles(Plan):
    def __init__(self, ctx: ToolContext, args: ListFilesArgs) -> None:
        self.ctx, self.args = ctx, args
        self.target = ctx.workspace.resolve(args.path)
        self.glob = GlobFilter.parse(args.glob) if args.glob else None

    def approval_message(self) -> str:
        where = self.ctx.workspace.display(self.target)
        return "Ryan wants to list files" + ("" if where == "." else f" in {where}")

    async def run(self) -> str:
        return await _in_thread(self._list)

    def _list(self, cancel: threading.Event) -> str:
        ws = self.ctx.workspace
        target = ws.resolve(self.args.path)
        root = ws.root_of(target)
        assert root is not None
        files: Iterator[Path] = iter([target]) if target.is_file() else ws.walk_files(target, cancel)
        shown: list[str] = []
        more = 0
        for path in files:
            if self.glob is not None and not self.glob.matches(path.relative_to(root).as_posix()):
                continue
            if len(shown) < self.args.max_results:
                shown.append(ws.display(path))
            else:
                more += 1
                if more >= LIST_COUNT_LIMIT:
                    break
        where = ws.display(target)
        if not shown:
            return f"No files in {where}" + (f" match {self.args.glob!r}" if self.glob else "") + "."
        if more:
            count = f"{more}+" if more >= LIST_COUNT_LIMIT else str(more)
            shown.append(f"… {count} more (narrow with path or glob)")
        return "\n".join(shown)


# read_file ----------------------------------------------------------------------------------------


class ReadFile(Plan):
    def __init__(self, ctx: ToolContext, args: ReadFileArgs) -> None:
        self.ctx, self.args = ctx, args
        self.target = ctx.workspace.resolve(args.path, must_exist=False, allow_dir=False)
        if ctx.editor.open_text(self.target) is None and not os.path.exists(self.target):
            ctx.workspace.resolve(args.path)  # raises the "does not exist" message, with suggestions

    def approval_message(self) -> str:
        rng = ""
        if self.args.start_line or self.args.end_line:
            rng = f" (lines {self.args.start_line or 1}-{self.args.end_line or 'end'})"
        return f"Ryan wants to read {self.ctx.workspace.display(self.target)}{rng}"

    async def run(self) -> str:
        return await _in_thread(self._read)

    def _read(self, cancel: threading.Event) -> str:
        ws = self.ctx.workspace
        target = ws.resolve(self.args.path, must_exist=False, allow_dir=False)
        shown = ws.display(target)
        start, end = self.args.start_line, self.args.end_line
        ranged = start is not None or end is not None
        limit = self.ctx.max_read_bytes
        text = self.ctx.editor.open_text(target)
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
                    f"{shown!r} is a binary file ({_size(st.st_size)}); read_file only reads text"
                )
            if st.st_size <= limit:
                data = head + fh.read()
                try:
                    decoded = data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ToolError(self._not_text(shown, exc)) from exc
                return self._whole(shown, decoded.removeprefix("\ufeff"), start or 1, end)
            fh.seek(0)
            if not ranged:
                total = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
                raise ToolError(self._too_big(shown, st.st_size, total))
            return self._stream(shown, fh, start or 1, end, st.st_size, cancel)

    def _too_big(self, shown: str, size: int, lines: int) -> str:
        return (
            f"{shown!r} is {_size(size)} ({lines} lines), "
            f"over the {_size(self.ctx.max_read_bytes)} read limit; "
            "read part of it with startLine and endLine, or find the place with search_files"
        )

    @staticmethod
    def _not_text(shown: str, exc: UnicodeDecodeError) -> str:
        return f"{shown!r} is not UTF-8 text (invalid byte at offset {exc.start}); read_file only reads text"

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
        for number, raw in enumerate(fh, 1):
            if number < start:
                continue
            if (end is not None and number > end) or budget < 0:
                break
            if cancel.is_set():
                raise ToolError("cancelled")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ToolError(self._not_text(shown, exc)) from exc
            budget -= len(raw)
            lines.append(line.rstrip("\n").removesuffix("\r"))
        if not lines:
            raise ToolError(f"startLine {start} is past the end of {shown!r} ({number} lines)")
        return self._format(lines, start, None, f" of a {_size(size)} file")

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
                    f"… output truncated at the {_size(self.ctx.max_read_bytes)} limit; "
                    f"continue with startLine={number}"
                )
                return "\n".join(out)
            out.append(f"{number:>{width}}| {line}")
        if first > 1 or total is None or last < total:
            out.append(f"(lines {first}-{last}{of})")
        return "\n".join(out)


# search_files -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
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
            hits = await _in_thread(lambda cancel: self._run_python(regex, root, target, limit + 1, cancel))
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
                    rel = _rg_text(data["path"])
                    rel = rel[2:] if rel.startswith("./") else rel
                    if not self._keep(rel):
                        continue
                    if slash_glob and ws.is_ignored(root / rel):
                        continue
                    text = _rg_text(data["lines"]).rstrip("\n").removesuffix("\r")
                    hits.append(Hit(ws.display(root / rel), int(data["line_number"]), text))
                    if len(hits) >= want:
                        break
            if len(hits) < want:
                stderr = await proc.stderr.read()
                code = await proc.wait()
                if code == 2 and not hits and stderr.strip():
                    raise ToolError(_rg_error(self.args.pattern, stderr.decode("utf-8", "replace")))
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


def _rg_text(field: dict[str, str]) -> str:
    if "text" in field:
        return field["text"]
    import base64

    return base64.b64decode(field["bytes"]).decode("utf-8", "replace")


def _rg_error(pattern: str, stderr: str) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    reason = next(
        (line[len("error:") :].strip() for line in reversed(lines) if line.startswith("error:")), None
    )
    if reason is None:
        reason = lines[-1].removeprefix("rg: ") if lines else "ripgrep failed"
    if "regex" in stderr:
        return f"invalid regex {shorten(pattern)!r}: {reason}"
    return f"search failed: {reason}"


# write_file / edit_file -------------------------------------------------------------------------


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


class _WritePlan(Plan):
    """Shared by write_file and edit_file: read the base text, compute the new one, write it."""

    writes: ClassVar[bool] = True
    path_arg: str

    def __init__(self, ctx: ToolContext, path: str) -> None:
        self.ctx = ctx
        self.path_arg = path
        self.target = ctx.workspace.resolve(path, must_exist=False, allow_dir=False)
        self.base = self.read_base(self.target)
        self.new_text, self.replaced = self.compute(self.base)
        self.delta = line_delta(self.base or "", self.new_text)

    @abstractmethod
    def compute(self, base: str | None) -> tuple[str, int]:
        """The new text for `base` and how many replacements made it."""

    def read_base(self, target: Path) -> str | None:
        """The file's current text: the editor's if open there, else the disk's; None if it does not exist."""
        text = self.ctx.editor.open_text(target)
        if text is not None:
            return text
        ws = self.ctx.workspace
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

    async def run(self) -> str:
        ws = self.ctx.workspace
        target = ws.resolve(self.path_arg, must_exist=False, allow_dir=False)
        if target != self.target:
            raise ToolError(
                f"{self.path_arg!r} now leads somewhere else than when the change was approved; refused"
            )
        base = self.read_base(target)
        new_text, replaced = self.compute(base)
        delta = line_delta(base or "", new_text)
        if base == new_text:
            return f"{ws.display(target)} already has this content; nothing changed."
        await self.write(target, base, new_text)
        return self.result(ws.display(target), base, new_text, replaced, delta)

    @abstractmethod
    def result(
        self, shown: str, base: str | None, new_text: str, replaced: int, delta: tuple[int, int]
    ) -> str:
        """What the model is told once the write landed."""

    async def write(self, target: Path, base: str | None, new_text: str) -> None:
        ws = self.ctx.workspace
        created = _missing_folders(ws, target) if base is None else []
        if created:
            # Create the folders now (sandboxed), so that an editor's CreateFile finds them.
            dir_fd = ws.open_parent(target, create_parents=True)[0]
            if dir_fd >= 0:
                os.close(dir_fd)
        try:
            try:
                applied = await self.ctx.editor.apply_edit(target, base, new_text)
            except EditRejected as exc:
                raise ToolError(f"the editor refused the change to {ws.display(target)!r}: {exc}") from exc
            if not applied:
                await asyncio.to_thread(atomic_write, ws, target, new_text.encode("utf-8", "surrogatepass"))
        except BaseException:
            for folder in created:
                with contextlib.suppress(OSError):
                    os.rmdir(folder)
            raise


def _missing_folders(ws: Workspace, target: Path) -> list[Path]:
    """The folders above `target` that do not exist yet, deepest first."""
    missing: list[Path] = []
    folder = target.parent
    while not os.path.lexists(folder) and ws.root_of(folder) is not None:
        missing.append(folder)
        folder = folder.parent
    return missing


class WriteFile(_WritePlan):
    def __init__(self, ctx: ToolContext, args: WriteFileArgs) -> None:
        self.args = args
        super().__init__(ctx, args.path)

    def compute(self, base: str | None) -> tuple[str, int]:
        return self.args.content, 1

    def approval_message(self) -> str:
        shown = self.ctx.workspace.display(self.target)
        if self.base is None:
            return f"Ryan wants to create {shown} ({_plural(count_lines(self.new_text), 'line')})"
        return f"Ryan wants to overwrite {shown} ({_delta_text(self.delta)})"

    def result(
        self, shown: str, base: str | None, new_text: str, replaced: int, delta: tuple[int, int]
    ) -> str:
        lines = _plural(count_lines(new_text), "line")
        if base is None:
            return f"Wrote {lines} to {shown} (created)"
        return f"Wrote {lines} to {shown} (replaced its content: {_delta_text(delta)})"


class EditFile(_WritePlan):
    def __init__(self, ctx: ToolContext, args: EditFileArgs) -> None:
        self.args = args
        if args.old_text == "":
            raise ToolError(
                "oldText is empty; give the exact text to replace (to create a file, use write_file)"
            )
        super().__init__(ctx, args.path)

    def compute(self, base: str | None) -> tuple[str, int]:
        shown = self.ctx.workspace.display(self.target)
        if base is None:
            raise ToolError(f"{shown!r} does not exist; use write_file to create it")
        old, new = self.args.old_text, self.args.new_text
        count = base.count(old)
        if count == 0 and "\r\n" in base and "\r" not in old and "\n" in old:
            # The model saw the file without its \r (read_file shows lines); match CRLF files too.
            old, new = old.replace("\n", "\r\n"), new.replace("\r\n", "\n").replace("\n", "\r\n")
            count = base.count(old)
        if count == 0:
            raise ToolError(
                f"oldText was not found in {shown}; read the file again and copy the text exactly "
                "(whitespace and indentation included, without line numbers)"
            )
        if count > 1 and not self.args.replace_all:
            raise ToolError(
                f"oldText occurs {count} times in {shown}; give more surrounding context to make it unique, "
                "or set replaceAll to replace them all"
            )
        return base.replace(old, new), count

    def approval_message(self) -> str:
        shown = self.ctx.workspace.display(self.target)
        what = "" if self.replaced == 1 else f": replace {self.replaced} occurrences"
        return f"Ryan wants to edit {shown}{what} ({_delta_text(self.delta)})"

    def result(
        self, shown: str, base: str | None, new_text: str, replaced: int, delta: tuple[int, int]
    ) -> str:
        return f"Edited {shown}: replaced {_plural(replaced, 'occurrence')} ({_delta_text(delta)})"


PLANS: dict[str, Callable[[ToolContext, Any], Plan]] = {
    "list_files": ListFiles,
    "read_file": ReadFile,
    "search_files": SearchFiles,
    "write_file": WriteFile,
    "edit_file": EditFile,
}
