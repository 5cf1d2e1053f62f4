"""The workspace sandbox: which paths the tools may touch, and which files .gitignore hides.

Every path a model names goes through `Workspace.resolve`, which resolves symlinks and refuses
anything whose real path leaves every workspace root, anything under `.git/`, NUL bytes and
over-long paths. Writes and reads then open files through `open_in_root`, which walks the already
resolved path one component at a time with `O_NOFOLLOW`, so a file or folder swapped for a symlink
between the check and the use is refused instead of followed out of the workspace.

Ignore rules mirror ripgrep run with `--no-require-git --hidden --no-ignore-dot --no-ignore-global
--no-ignore-exclude`, so that `rg` and the pure-Python search fallback see the same files:
`.gitignore` files apply from the folder that holds them downwards, a deeper file's decision wins,
ancestors above a workspace root count too up to (and including) the nearest folder holding `.git`,
hidden files are included, and `.git` itself is always skipped. A path named explicitly (the folder
given to list or search) is used even when ignored; the rules still apply below it.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

MAX_PATH_CHARS = 4096
MAX_COMPONENT_CHARS = 255
GITIGNORE = ".gitignore"
GIT_DIR = ".git"

_HAS_DIR_FD = os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")


class ToolError(Exception):
    """A tool could not do what was asked; the message is written for the model to act on."""


def shorten(text: str, limit: int = 120) -> str:
    """`text` cut to `limit` characters for an error message (a 10,000-character path stays readable)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class _DirRules:
    """One folder's ignore state: its .gitignore (if any) and whether it holds a `.git`."""

    path: str
    spec: GitIgnoreSpec | None
    has_git: bool
    stamp: tuple[int, int] | None  # (mtime_ns, size) of the .gitignore, to notice edits cheaply


