"""Minimal text edits in LSP coordinates, for sending a tool's change to the editor as a small edit.

LSP positions are a 0-based line and a character offset in UTF-16 code units; lines end at
`\\r\\n`, `\\n` or `\\r`. `minimal_edit` trims the common prefix and suffix so the edit covers only the
changed region (keeping the editor's cursor, folds and undo history tidy), and never puts a
position between the `\\r` and `\\n` of one line break. Python strings hold whole code points, so a
position can never fall inside a surrogate pair.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextChange:
    """Replace the range [start, end) of the old text with `text` (LSP coordinates)."""

    start_line: int
    start_character: int
    end_line: int
    end_character: int
    text: str


def _utf16_len(text: str) -> int:
    # Every code point above U+FFFF takes two UTF-16 code units.
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF) if not text.isascii() else len(text)


def position_at(text: str, offset: int) -> tuple[int, int]:
    """The LSP (line, character) of code-point `offset` in `text`."""
    crlf = text.count("\r\n", 0, offset)
    line = text.count("\n", 0, offset) + text.count("\r", 0, offset) - crlf
    line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    return line, _utf16_len(text[line_start:offset])


def _common_prefix(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    # Binary search on slice equality: O(n log n) in C rather than a Python loop over characters.
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, limit
    la, lb = len(a), len(b)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid :] == b[lb - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def minimal_edit(old: str, new: str) -> TextChange:
    """The smallest single `TextChange` that turns `old` into `new`."""
    prefix = _common_prefix(old, new)
    if 0 < prefix < len(old) and old[prefix - 1] == "\r" and old[prefix] == "\n":
        prefix -= 1
    suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    end = len(old) - suffix
    if 0 < end < len(old) and old[end - 1] == "\r" and old[end] == "\n":
        suffix -= 1
        end += 1
    start_line, start_char = position_at(old, prefix)
    end_line, end_char = position_at(old, end)
    return TextChange(start_line, start_char, end_line, end_char, new[prefix : len(new) - suffix])
