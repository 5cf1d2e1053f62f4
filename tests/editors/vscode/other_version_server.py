"""A stand-in for ryan-server that speaks another protocol version: its `initialize` result says
`protocolVersion: 2`. test_code_server.py starts it as `ryan.server.command` to see the extension's
warning. It answers just enough LSP for the client to start it, ask for models and shut it down.
"""

from __future__ import annotations

import json
import sys
from typing import Any

RESULTS: dict[str, Any] = {
    "initialize": {
        "capabilities": {"experimental": {"ryan": {"protocolVersion": 2, "tools": [], "providers": []}}},
        "serverInfo": {"name": "ryan-server", "version": "9.0.0"},
    },
    "shutdown": None,
    "ryan/models": {"models": [], "current": None},
    "ryan/sessions": {"sessions": []},
}


def read() -> dict[str, Any] | None:
    length = 0
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            return None
        if not line.strip():
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    message: dict[str, Any] = json.loads(sys.stdin.buffer.read(length))
    return message


def write(message: dict[str, Any]) -> None:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    sys.stdout.buffer.flush()


def main() -> int:
    while (message := read()) is not None:
        method = message.get("method")
        if method == "exit":
            return 0
        if "id" in message and method:
            if method in RESULTS:
                write({"id": message["id"], "result": RESULTS[method]})
            else:
                write({"id": message["id"], "error": {"code": -32601, "message": f"unknown method {method}"}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