class Workspace:
    """The folders the tools may see, with the sandbox checks and the .gitignore rules over them."""

    def __init__(self, roots: Sequence[Path]) -> None:
        real: list[Path] = []
        for root in roots:
            resolved = Path(os.path.realpath(root))
            if resolved not in real:
                real.append(resolved)
        self.roots: tuple[Path, ...] = tuple(real)
        self._rules: dict[str, _DirRules] = {}
        self._lock = threading.Lock()

    # -- paths -------------------------------------------------------------------------------

    def _require_roots(self) -> None:
        if not self.roots:
            raise ToolError("no workspace folder is open; open a folder in the editor to use file tools")

    def root_of(self, real: Path) -> Path | None:
        """The (innermost) root holding the real path `real`, or None when it is outside them all."""
        best: Path | None = None
        for root in self.roots:
            if (real == root or real.is_relative_to(root)) and (
                best is None or len(root.parts) > len(best.parts)
            ):
                best = root
        return best

    def resolve(self, path: str, *, must_exist: bool = True, allow_dir: bool = True) -> Path:
        """The real path for `path` as the model wrote it, or ToolError saying why it is refused.

        Relative paths are taken from the first root; absolute ones must lie inside a root. The
        result has every symlink resolved (a missing tail, when `must_exist` is False, is appended
        as written after its existing ancestors are resolved).
        """
        self._require_roots()
        shown = shorten(path)
        if "\x00" in path:
            raise ToolError(f"path {shown!r} contains a NUL byte")
        if len(path) > MAX_PATH_CHARS:
            raise ToolError(
                f"path {shown!r} is too long ({len(path)} characters; the limit is {MAX_PATH_CHARS})"
            )
        if any(len(part) > MAX_COMPONENT_CHARS for part in path.replace("\\", "/").split("/")):
            raise ToolError(f"path {shown!r} has a name longer than {MAX_COMPONENT_CHARS} characters")
        given = Path(path.strip() or ".")
        candidate = given if given.is_absolute() else self.roots[0] / given
        real = Path(os.path.realpath(candidate))
        root = self.root_of(real)
        if root is None:
            raise ToolError(
                f"path {shown!r} is outside the workspace; use a path inside {self.display_roots()}"
            )
        if any(part.casefold() == GIT_DIR for part in real.relative_to(root).parts) or any(
            part.casefold() == GIT_DIR for part in given.parts
        ):
            raise ToolError(f"path {shown!r} is inside .git/, which Ryan never reads or writes")
        if must_exist and not os.path.exists(real):
            raise ToolError(self._missing_message(path, real))
        if not allow_dir and os.path.isdir(real):
            raise ToolError(
                f"{self.display(real)!r} is a folder, not a file; use list_files to see what is in it"
            )
        return real

    def _missing_message(self, path: str, real: Path) -> str:
        message = f"{shorten(path)!r} does not exist"
        parent = real.parent
        try:
            names = [n for n in os.listdir(parent) if n != GIT_DIR]
        except OSError:
            return message + "; use list_files to see which files exist"
        import difflib

        close = difflib.get_close_matches(real.name, names, n=3, cutoff=0.6)
        if close:
            return (
                message + "; did you mean " + " or ".join(repr(self.display(parent / n)) for n in close) + "?"
            )
        return message + "; use list_files to see which files exist"

    def display(self, real: Path) -> str:
        """How the model sees `real` so it can pass it back: relative to the first root, else absolute."""
        if self.roots and (real == self.roots[0] or real.is_relative_to(self.roots[0])):
            rel = real.relative_to(self.roots[0]).as_posix()
            return rel if rel != "." else "."
        return real.as_posix()

    def display_roots(self) -> str:
        return ", ".join(str(r) for r in self.roots)

    # -- opening without following swapped-in symlinks ------------------------------------------

    def open_in_root(self, real: Path, flags: int, mode: int = 0o666, *, create_parents: bool = False) -> int:
        """Open the resolved path `real` as a file descriptor, refusing any symlink met on the way.

        `real` must come from `resolve` (no symlinks in it at check time): each folder from the root
        down is opened with O_NOFOLLOW, so one replaced by a symlink since then fails here instead of
        leading out. With `create_parents`, missing folders are created (inside the root only).
        """
        dir_fd, name = self.open_parent(real, create_parents=create_parents)
        try:
            return (
                os.open(name, flags | os.O_NOFOLLOW, mode, dir_fd=dir_fd)
                if _HAS_DIR_FD
                else os.open(real, flags, mode)
            )
        except OSError as exc:
            raise self._os_error(real, exc) from exc
        finally:
            if dir_fd >= 0:
                os.close(dir_fd)

    def open_parent(self, real: Path, *, create_parents: bool = False) -> tuple[int, str]:
        """A descriptor for `real`'s folder (opened component by component with O_NOFOLLOW) and its name.

        Returns (-1, name) where the platform has no `dir_fd` support; callers then use plain paths
        after `recheck`.
        """
        root = self.root_of(real)
        if root is None or real == root:
            raise ToolError(f"{self.display(real)!r} is not a file inside the workspace")
        parts = real.relative_to(root).parts
        if not _HAS_DIR_FD:
            if create_parents:
                os.makedirs(real.parent, exist_ok=True)
            self.recheck(real)
            return -1, parts[-1]
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for part in parts[:-1]:
                try:
                    nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                except FileNotFoundError:
                    if not create_parents:
                        raise
                    os.mkdir(part, dir_fd=fd)
                    nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = nxt
        except OSError as exc:
            os.close(fd)
            raise self._os_error(real, exc) from exc
        return fd, parts[-1]

    def recheck(self, real: Path) -> None:
        """Re-resolve `real` right before use and refuse if it now leads somewhere else."""
        again = Path(os.path.realpath(real))
        if again != real or self.root_of(again) is None:
            raise ToolError(
                f"{self.display(real)!r} changed while Ryan was using it (it now leads elsewhere)"
            )

    def _os_error(self, real: Path, exc: OSError) -> ToolError:
        import errno

        shown = self.display(real)
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return ToolError(
                f"{shown!r} changed while Ryan was using it (a symlink appeared on the way); refused"
            )
        if exc.errno == errno.ENOENT:
            return ToolError(f"{shown!r} does not exist")
        if exc.errno == errno.EISDIR:
            return ToolError(f"{shown!r} is a folder, not a file")
        return ToolError(f"cannot open {shown!r}: {exc.strerror or exc}")

    # -- .gitignore ----------------------------------------------------------------------------

    def dir_rules(
        self, folder: str, *, gitignore_exists: bool | None = None, has_git: bool | None = None
    ) -> _DirRules:
        """The ignore state of `folder` (a real path), cached and re-read when its .gitignore changes.

        A walk that has just listed the folder passes what it saw, sparing the stat calls.
        """
        gi = os.path.join(folder, GITIGNORE)
        stamp: tuple[int, int] | None = None
        if gitignore_exists is not False:
            try:
                st = os.stat(gi)
                if stat.S_ISREG(st.st_mode):
                    stamp = (st.st_mtime_ns, st.st_size)
            except OSError:
                stamp = None
        if has_git is None:
            has_git = os.path.lexists(os.path.join(folder, GIT_DIR))
        cached = self._rules.get(folder)
        if cached is not None and cached.stamp == stamp and cached.has_git == has_git:
            return cached
        spec: GitIgnoreSpec | None = None
        if stamp is not None:
            try:
                with open(gi, encoding="utf-8", errors="replace") as fh:
                    spec = GitIgnoreSpec.from_lines(fh.read().splitlines())
            except (OSError, ValueError):
                spec = None
            if spec is not None and not spec.patterns:
                spec = None
        rules = _DirRules(folder, spec, has_git, stamp)
        with self._lock:
            self._rules[folder] = rules
        return rules

    def _chain(self, folder: Path) -> list[_DirRules]:
        """The rules that apply to entries of `folder`, deepest first, cut after the nearest `.git` holder."""
        chain: list[_DirRules] = []
        current = folder
        while True:
            rules = self.dir_rules(str(current))
            chain.append(rules)
            if rules.has_git or current.parent == current:
                return chain
            current = current.parent

    @staticmethod
    def _decide(chain: Sequence[_DirRules], path: str, is_dir: bool, inherited_ok: bool) -> bool:
        """Whether `path` (absolute, real) is ignored by `chain` (deepest first)."""
        for rules in chain:
            if rules.spec is None:
                continue
            rel = path[len(rules.path) :].lstrip("/") if path.startswith(rules.path) else None
            if not rel:
                continue
            result = rules.spec.check_file(rel + "/" if is_dir else rel)
            if result.include is None:
                continue
            if inherited_ok and result.include and "/" in rel:
                # Inside a folder named explicitly although ignored: a pattern that matched the
                # folder itself would match everything below it in pathspec, not in git or rg.
                parent = rules.spec.check_file(rel.rsplit("/", 1)[0] + "/")
                if parent.include and parent.index == result.index:
                    continue
            return bool(result.include)
        return False

    def is_ignored(self, real: Path) -> bool:
        """Whether `real` (a resolved path in the workspace) or a folder above it is ignored."""
        root = self.root_of(real)
        if root is None:
            return True
        rel_parts = real.relative_to(root).parts
        if any(p == GIT_DIR for p in rel_parts):
            return True
        current = root
        for i, part in enumerate(rel_parts):
            child = current / part
            is_dir = i < len(rel_parts) - 1 or os.path.isdir(child)
            if self._decide(self._chain(current), str(child), is_dir, inherited_ok=False):
                return True
            current = child
        return False

    def walk_files(
        self, start: Path, cancel: threading.Event | None = None, *, include_links: bool = True
    ) -> Iterator[Path]:
        """The files below the folder `start` (a resolved path), in ripgrep's `--sort path` order.

        Honours the ignore rules, skips `.git`, never follows symlinked folders, and yields symlinked
        files (with `include_links`) only when they lead to a file inside the workspace; rg skips
        symlinks altogether, so search passes False. Unreadable folders are skipped silently.
        """
        inherited = self.root_of(start) != start and self.is_ignored(start)
        parent_chain = self._chain(start.parent) if start.parent != start else []
        yield from self._walk(start, parent_chain, inherited, cancel, include_links)

    def _walk(
        self,
        folder: Path,
        parent_chain: list[_DirRules],
        inherited: bool,
        cancel: threading.Event | None,
        include_links: bool,
    ) -> Iterator[Path]:
        if cancel is not None and cancel.is_set():
            return
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        names = {e.name for e in entries if e.name in (GITIGNORE, GIT_DIR)}
        folder_s = str(folder)
        rules = self.dir_rules(folder_s, gitignore_exists=GITIGNORE in names, has_git=GIT_DIR in names)
        chain = [rules] if rules.has_git else [rules, *parent_chain]
        prefix = folder_s.rstrip("/") + "/"
        for entry in entries:
            name = entry.name
            if name == GIT_DIR:
                continue
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            path = prefix + name
            if self._decide(chain, path, is_dir, inherited):
                continue
            if is_dir:
                yield from self._walk(Path(path), chain, inherited, cancel, include_links)
                if cancel is not None and cancel.is_set():
                    return
            elif is_link:
                if include_links:
                    target = Path(os.path.realpath(path))
                    if (
                        self.root_of(target) is not None
                        and os.path.isfile(target)
                        and not self.is_ignored(target)
                    ):
                        yield Path(path)
            elif entry.is_file(follow_symlinks=False):
                yield Path(path)
