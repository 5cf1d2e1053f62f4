"""stdin and stdout for the ACP SDK, with stdin filtered so that no line can stop the agent.

The SDK (0.12.1) reads one JSON value per line and crashes its reader on a line that is JSON but not
an object (`[1,2,3]`, `"str"`), stops on `null`, and fails the same way on a response whose `id` or
`error` has the wrong type. So the SDK never reads stdin itself: `FilteredInput` reads it, answers a
line that is not a JSON-RPC message with a JSON-RPC error (`-32700` not JSON, `-32600` not a request)
and hands every other line on. The answers go out through the SDK's own writer, one whole line per
`write`, so they never interleave with its messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import IO, Any

log = logging.getLogger(__name__)

LINE_LIMIT = 50 * 1024 * 1024  # as the SDK's default buffer: large embedded resources fit


def check(line: bytes) -> dict[str, Any] | None:
    """None when the SDK can take `line` (one stripped, non-empty line); else the error to answer."""
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError) as error:
        return _error(None, -32700, f"Parse error: the line is not valid JSON ({error}).")
    if not isinstance(message, dict):
        return _error(None, -32600, f"Invalid request: a message must be an object, not {_kind(message)}.")
    msg_id = message.get("id")
    if not (msg_id is None or isinstance(msg_id, str | int | float)):
        return _error(None, -32600, "Invalid request: 'id' must be a string, a number or null.")
    if "method" in message:
        if not isinstance(message["method"], str):
            return _error(msg_id, -32600, "Invalid request: 'method' must be a string.")
        return None
    if "id" not in message:
        return _error(None, -32600, "Invalid request: a message needs a 'method' (or an 'id' if an answer).")
    if "result" not in message and not isinstance(message.get("error"), dict):
        return _error(msg_id, -32600, "Invalid request: an answer needs a 'result' or an 'error' object.")
    return None


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _error(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


class FilteredInput:
    """Reads `raw` line by line and feeds the SDK's reader the lines it can take."""

    def __init__(self, raw: asyncio.StreamReader, sdk: asyncio.StreamReader, out: asyncio.StreamWriter):
        self._raw = raw
        self._sdk = sdk
        self._out = out

    async def run(self) -> None:
        try:
            while line := await self._read_line():
                self.feed(line)
        except Exception:
            log.exception("reading stdin failed")
        finally:
            self._sdk.feed_eof()

    def feed(self, line: bytes) -> None:
        stripped = line.strip()
        if not stripped:
            return
        error = check(stripped)
        if error is None:
            self._sdk.feed_data(stripped + b"\n")
            return
        log.warning("ignored an input line: %s", error["error"]["message"])
        if not self._out.is_closing():
            self._out.write(json.dumps(error).encode("utf-8") + b"\n")

    async def _read_line(self) -> bytes:
        """The next line, however long (a line over the buffer's limit is read in parts); b"" at EOF."""
        parts: list[bytes] = []
        while True:
            try:
                parts.append(await self._raw.readuntil(b"\n"))
                return b"".join(parts)
            except asyncio.LimitOverrunError as overrun:
                parts.append(await self._raw.readexactly(overrun.consumed))
            except asyncio.IncompleteReadError as eof:
                parts.append(eof.partial)
                return b"".join(parts)


class _WriteProtocol(asyncio.BaseProtocol):
    """What `asyncio.StreamWriter.drain` needs from a write pipe's protocol: pause and resume."""

    def __init__(self) -> None:
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        self._waiter = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.resume_writing()

    async def _drain_helper(self) -> None:
        if self._paused:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter


async def open_streams(
    stdin: IO[bytes], stdout: IO[bytes]
) -> tuple[asyncio.StreamWriter, asyncio.StreamReader, FilteredInput]:
    """The SDK's (writer, reader) over `stdout` and the filtered `stdin`, and the filter to run."""
    loop = asyncio.get_running_loop()
    raw = asyncio.StreamReader(limit=LINE_LIMIT, loop=loop)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(raw, loop=loop), stdin)
    protocol = _WriteProtocol()
    transport, _ = await loop.connect_write_pipe(lambda: protocol, stdout)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    sdk = asyncio.StreamReader(limit=LINE_LIMIT, loop=loop)
    return writer, sdk, FilteredInput(raw, sdk, writer)
