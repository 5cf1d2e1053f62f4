"""Asking the user in the terminal: one line read without blocking the event loop, and the answer to
the server's `window/showMessageRequest`s.

A tool approval (actions `Allow` / `Allow for session` / `Deny`): `--yes` allows, no terminal denies,
else ask inline; a write's question carries its unified diff after a blank line, shown under the
question, coloured on a terminal. Any other question (a restore's `Overwrite` / `Keep my changes`) is
asked with its own actions, one key each; `--yes` does not answer it, and with no terminal to ask on
it is dismissed (answered `null`), which the server reads as "do nothing".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from ryan_server.client.rpc import Approver


@contextlib.contextmanager
def terminal_echo(on: bool) -> Iterator[None]:
    """Turn the terminal's echo of typed keys (and of Ctrl-C as `^C`) on or off for a while.

    Off while an answer streams: the live view redraws its lines in place, and a `^C` or a key echoed
    at the end of a full-width line wraps the cursor, so the redraw leaves a stale copy of the
    answer's first lines behind. On while a question is asked in the middle of it.
    """
    if sys.platform == "win32" or not sys.stdin.isatty():  # no termios, or no terminal to echo
        yield
        return
    import termios

    fd = sys.stdin.fileno()
    before = termios.tcgetattr(fd)
    flags = termios.ECHO | getattr(termios, "ECHOCTL", 0)
    changed = list(before)
    changed[3] = before[3] | flags if on else before[3] & ~flags
    termios.tcsetattr(fd, termios.TCSANOW, changed)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, before)


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
        with terminal_echo(True):
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


DIFF_LINES = 80  # the server cuts a diff at 60 lines; this only guards the terminal
_COLOURS = (("+++", "\x1b[1m"), ("---", "\x1b[1m"), ("@@", "\x1b[36m"), ("+", "\x1b[32m"), ("-", "\x1b[31m"))


def split_question(message: str) -> tuple[str, str]:
    """The question and the diff after its first blank line ("" when there is none)."""
    question, _, diff = message.partition("\n\n")
    return question, diff


def show_diff(diff: str, *, colour: bool, limit: int = DIFF_LINES) -> str:
    """The diff indented, each line coloured as a diff reads (+ green, - red, @@ cyan) when `colour`;
    a part after the blank line that is not a diff is shown as it is."""
    lines = diff.splitlines()
    if len(lines) > limit:
        lines = [*lines[:limit], f"… {len(lines) - limit} more lines"]
    colour = colour and diff.startswith(("--- ", "@@"))
    shown = []
    for line in lines:
        code = next((c for prefix, c in _COLOURS if line.startswith(prefix)), "") if colour else ""
        shown.append(f"    {code}{line}\x1b[0m" if code else f"    {line}")
    return "\n".join(shown)


def _pick(titles: list[str], wanted: str, index: int) -> str | None:
    for title in titles:
        if title.strip().lower() == wanted:
            return title
    return titles[index] if len(titles) > index else None


def is_tool_approval(titles: list[str]) -> bool:
    """A tool approval offers `Allow` and `Deny`; anything else is a question of its own."""
    said = {title.strip().lower() for title in titles}
    return "allow" in said and "deny" in said


def action_keys(titles: list[str]) -> list[str]:
    """One key per action: its first letter where that is free, else its number (1-based)."""
    keys: list[str] = []
    for n, title in enumerate(titles, 1):
        first = title.strip()[:1].lower()
        keys.append(first if first.isalpha() and first not in keys and first != "c" else str(n))
    return keys


def _menu(titles: list[str], keys: list[str]) -> str:
    shown = []
    for key, title in zip(keys, titles, strict=True):
        head = title.strip()
        if head[:1].lower() == key:
            shown.append(f"[{head[:1]}]{head[1:]}")
        else:
            shown.append(f"[{key}] {head}")
    return " / ".join([*shown, "[c]ancel"])


async def ask_choice(
    params: dict[str, Any],
    titles: list[str],
    *,
    status: Callable[[str], None],
    cancel: asyncio.Event | None,
) -> str | None:
    """A question that is not a tool approval: its actions as a menu, one key each (or the whole
    title); `c`, an empty line, Ctrl-C or no terminal dismiss it (None)."""
    question, detail = split_question(str(params.get("message", "")))
    if not titles:
        status(str(params.get("message", "")))  # a notice that wants no answer
        return None
    if not sys.stdin.isatty():
        status(f"? {question}\n  not answered: no terminal to ask on")
        return None
    keys = action_keys(titles)
    shown = f"? {question}\n" + (show_diff(detail, colour=sys.stderr.isatty()) + "\n" if detail else "")
    answer = await ask_line(f"{shown}  {_menu(titles, keys)}: ", cancel)
    choice = (answer or "").strip().lower()
    for key, title in zip(keys, titles, strict=True):
        if choice and choice in (key, title.strip().lower()):
            return title
    return None


def make_approver(
    *,
    yes: bool,
    status: Callable[[str], None],
    before_prompt: Callable[[], None],
    cancel: Callable[[], asyncio.Event | None],
) -> Approver:
    """Answer `window/showMessageRequest`: a tool approval as `--yes` says, or denied with no TTY, or
    asked inline; any other question asked with its own actions (`ask_choice`)."""

    async def approve(params: dict[str, Any]) -> str | None:
        titles = [str(a.get("title", "")) for a in params.get("actions") or [] if isinstance(a, dict)]
        if not is_tool_approval(titles):
            before_prompt()
            return await ask_choice(params, titles, status=status, cancel=cancel())
        allow = _pick(titles, "allow", 0)
        allow_session = _pick(titles, "allow for session", 1)
        deny = _pick(titles, "deny", 2)
        question, diff = split_question(str(params.get("message", "")))
        before_prompt()
        if yes or not sys.stdin.isatty():
            # a note on stderr, not a question: the diff plain, like the rest of such notes
            change = "\n" + show_diff(diff, colour=False) if diff else ""
            if yes:
                status(f"✓ allowed (--yes): {question}{change}")
                return allow
            status(f"✗ denied: {question} (no terminal to ask on; pass --yes to allow){change}")
            return deny
        shown = f"? {question}\n" + (show_diff(diff, colour=sys.stderr.isatty()) + "\n" if diff else "")
        answer = await ask_line(f"{shown}  [a]llow / allow for [s]ession / [d]eny: ", cancel())
        choice = (answer or "").strip().lower()
        if choice in ("a", "allow", "y", "yes"):
            return allow
        if choice in ("s", "session", "allow for session"):
            return allow_session
        return deny

    return approve
