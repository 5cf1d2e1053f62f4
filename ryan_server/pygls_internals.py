"""Every use of pygls's private parts, in one place, so a pygls upgrade breaks here and nowhere else.

pygls 2.1 (pinned to that minor version in pyproject.toml) offers no public way to:
- write a ready-made JSON-RPC message (`JsonRPCProtocol._send_data`): the server sends `$/progress`
  as a plain dict on the hot path (pygls's attrs round trip costs more than the rest of the relay)
  and answers messages pygls cannot parse with standard JSON-RPC errors;
- run a client over a process it did not spawn itself: `JsonRPCClient.start_io` always pipes the
  server's stderr, while the terminal client sends it to a log file and starts it in its own session
  (`_server`, `_server_exit`, `_async_tasks`, `_stop_event`);
- let a late answer go: pygls keeps the future of a request that was cancelled while it waited and
  then fails setting its result (`InvalidStateError`) when the other side answers after all, which
  it may (`_handle_response`, `_request_futures`). `LateAnswers` drops such an answer instead.
`missing()` names what is gone; `tests/unit/test_pygls_internals.py` fails with that list.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import anyio
from pygls.client import JsonRPCClient
from pygls.io_ import run_async
from pygls.protocol import JsonRPCProtocol

log = logging.getLogger(__name__)

_CLIENT_ATTRIBUTES = ("_server", "_stop_event", "_async_tasks")


class LateAnswers(JsonRPCProtocol):
    """A protocol that quietly drops the answer to a request it stopped waiting for (cancelled)."""

    def _handle_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        future = self._request_futures.get(msg_id)
        if future is not None and future.done():
            del self._request_futures[msg_id]
            log.debug("dropped the late answer to request %s: it was cancelled before it came", msg_id)
            return
        super()._handle_response(msg_id, result, error)


def send_raw(protocol: JsonRPCProtocol, message: dict[str, Any]) -> None:
    """Write one JSON-RPC message as it is (a dict that `json.dumps` takes)."""
    protocol._send_data(message)


def attach_process(
    client: JsonRPCClient, proc: asyncio.subprocess.Process, error_handler: Callable[..., Any]
) -> None:
    """Talk to `proc` (already spawned, stdin and stdout piped) as `start_io` would have."""
    assert proc.stdin is not None and proc.stdout is not None
    client.protocol.set_writer(proc.stdin)
    client._server = proc
    reader = run_async(
        stop_event=client._stop_event,
        reader=proc.stdout,
        protocol=client.protocol,
        logger=log,
        error_handler=error_handler,
    )
    client._async_tasks.extend(
        [asyncio.create_task(reader), asyncio.create_task(client._server_exit())]  # type: ignore[no-untyped-call]
    )


async def detach(client: JsonRPCClient, grace: float) -> None:
    """Stop reading and wait (at most `grace` seconds) for the client's tasks to end."""
    client._stop_event.set()
    with anyio.move_on_after(grace) as waited:
        await asyncio.gather(*client._async_tasks, return_exceptions=True)
    if waited.cancelled_caught:
        log.debug("the client's reader did not stop within %g s", grace)


def missing() -> list[str]:
    """What this module relies on that the installed pygls no longer has."""
    gone = [
        f"{owner.__name__}.{name}"
        for owner, name in (
            (JsonRPCProtocol, "_send_data"),
            (JsonRPCProtocol, "_handle_response"),
            (JsonRPCClient, "_server_exit"),
        )
        if not callable(getattr(owner, name, None))
    ]
    probe = JsonRPCClient()
    gone += [f"JsonRPCClient.{name}" for name in _CLIENT_ATTRIBUTES if not hasattr(probe, name)]
    if not isinstance(getattr(probe.protocol, "_request_futures", None), dict):
        gone.append("JsonRPCProtocol._request_futures")
    return gone
