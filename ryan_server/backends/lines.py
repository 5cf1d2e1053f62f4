"""Byte-level line splitting for NDJSON and Server-Sent Events.

Written by hand because httpx's `aiter_lines` (which httpx-sse builds on) also splits on Unicode line
separators such as U+0085 and U+2028, and servers send those raw inside JSON strings (Ollama,
llama.cpp and vLLM emit UTF-8 unescaped): a model that writes one would break the stream. Here only
b"\\n" ends a line (a trailing b"\\r" is dropped), and nothing is decoded until `json.loads`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx


async def iter_lines(response: httpx.Response) -> AsyncIterator[bytes]:
    """The response body's lines, without their terminators; the last may lack a newline."""
    pending = b""
    async for chunk in response.aiter_bytes():
        if b"\n" not in chunk:
            pending += chunk
            continue
        lines = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
        pending = lines.pop()
        for line in lines:
            yield line[:-1] if line.endswith(b"\r") else line
    if pending:
        yield pending


async def iter_sse_data(response: httpx.Response) -> AsyncIterator[bytes]:
    """The `data` of each Server-Sent Event (multi-line data joined with b"\\n"); other fields ignored."""
    data: list[bytes] = []
    async for line in iter_lines(response):
        if not line:
            if data:
                yield b"\n".join(data)
                data = []
        elif line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
    if data:
        yield b"\n".join(data)
