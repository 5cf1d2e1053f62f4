"""A scripted LLM backend for tests: a real HTTP/1.1 server on loopback, not a mock.

`FakeLLM` listens on 127.0.0.1 (a free port) in a background thread with its own asyncio loop, so it
serves in-process async tests and a server subprocess alike. It speaks enough of Ollama's native API
(`/api/chat` NDJSON, `/api/tags`, `/api/show`, `/api/version`) and of the OpenAI API
(`/v1/chat/completions` SSE, `/v1/models`) for a client to stream from it. Each chat POST plays the
next queued response (`Reply`, `HttpError`, `Raw`), so a test scripts exactly what the "model" says,
how fast, and how it fails (dropped sockets, stalls, error lines, bytes split inside UTF-8).

HTTP is written by hand on `asyncio.start_server` (stdlib only): keep-alive, Content-Length or
chunked request bodies, chunked responses with one HTTP chunk per rendered line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

__all__ = ["FakeLLM", "HttpError", "Part", "Raw", "Recorded", "Reply", "Text", "Think", "ToolCall", "pieces"]

CHAT_PATHS = ("/api/chat", "/v1/chat/completions")
_DETAILS = {
    "format": "gguf",
    "family": "llama",
    "families": ["llama"],
    "parameter_size": "3B",
    "quantization_level": "Q4_K_M",
}


@dataclass(frozen=True)
class Text:
    """An answer delta."""

    text: str


@dataclass(frozen=True)
class Think:
    """A reasoning delta (Ollama `thinking`, OpenAI `reasoning_content` or `Reply.reasoning_field`)."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """A tool call; `id` None lets the server make one up (`call_N`, N counting since reset)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


Part = Text | Think | ToolCall


def pieces(text: str, sizes: Sequence[int] = (1, 3, 2)) -> list[Text]:
    """`text` as deltas of a few characters each (cycling through `sizes`), so that markers such as
    `<tool_call>` straddle the chunks a client reads."""
    out: list[Text] = []
    start = 0
    for size in itertools.cycle(sizes):
        if start >= len(text):
            return out
        out.append(Text(text[start : start + size]))
        start += size
    return out


_AUTO: Any = object()


@dataclass
class Reply:
    """A scripted model reply, rendered as NDJSON or SSE (or one JSON body when not streaming).

    Counts in `drop_after` / `stall_after` / `error_after` are parts already sent; a count equal to
    `len(parts)` acts after the last part, before the final chunk. `usage` defaults to
    `(12, len(parts))`; None leaves the counts out.
    """

    parts: Sequence[Part]
    _: KW_ONLY
    delay: float = 0.0
    first_delay: float = 0.0
    usage: tuple[int, int] | None = _AUTO
    done_reason: str = "stop"
    drop_after: int | None = None
    stall_after: int | None = None
    stall_seconds: float = 0.0
    error_after: int | None = None
    error_message: str = "boom"
    reasoning_field: str = "reasoning_content"
    split_bytes: bool = False

    def __post_init__(self) -> None:
        self.parts = [Text(self.parts)] if isinstance(self.parts, str) else list(self.parts)
        if self.usage is _AUTO:
            self.usage = (12, len(self.parts))


@dataclass
class HttpError:
    """Answer with `status`; `times` > 1 keeps it at the head of the queue for that many requests."""

    status: int
    body: str | dict[str, Any] | None = None
    _: KW_ONLY
    headers: dict[str, str] | None = None
    times: int = 1


@dataclass
class Raw:
    """Write exactly these byte chunks as a 200 chunked body (one HTTP chunk each)."""

    chunks: Sequence[bytes]
    _: KW_ONLY
    delay: float = 0.0
    content_type: str = "application/x-ndjson"


Response = Reply | HttpError | Raw


