"""read_file on text that is not UTF-8 (Latin-1, a stray byte): shown as search_files shows it, with
replacement characters, and the result says so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ryan_server.tools import ToolRegistry

from .util import call, write

NOTE = "not UTF-8"


async def test_latin1_text_is_read_with_replacement_characters_and_a_note(
    root: Path, registry: ToolRegistry
) -> None:
    write(root, {"latin1.txt": "caf\xe9\nna\xefve\n".encode("latin-1"), "ok.txt": "café\n"})
    out = await call(registry, "read_file", path="latin1.txt")
    lines = out.splitlines()
    assert lines[:2] == ["   1| caf\ufffd", "   2| na\ufffdve"]
    assert NOTE in lines[-1] and "\ufffd" in lines[-1] and "latin1.txt" in lines[-1]
    found = await call(registry, "search_files", pattern="caf")
    assert "caf\ufffd" in found  # the same text as search_files shows
    assert NOTE not in await call(registry, "read_file", path="ok.txt")


async def test_a_range_of_a_large_file_with_a_stray_byte(
    root: Path, make_registry: Callable[..., ToolRegistry]
) -> None:
    registry = make_registry(max_read_bytes=10_000)
    body = b"".join(b"entry %05d\n" % i for i in range(1, 2001)) + b"\xff tail\n"
    write(root, {"big.log": body})
    out = await call(registry, "read_file", path="big.log", startLine=2000, endLine=2001)
    lines = out.splitlines()
    assert lines[:2] == ["2000| entry 02000", "2001| \ufffd tail"]
    assert any(NOTE in line for line in lines[2:]), lines
