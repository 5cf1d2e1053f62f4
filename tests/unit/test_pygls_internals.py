"""pygls's private parts that Ryan relies on are still there (see ryan_server/pygls_internals.py)."""

from __future__ import annotations

import asyncio
import sys
from importlib.metadata import version

from pygls.client import JsonRPCClient

from ryan_server import pygls_internals


def test_the_installed_pygls_has_what_ryan_relies_on() -> None:
    gone = pygls_internals.missing()
    assert not gone, (
        f"pygls {version('pygls')} no longer has {', '.join(gone)}, which ryan_server/pygls_internals.py "
        "uses; adapt that module (and the pin in pyproject.toml) to the new pygls."
    )


async def test_a_client_attached_to_a_spawned_process_exchanges_messages() -> None:
    """attach_process/detach drive a real JSON-RPC exchange with a child that echoes one request."""
    child = (
        "import json, sys\n"
        "headers = iter(sys.stdin.buffer.readline, b'\\r\\n')\n"
        "size = next(int(h.split(b':')[1]) for h in headers if h.lower().startswith(b'content-length'))\n"
        "for _ in headers: pass\n"
        "body = json.loads(sys.stdin.buffer.read(size))\n"
        "out = json.dumps({'jsonrpc': '2.0', 'id': body['id'], 'result': body['params']}).encode()\n"
        "sys.stdout.buffer.write(b'Content-Length: %d\\r\\n\\r\\n' % len(out) + out); sys.stdout.flush()\n"
        "sys.stdin.buffer.read()\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", child, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    client = JsonRPCClient()
    pygls_internals.attach_process(client, proc, lambda *_: None)
    try:
        answer = await asyncio.wait_for(client.protocol.send_request_async("echo", {"x": 1}), 10)
        assert answer.x == 1
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        await asyncio.wait_for(proc.wait(), 10)
        await pygls_internals.detach(client, 2.0)
    assert client.stopped


async def test_a_late_answer_to_a_cancelled_request_is_dropped_quietly() -> None:
    """The other side answers a request this side gave up on: nothing fails, the next answer arrives."""
    child = (
        "import json, sys\n"
        "def read():\n"
        "    headers = iter(sys.stdin.buffer.readline, b'\\r\\n')\n"
        "    size = next(int(h.split(b':')[1]) for h in headers if h.lower().startswith(b'content-length'))\n"
        "    for _ in headers: pass\n"
        "    return json.loads(sys.stdin.buffer.read(size))\n"
        "first, second = read(), read()\n"  # the first is answered only after the second was asked
        "for body in (first, second):\n"
        "    out = json.dumps({'jsonrpc': '2.0', 'id': body['id'], 'result': body['params']}).encode()\n"
        "    sys.stdout.buffer.write(b'Content-Length: %d\\r\\n\\r\\n' % len(out) + out)\n"
        "    sys.stdout.flush()\n"
        "sys.stdin.buffer.read()\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", child, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    errors: list[Exception] = []
    client = JsonRPCClient(protocol_cls=pygls_internals.LateAnswers)
    pygls_internals.attach_process(client, proc, lambda error, *_: errors.append(error))
    try:
        abandoned = client.protocol.send_request_async("echo", {"x": 1})
        abandoned.cancel()
        answer = await asyncio.wait_for(client.protocol.send_request_async("echo", {"x": 2}), 10)
        assert answer.x == 2
        assert errors == []
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        await asyncio.wait_for(proc.wait(), 10)
        await pygls_internals.detach(client, 2.0)
