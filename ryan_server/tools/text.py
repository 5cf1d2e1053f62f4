"""Text helpers the tools share: lines and line deltas, plurals, sizes, binary files, capped output."""

from __future__ import annotations

import difflib

BINARY_PROBE = 8192  # how much of a file's head is looked at for a NUL byte


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


def delta_text(delta: tuple[int, int]) -> str:
    """A `line_delta` as the approval question and the result show it: `+3 −1 lines`."""
    return f"+{delta[0]} −{delta[1]} lines"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def human_size(n: int) -> str:
    """A byte count for people: `512 bytes`, `1.5 KB`, `2.0 MB`."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def is_binary(head: bytes) -> bool:
    return b"\x00" in head[:BINARY_PROBE]


DIFF_LINES = 60  # lines of a change shown with its approval question


def unified_diff(name: str, old: str | None, new: str | None, limit: int | None = DIFF_LINES) -> str:
    """The change from `old` to `new` (None: no file) as a unified diff, cut after `limit` lines."""
    lines = list(
        difflib.unified_diff(
            (old or "").splitlines(),
            (new or "").splitlines(),
            "/dev/null" if old is None else f"a/{name}",
            "/dev/null" if new is None else f"b/{name}",
            lineterm="",
        )
    )
    if limit is not None and len(lines) > limit:
        lines = [*lines[:limit], f"… {len(lines) - limit} more lines of the diff"]
    return "\n".join(lines)


def cap_output(text: str, limit: int) -> str:
    """`text` cut to about `limit` bytes of UTF-8: its head and tail kept, the middle replaced by a line
    saying how much was left out (the end of a tool's output is often the part that matters)."""
    if len(text) <= limit // 4:  # no character takes more than 4 bytes
        return text
    data = text.encode()
    if len(data) <= limit:
        return text
    keep = max(limit // 2, 1)
    head = data[:keep].decode(errors="ignore")
    tail = data[-keep:].decode(errors="ignore")
    return f"{head}\n… {human_size(len(data) - 2 * keep)} left out …\n{tail}"
