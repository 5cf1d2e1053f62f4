"""The `ryan-server` command line: --version, --tcp, and stdout carrying only JSON-RPC."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from typing import Any

from ryan_server import __version__

SERVER = [sys.executable, "-m", "ryan_server"]


def frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def read_message(stream: socket.SocketIO | object) -> dict[str, object]:
    read = stream.read  # type: ignore[attr-defined]
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        header += read(1)
    length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
    return json.loads(read(length))  # type: ignore[no-any-return]


def test_version() -> None:
    out = subprocess.run([*SERVER, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"ryan-server {__version__}"


def run_stdio(bodies: list[bytes], *args: str) -> tuple[list[dict[str, Any]], bytes]:
    """Feed framed bodies to a server on stdin; return every framed message it wrote, and stderr."""
    stdin = b"".join(b"Content-Length: %d\r\n\r\n%s" % (len(b), b) for b in bodies)
    done = subprocess.run([*SERVER, *args], input=stdin, capture_output=True, timeout=30, check=False)
    out, replies = done.stdout, []
    while out:
        header, _, rest = out.partition(b"\r\n\r\n")
        assert header.startswith(b"Content-Length: "), out[:200]
        length = int(header.split(b": ")[1].split(b"\r\n")[0])
        replies.append(json.loads(rest[:length]))
        out = rest[length:]
    return replies, done.stderr


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"processId": None, "rootUri": None, "capabilities": {}},
}
SHUTDOWN = [
    {"jsonrpc": "2.0", "id": 3, "method": "shutdown", "params": None},
    {"jsonrpc": "2.0", "method": "exit", "params": None},
]


def test_malformed_jsonrpc_gets_standard_errors() -> None:
    bodies = [
        json.dumps(INITIALIZE).encode(),
        b"{this is not json",
        b'{"jsonrpc": "2.0", "id": 9}',
        b"[1, 2]",
        b'{"jsonrpc": "2.0", "id": 10, "method": "ryan/nope", "params": {}}',
        *(json.dumps(m).encode() for m in SHUTDOWN),
    ]
    replies, stderr = run_stdio(bodies)
    errors = [(r["id"], r["error"]["code"]) for r in replies if "error" in r]
    assert errors == [(None, -32700), (9, -32600), (None, -32600), (10, -32601)]
    assert any(r.get("id") == 3 and r.get("result") is None for r in replies)  # still serving
    assert b"Traceback" not in stderr


def test_stdio_carries_only_jsonrpc() -> None:
    """Everything the server writes to stdout parses as framed JSON-RPC; logs go to stderr."""
    chat = {"jsonrpc": "2.0", "id": 2, "method": "ryan/chat", "params": {"prompt": ""}}
    initialized = {"jsonrpc": "2.0", "method": "initialized", "params": {}}
    replies, stderr = run_stdio(
        [json.dumps(m).encode() for m in (INITIALIZE, initialized, chat, *SHUTDOWN)], "--stdio", "-v"
    )
    by_id = {r["id"]: r for r in replies if "id" in r and "method" not in r}
    assert by_id[1]["result"]["serverInfo"]["name"] == "ryan-server"
    assert by_id[2]["error"]["code"] == -32602
    assert by_id[3]["result"] is None
    assert b"serving on stdio" in stderr  # the log went to stderr


def test_tcp() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [*SERVER, "--tcp", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert time.monotonic() < deadline, "the TCP server did not start"
                time.sleep(0.1)
        with connection:
            connection.sendall(
                frame(
                    {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "initialize",
                        "params": {"processId": None, "rootUri": None, "capabilities": {}},
                    }
                )
            )
            reply = read_message(connection.makefile("rb"))
        assert reply["id"] == 1
        assert reply["result"]["capabilities"]["experimental"]["ryan"]["protocolVersion"] == 1  # type: ignore[index]
    finally:
        process.kill()
        process.wait()
