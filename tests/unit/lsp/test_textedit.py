"""textedit: minimal LSP edits in UTF-16 positions."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ryan_server.lsp.textedit import TextChange, minimal_edit, position_at

_BREAK = re.compile(r"\r\n|\r|\n")


def lsp_offset(text: str, line: int, character: int) -> int:
    """The code-point offset of an LSP position, the way an editor computes it."""
    starts = [0] + [m.end() for m in _BREAK.finditer(text)]
    assert line < len(starts), (line, starts)
    start = starts[line]
    units = 0
    offset = start
    while units < character:
        assert offset < len(text) and text[offset] not in "\r\n", "position past the end of its line"
        units += 2 if ord(text[offset]) > 0xFFFF else 1
        offset += 1
    assert units == character, "position inside a surrogate pair"
    return offset


def apply(text: str, change: TextChange) -> str:
    start = lsp_offset(text, change.start_line, change.start_character)
    end = lsp_offset(text, change.end_line, change.end_character)
    assert start <= end
    assert not (0 < start < len(text) and text[start - 1] == "\r" and text[start] == "\n")
    assert not (0 < end < len(text) and text[end - 1] == "\r" and text[end] == "\n")
    return text[:start] + change.text + text[end:]


ALPHABET = st.sampled_from(["a", "b", "é", "😀", "𝄞", "\r", "\n", "\r\n", " ", "中"])
TEXT = st.lists(ALPHABET, max_size=30).map("".join)


@given(TEXT, TEXT)
@settings(max_examples=600, deadline=None)
def test_applying_the_change_gives_the_new_text(old: str, new: str) -> None:
    assert apply(old, minimal_edit(old, new)) == new


@given(TEXT, TEXT, TEXT)
@settings(max_examples=300, deadline=None)
def test_change_covers_only_the_middle(prefix: str, middle: str, suffix: str) -> None:
    old = prefix + suffix
    new = prefix + middle + suffix
    change = minimal_edit(old, new)
    assert len(change.text) <= len(middle) + 2  # at most a CR/LF each side is pulled in
    assert apply(old, change) == new


def test_explicit_cases() -> None:
    assert minimal_edit("hello world\n", "hello there\n") == TextChange(0, 6, 0, 11, "there")
    assert minimal_edit("a😀b\n", "a😀c\n") == TextChange(0, 3, 0, 4, "c")  # the emoji is 2 units
    assert minimal_edit("x\r\ny\r\n", "x\r\nz\r\n") == TextChange(1, 0, 1, 1, "z")
    # inserting \r before an existing \n must not leave a position inside a CRLF
    assert apply("a\r\nb", minimal_edit("a\r\nb", "a\r\r\nb")) == "a\r\r\nb"
    assert minimal_edit("same", "same") == TextChange(0, 4, 0, 4, "")
    assert minimal_edit("", "new") == TextChange(0, 0, 0, 0, "new")


def test_position_at_the_end_counts_utf16_and_every_line_break() -> None:
    assert position_at("", 0) == (0, 0)
    assert position_at("abc", 3) == (0, 3)
    assert position_at("a\nb😀", 4) == (1, 3)
    assert position_at("a\r\nb\rc\n", 7) == (3, 0)