@dataclass
class Recorded:
    """One request as received: headers have lower-case keys; `json` is the parsed body or None."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    body: bytes = b""


class _ClientGone(Exception):
    """The client closed (or reset) the connection."""


class _Conn:
    """One TCP connection: our own read buffer, so a watcher can notice EOF while we respond."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.buf = bytearray()
        self.gone = asyncio.Event()

    async def fill(self) -> None:
        try:
            data = await self.reader.read(65536)
        except ConnectionError:
            data = b""
        if not data:
            self.gone.set()
            raise _ClientGone
        self.buf += data

    async def read_until(self, sep: bytes) -> bytes:
        while (i := self.buf.find(sep)) < 0:
            await self.fill()
        out = bytes(self.buf[:i])
        del self.buf[: i + len(sep)]
        return out

    async def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            await self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def watch(self) -> None:
        """Run while responding: sets `gone` on EOF (keeps any pipelined bytes in `buf`)."""
        try:
            while True:
                await self.fill()
        except _ClientGone:
            pass

    async def write(self, data: bytes) -> None:
        if self.gone.is_set():
            raise _ClientGone
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            self.gone.set()
            raise _ClientGone from exc

    async def sleep(self, seconds: float) -> None:
        """Sleep, but raise `_ClientGone` as soon as the client goes away."""
        if seconds > 0:
            try:
                await asyncio.wait_for(self.gone.wait(), seconds)
            except TimeoutError:
                return
        if self.gone.is_set():
            raise _ClientGone


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def _split(data: bytes) -> list[bytes]:
    """Cut at awkward offsets: after the first byte, inside the first multi-byte char, mid, last."""
    cuts = {1, len(data) // 2, len(data) - 1}
    lead = next((i for i, b in enumerate(data) if b >= 0xC0), None)
    if lead is not None:
        cuts.add(lead + 1)
    edges = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def _thirds(s: str) -> list[str]:
    n = len(s)
    pieces = [s[: n // 3], s[n // 3 : 2 * n // 3], s[2 * n // 3 :]]
    return [p for p in pieces if p] or [s]


class FakeLLM:
    """The scripted backend. `url` is the Ollama root; the OpenAI base is `url + "/v1"`.

    Thread-safe to drive from the test thread: `enqueue`, `reset`, `wait_disconnect`, `models`.
    `connections` counts accepted TCP connections (to check keep-alive reuse).
    """

    def __init__(self, models: list[str] | None = None, no_tools: set[str] | None = None) -> None:
        default = ["llama3.2:latest", "qwen2.5-coder:7b"]
        self.models: list[str] = list(models if models is not None else default)
        self.no_tools: set[str] = set(no_tools or ())
        self.context_length = 8192  # what /api/show and /props report
        self.requests: list[Recorded] = []
        self.disconnects = 0
        self.connections = 0
        self._queue: deque[list[Any]] = deque()  # [response, remaining uses]
        self._lock = threading.Lock()
        self._disc = threading.Event()
        self._call_ids = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._conns: set[_Conn] = set()
        self._closing = False
        self.port = 0

    # -- test-facing API ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("FakeLLM is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path in CHAT_PATHS]

    def enqueue(self, *responses: Response) -> None:
        with self._lock:
            self._queue.extend([r, r.times if isinstance(r, HttpError) else 1] for r in responses)

    def wait_disconnect(self, timeout: float = 2.0) -> bool:
        return self._disc.wait(timeout)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.disconnects = self.connections = self._call_ids = 0
            self._disc.clear()

    def start(self) -> FakeLLM:
        if self._thread:
            return self
        loop = self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="FakeLLM", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), loop).result(5)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(5)
        except Exception:
            pass  # best effort: stop() must never hang or raise
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        if not thread.is_alive():
            loop.close()
        self._loop = self._thread = self._server = None
        self.port = 0
        self._closing = False

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- plumbing ----------------------------------------------------------------------------------
    async def _open(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        self._closing = True
        if self._server:
            self._server.close()
        for conn in list(self._conns):
            conn.writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)

    def _next(self) -> Response:
        with self._lock:
            if not self._queue:
                return Reply([Text("Hello from the fake.")])
            entry = self._queue[0]
            entry[1] -= 1
            if entry[1] <= 0:
                self._queue.popleft()
            return entry[0]  # type: ignore[no-any-return]

    def _note_disconnect(self) -> None:
        if self._closing:
            return
        with self._lock:
            self.disconnects += 1
        self._disc.set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = _Conn(reader, writer)
        self._tasks.add(task)
        self._conns.add(conn)
        self.connections += 1
        try:
            while True:
                head = (await conn.read_until(b"\r\n\r\n")).decode("latin-1")
                line, *lines = head.split("\r\n")
                method, target, _ = line.split(" ", 2)
                headers = {}
                for h in lines:
                    k, _, v = h.partition(":")
                    headers[k.strip().lower()] = v.strip()
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    body = await self._read_chunked(conn)
                else:
                    body = await conn.read_exact(int(headers.get("content-length") or 0))
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    parsed = None
                rec = Recorded(method, target.split("?", 1)[0], headers, parsed, body)
                self.requests.append(rec)
                keep = await self._dispatch(conn, rec)
                if not keep or headers.get("connection", "").lower() == "close":
                    break
        except (_ClientGone, ValueError, asyncio.CancelledError):
            pass  # the client left, sent garbage, or stop() cancelled us: just close
        finally:
            self._tasks.discard(task)
            self._conns.discard(conn)
            if conn.gone.is_set():
                writer.transport.abort()
            else:
                writer.close()

    @staticmethod
    async def _read_chunked(conn: _Conn) -> bytes:
        out = bytearray()
        while n := int((await conn.read_until(b"\r\n")).split(b";")[0], 16):
            out += await conn.read_exact(n)
            await conn.read_exact(2)
        while await conn.read_until(b"\r\n"):  # trailers
            pass
        return bytes(out)

    @staticmethod
    async def _head(conn: _Conn, status: int, headers: dict[str, str]) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Status"
        lines = [f"HTTP/1.1 {status} {phrase}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        await conn.write("\r\n".join(lines).encode("latin-1"))

    async def _send(self, conn: _Conn, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, (dict, list)):
            data, ctype = _dumps(body), "application/json; charset=utf-8"
        else:
            data, ctype = str(body).encode(), "text/plain; charset=utf-8"
        hdrs = {"Content-Type": ctype, "Content-Length": str(len(data)), **(headers or {})}
        await self._head(conn, status, hdrs)
        await conn.write(data)

    async def _chunk(self, conn: _Conn, data: bytes, split: bool = False) -> None:
        for i, piece in enumerate(_split(data) if split else [data]):
            if i:
                await conn.sleep(0.002)
            await conn.write(b"%x\r\n%s\r\n" % (len(piece), piece))

    async def _dispatch(self, conn: _Conn, rec: Recorded) -> bool:
        """Answer one request; False means close the connection."""
        route, body = (rec.method, rec.path), rec.json if isinstance(rec.json, dict) else {}
        if route == ("GET", "/"):
            await self._send(conn, 200, "Ollama is running")
        elif route == ("GET", "/api/version"):
            await self._send(conn, 200, {"version": "0.12.0"})
        elif route == ("GET", "/api/tags"):
            models = [
                {
                    "name": m,
                    "model": m,
                    "modified_at": "2025-01-01T00:00:00Z",
                    "size": 123,
                    "digest": "fake",
                    "details": _DETAILS,
                }
                for m in self.models
            ]
            await self._send(conn, 200, {"models": models})
        elif route == ("POST", "/api/show"):
            m = body.get("model") or body.get("name")
            if m not in self.models:
                await self._send(conn, 404, {"error": f"model '{m}' not found"})
            else:
                caps = ["completion"] if m in self.no_tools else ["completion", "tools"]
                info = {"general.architecture": "llama", "llama.context_length": self.context_length}
                await self._send(conn, 200, {"capabilities": caps, "model_info": info, "details": _DETAILS})
        elif route == ("GET", "/props"):  # llama.cpp's server
            await self._send(conn, 200, {"default_generation_settings": {"n_ctx": self.context_length}})
        elif route == ("GET", "/v1/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
            await self._send(conn, 200, {"object": "list", "data": data})
        elif rec.method == "POST" and rec.path in CHAT_PATHS:
            watcher = asyncio.create_task(conn.watch())
            try:
                return await self._chat(conn, rec, body, openai=rec.path.startswith("/v1"))
            except _ClientGone:
                self._note_disconnect()
                return False
            finally:
                watcher.cancel()
                await asyncio.wait([watcher])
        else:
            await self._send(conn, 404, "404 page not found")
        return True

    async def _chat(self, conn: _Conn, rec: Recorded, body: dict[str, Any], *, openai: bool) -> bool:
        model = body.get("model")
        if not isinstance(rec.json, dict):
            await self._send(conn, 400, {"error": "invalid JSON body"})
            return True
        if model not in self.models:
            err: dict[str, Any] = {"error": f'model "{model}" not found, try pulling it first'}
            if openai:
                err = {
                    "error": {
                        "message": f"The model `{model}` does not exist.",
                        "type": "invalid_request_error",
                        "code": "model_not_found",
                    }
                }
            await self._send(conn, 404, err)
            return True
        if body.get("tools") and model in self.no_tools:  # as Ollama, and llama.cpp without --jinja, say it
            message = (
                "tools param requires --jinja flag"
                if openai
                else f"registry.ollama.ai/library/{model} does not support tools"
            )
            error = {"code": 400, "message": message, "type": "invalid_request_error"} if openai else message
            await self._send(conn, 400, {"error": error})
            return True
        resp = self._next()
        if isinstance(resp, HttpError):
            default = {"error": f"fake HTTP {resp.status}"}
            await self._send(conn, resp.status, default if resp.body is None else resp.body, resp.headers)
            return True
        if isinstance(resp, Raw):
            await self._head(conn, 200, {"Content-Type": resp.content_type, "Transfer-Encoding": "chunked"})
            for i, chunk in enumerate(resp.chunks):
                await conn.sleep(resp.delay if i else 0)
                await self._chunk(conn, chunk)
            await conn.write(b"0\r\n\r\n")
            return True
        prefix = _answer_so_far(body)
        if prefix:
            resp = _continuing(resp, prefix)
        stream = body.get("stream", not openai)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        ids = []
        for p in resp.parts:
            if isinstance(p, ToolCall):
                self._call_ids += 1
                ids.append(p.id or f"call_{self._call_ids}")
        if not stream:
            return await self._whole(conn, resp, model, ids, openai)
        if openai:
            units, tail, err_line = _openai_stream(resp, model, ids, include_usage)
        else:
            units, tail, err_line = _ollama_stream(resp, model)
        ctype = "text/event-stream" if openai else "application/x-ndjson"
        await self._head(
            conn, 200, {"Content-Type": ctype, "Transfer-Encoding": "chunked", "Cache-Control": "no-cache"}
        )
        for i in range(len(units) + 1):
            if i == resp.stall_after:
                await conn.sleep(resp.stall_seconds)
            if i == resp.drop_after:
                conn.writer.transport.abort()
                return False
            if i == resp.error_after:
                await self._chunk(conn, err_line, resp.split_bytes)
                break
            await conn.sleep(resp.first_delay if i == 0 else resp.delay)
            for line in units[i] if i < len(units) else tail:
                await self._chunk(conn, line, resp.split_bytes)
        await conn.write(b"0\r\n\r\n")
        return True

    async def _whole(self, conn: _Conn, resp: Reply, model: str, ids: list[str], openai: bool) -> bool:
        """Non-streaming: wait as long as the stream would have taken, then send one JSON body."""
        n = len(resp.parts)
        await conn.sleep(resp.first_delay + resp.delay * max(n - 1, 0))
        if resp.stall_after is not None:
            await conn.sleep(resp.stall_seconds)
        if resp.drop_after is not None:
            conn.writer.transport.abort()
            return False
        if resp.error_after is not None:
            err: Any = (
                {"error": {"message": resp.error_message, "type": "server_error"}}
                if openai
                else {"error": resp.error_message}
            )
            await self._send(conn, 500, err)
            return True
        text = "".join(p.text for p in resp.parts if isinstance(p, Text))
        think = "".join(p.text for p in resp.parts if isinstance(p, Think))
        calls = [p for p in resp.parts if isinstance(p, ToolCall)]
        msg: dict[str, Any] = {"role": "assistant", "content": text}
        if openai:
            if calls:
                msg["content"] = text or None
                msg["tool_calls"] = [
                    {
                        "id": i,
                        "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                    }
                    for c, i in zip(calls, ids, strict=True)
                ]
            if think:
                msg[resp.reasoning_field] = think
            choice = {"index": 0, "message": msg, "finish_reason": _finish(resp)}
            out: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [choice],
            }
            if resp.usage:
                out["usage"] = _openai_usage(resp.usage)
        else:
            if think:
                msg["thinking"] = think
            if calls:
                msg["tool_calls"] = [_ollama_call(c) for c in calls]
            out = _ollama_final(resp, model, msg)
        await self._send(conn, 200, out)
        return True


# -- rendering ---------------------------------------------------------------------------------------
def _answer_so_far(body: dict[str, Any]) -> str:
    """A trailing assistant message is an answer to continue (Ollama and llama.cpp do that)."""
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    return (
        str(last.get("content") or "") if isinstance(last, dict) and last.get("role") == "assistant" else ""
    )


def _continuing(resp: Reply, prefix: str) -> Reply:
    """The part of `resp` after `prefix`, as a model continuing its answer would say it; `resp` as it is
    when its text does not start with `prefix`."""
    text = "".join(p.text for p in resp.parts if isinstance(p, Text))
    if not text.startswith(prefix):
        return resp
    skip, parts = len(prefix), []
    for part in resp.parts:
        if skip and isinstance(part, Text) and len(part.text) > skip:
            parts.append(Text(part.text[skip:]))
            skip = 0
        elif skip:
            skip -= len(part.text) if isinstance(part, Text) else 0
        else:
            parts.append(part)
    return dataclasses.replace(resp, parts=parts)


def _finish(resp: Reply) -> str:
    has_calls = any(isinstance(p, ToolCall) for p in resp.parts)
    return "tool_calls" if has_calls and resp.done_reason == "stop" else resp.done_reason


def _openai_usage(usage: tuple[int, int]) -> dict[str, int]:
    return {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": usage[0] + usage[1]}


def _ollama_call(c: ToolCall) -> dict[str, Any]:
    call: dict[str, Any] = {"function": {"name": c.name, "arguments": c.arguments}}
    if c.id is not None:
        call["id"] = c.id
    return call


def _ollama_final(resp: Reply, model: str, msg: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": model,
        "created_at": _now(),
        "message": msg,
        "done": True,
        "done_reason": resp.done_reason,
        "total_duration": 250_000_000,
        "load_duration": 1_000_000,
    }
    if resp.usage:
        p, c = resp.usage
        out |= {
            "prompt_eval_count": p,
            "prompt_eval_duration": 5_000_000,
            "eval_count": c,
            "eval_duration": max(c, 1) * 10_000_000,
        }
    return out


def _ollama_stream(resp: Reply, model: str) -> tuple[list[list[bytes]], list[bytes], bytes]:
    """NDJSON: one line per part, then the done line; plus the error line for `error_after`."""

    def line(msg: dict[str, Any]) -> bytes:
        obj = {"model": model, "created_at": _now(), "message": {"role": "assistant", **msg}, "done": False}
        return _dumps(obj) + b"\n"

    units = []
    for p in resp.parts:
        if isinstance(p, Text):
            units.append([line({"content": p.text})])
        elif isinstance(p, Think):
            units.append([line({"content": "", "thinking": p.text})])
        else:
            units.append([line({"content": "", "tool_calls": [_ollama_call(p)]})])
    final = _ollama_final(resp, model, {"role": "assistant", "content": ""})
    return units, [_dumps(final) + b"\n"], _dumps({"error": resp.error_message}) + b"\n"


def _openai_stream(
    resp: Reply, model: str, ids: list[str], include_usage: bool
) -> tuple[list[list[bytes]], list[bytes], bytes]:
    """SSE: a role chunk with the first part, deltas (tool calls in fragments), finish, usage, [DONE]."""
    created = int(time.time())

    def event(obj: Any) -> bytes:
        return b"data: " + _dumps(obj) + b"\n\n"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return event(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    units: list[list[bytes]] = []
    call_index = 0
    for p in resp.parts:
        if isinstance(p, Text):
            units.append([chunk({"content": p.text})])
        elif isinstance(p, Think):
            units.append([chunk({resp.reasoning_field: p.text})])
        else:
            i, call_index = call_index, call_index + 1
            fn = {"name": p.name, "arguments": ""}
            head = {"index": i, "id": ids[i], "type": "function", "function": fn}
            units.append(
                [chunk({"tool_calls": [head]})]
                + [
                    chunk({"tool_calls": [{"index": i, "function": {"arguments": frag}}]})
                    for frag in _thirds(json.dumps(p.arguments))
                ]
            )
    role = chunk({"role": "assistant", "content": ""})
    tail = [chunk({}, _finish(resp))]
    if include_usage and resp.usage:
        tail.append(
            event(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": _openai_usage(resp.usage),
                }
            )
        )
    tail.append(b"data: [DONE]\n\n")
    (units[0] if units else tail).insert(0, role)
    err = event({"error": {"message": resp.error_message, "type": "server_error"}})
    return units, tail, err
