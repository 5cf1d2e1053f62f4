"""Asking the user in the terminal: one line read without blocking the event loop, and the answer to
the server's approval requests (`--yes` allows, no terminal denies, else ask inline)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from ryan_server.client.rpc import Approver


async def ask_line(prompt: str, cancel: asyncio.Event | None, err: TextIO | None = None) -> str | None:
    """Ask on stderr and read one line from stdin without blocking the event loop.

    Returns None on end of input or when `cancel` is set (Ctrl-C) first.
    """
    err = err or sys.stderr
    err.write(prompt)
    err.flush()
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()
    answer: asyncio.Future[str | None] = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not answer.done():
            answer.set_result(data.decode(errors="replace") if data else None)

    loop.add_reader(fd, readable)
    waiter = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    try:
        pending: set[asyncio.Future[Any]] = {answer}
        if waiter is not None:
            pending.add(waiter)
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_reader(fd)
        if waiter is not None:
            waiter.cancel()
    if not answer.done():
        err.write("\n")
        err.flush()
        return None
    return answer.result()


def _pick(titles: list[str], wanted: str, index: int) -> str | None:
    for title in titles:
        if title.strip().lower() == wanted:
            return title
    return titles[index] if len(titles) > index else None


def make_approver(
    *,
    yes: bool,
    status: Callable[[str], None],
    before_prompt: Callable[[], None],
    cancel: Callable[[], asyncio.Event | None],
) -> Approver:
    """Answer `window/showMessageRequest`: `--yes` allows, no TTY denies, else ask inline."""

    async def approve(params: dict[str, Any]) -> str | None:
        titles = [str(a.get("title", "")) for a in params.get("actions") or [] if isinstance(a, dict)]
        allow = _pick(titles, "allow", 0)
        allow_session = _pick(titles, "allow for session", 1)
        deny = _pick(titles, "deny", 2)
        message = str(params.get("message", ""))
        before_prompt()
        if yes:
            status(f"✓ allowed (--yes): {message}")
            return allow
        if not sys.stdin.isatty():
            status(f"✗ denied: {message} (no terminal to ask on; pass --yes to allow)")
            return deny
        answer = await ask_line(f"? {message}\n  [a]llow / allow for [s]ession / [d]eny: ", cancel())
        choice = (answer or "").strip().lower()
        if choice in ("a", "allow", "y", "yes"):
            return allow
        if choice in ("s", "session", "allow for session"):
            return allow_session
        return deny

    return approve
