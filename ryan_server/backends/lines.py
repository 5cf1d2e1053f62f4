"""Line splitting for NDJSON and Server-Sent Events that ends lines at "\n" only.

Written by hand because httpx's `aiter_lines` (which httpx-sse builds on) also splits on Unicode line
separators such as U+0085 and U+2028, and servers send those raw inside JSON strings (Ollama,
llama.cpp and vLLM emit UTF-8 unescaped): a model that wrote one would break the stream. Each network
read is decoded once (incrementally, so a character split across reads survives) and split on "\n";
a trailing "\r" is dropped. Lines come in batches, one per read, so the relay's hot loop takes one
async step per read rather than per delta.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator

import httpx


async def iter_lines(response: httpx.Response) -> AsyncIterator[list[str]]:
    """The response body's lines, without terminators, in batches; the last may lack a newline."""
    decode = codecs.getincrementaldecoder("utf-8")("replace").decode
    pending = ""
    async for chunk in response.aiter_bytes():
        text = decode(chunk)
        if "\n" not in text:
            pending += text
            continue
        lines = (pending + text).split("\n") if pending else text.split("\n")
        pending = lines.pop()
        if "\r" in text:
            lines = [line[:-1] if line.endswith("\r") else line for line in lines]
        yield lines
    pending += decode(b"", True)
    if pending:
        yield [pending]


async def iter_sse_data(response: httpx.Response) -> AsyncIterator[list[str]]:
    """The `data` of each Server-Sent Event (multi-line data joined with "\n"), in batches."""
    data: list[str] = []
    async for lines in iter_lines(response):
        events = []
        for line in lines:
            if not line:
                if data:
                    events.append("\n".join(data))
                    data = []
            elif line.startswith("data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(" ") else value)
        if events:
            yield events
    if data:
        yield ["\n".join(data)]
