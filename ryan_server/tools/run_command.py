"""`run_command`: a shell command in the workspace, its output streamed live, always with consent.

The command runs through the user's shell (`$SHELL -c`, else `/bin/sh -c`) in a folder inside the
workspace, in a process group of its own, with stdin closed and Ryan's API key taken out of the
environment. stdout and stderr are read together as they come; every piece goes to `output` (the
editor's live view, up to `LIVE_LIMIT`), while the model gets the head and tail of it, capped at
`tools.maxOutputBytes`, so a command that prints 100 MB keeps Ryan's memory flat. A timeout or a
cancelled chat ends the whole group: TERM, then KILL after `KILL_AFTER` seconds (at once when
cancelled, so the chat can answer quickly), and the process is always reaped.
"""

from __future__ import annotations

import asyncio
import atexit
import codecs
import contextlib
import os
import re
import shlex
import signal
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

import anyio

from .args import RunCommandArgs
from .plan import Plan, ToolContext
from .text import human_size
from .workspace import ToolError

KILL_AFTER = 2.0  # seconds between TERM and KILL when a command runs out of time
KILL_AFTER_CANCEL = 0.1  # the same when the chat was cancelled: it must answer within 200 ms
LIVE_LIMIT = 1_000_000  # bytes of output shown live; past it the editor is told how much more came
READ_SIZE = 65536
# A command with any of these is "more than one command" (or redirects, substitutes, expands): it is
# asked even when its first words are allowed, so `pytest; rm -rf ~` never passes as `pytest`.
SHELL_OPERATORS = re.compile(r"[;&|<>`$\n\r(){}\\*?!#~]")


def allowed_without_asking(command: str, allow: Sequence[str]) -> bool:
    """Whether `command` is one of the user's allowed commands: equal to an entry, or an entry followed
    by more words (`"git status"` allows `git status --short`, not `git statusx` or `git status; x`)."""
    if SHELL_OPERATORS.search(command):
        return False
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: ask
        return False
    for entry in allow:
        try:
            allowed = shlex.split(entry)
        except ValueError:
            continue
        if allowed and words[: len(allowed)] == allowed:
            return True
    return False


class RunCommand(Plan):
    writes = True  # a command may change anything: asked, and never run beside other calls
    settings_may_approve = False  # only tools.allowCommands lets a command run unasked

    def __init__(self, ctx: ToolContext, args: RunCommandArgs) -> None:
        self.ctx, self.args = ctx, args
        self.command = args.command.strip()
        if not self.command:
            raise ToolError("the command is empty")
        ws = ctx.workspace
        if not ws.roots:
            raise ToolError("there is no workspace folder to run commands in")
        self.cwd = ws.resolve(args.cwd) if args.cwd else ws.roots[0]
        if not self.cwd.is_dir():
            raise ToolError(f"{ws.display(self.cwd)!r} is a file, not a folder")
        self.timeout = args.timeout_seconds or ctx.commands.timeout
        self.auto_approved = allowed_without_asking(self.command, ctx.commands.allow)
        self.approval_key = f"run_command {self.command}"  # "Allow for session": this command only

    def approval_message(self) -> str:
        where = self.ctx.workspace.display(self.cwd)
        folder = "the workspace folder" if self.cwd == self.ctx.workspace.roots[0] else where
        return f"Ryan wants to run `{self.command}` in {folder}"

    async def run(self) -> str:
        collected = Collected(self.ctx.commands.max_output_bytes, self.output)
        proc = await asyncio.create_subprocess_exec(
            os.environ.get("SHELL") or "/bin/sh",
            "-c",
            self.command,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own group: the whole tree is stopped together
            env=command_env(self.ctx.commands.secrets),
        )
        _live.add(proc)
        assert proc.stdout is not None
        timed_out = False
        try:
            with anyio.move_on_after(self.timeout) as scope:
                while chunk := await proc.stdout.read(READ_SIZE):
                    collected.add(chunk)
                await proc.wait()
            if scope.cancelled_caught:
                timed_out = True
                await _stop_group(proc, KILL_AFTER)
        except asyncio.CancelledError:
            with anyio.CancelScope(shield=True):
                await _stop_group(proc, KILL_AFTER_CANCEL)
            raise
        finally:
            _live.discard(proc)
        collected.finish()
        result = f"$ {self.command}\n{collected.text()}"
        if timed_out:
            return f"{result}\n[stopped: still running after {self.timeout:g} s (the time limit)]"
        return f"{result}\n[exit code {proc.returncode}]"


class Collected:
    """A command's output: passed on live, and kept as head and tail for the model."""

    def __init__(self, limit: int, live: Callable[[str], None] | None) -> None:
        self.limit = limit
        self.live = live
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._shown = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.limit // 2 - len(self.head)
        rest = chunk[room:] if room > 0 else chunk
        if room > 0:
            self.head += chunk[:room]
        if rest:
            self.tail += rest
            if len(self.tail) > self.limit // 2:
                del self.tail[: len(self.tail) - self.limit // 2]
        if self.live is None or self._shown >= LIVE_LIMIT:
            return
        self._shown += len(chunk)
        text = self._decoder.decode(chunk)
        if text:
            self.live(text)
        if self._shown >= LIVE_LIMIT:
            self.live("\n[… more output is not shown live; its end comes with the result]\n")

    def finish(self) -> None:
        if self.live is not None and self._shown < LIVE_LIMIT:
            rest = self._decoder.decode(b"", final=True)
            if rest:
                self.live(rest)

    def text(self) -> str:
        head = self.head.decode("utf-8", "replace")
        if self.total <= len(self.head) + len(self.tail):
            return head + self.tail.decode("utf-8", "replace")
        left_out = self.total - len(self.head) - len(self.tail)
        tail = self.tail.decode("utf-8", "replace")
        return f"{head}\n… {human_size(left_out)} of output left out …\n{tail}"


def command_env(secrets: Sequence[str]) -> dict[str, str]:
    """Ryan's environment for a command, without `RYAN_API_KEY` or any variable holding a secret."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "RYAN_API_KEY" and not any(secret and secret in value for secret in secrets)
    }


async def _stop_group(proc: asyncio.subprocess.Process, grace: float) -> None:
    """TERM the process group, KILL what is left after `grace` seconds, reap the shell, and wait (a
    little) for the rest of the group to be gone."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 1.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        with anyio.move_on_after(wait):
            await proc.wait()
            while _group_alive(proc.pid):  # noqa: ASYNC110  (the process table has no event to wait on)
                await asyncio.sleep(0.01)
            return
    if proc.returncode is None:
        await proc.wait()


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs. A killed process whose parent died waits as a
    zombie until init reaps it (over a second in some containers), so on Linux zombies do not count."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


# Commands still running, so that an exiting server stops them (a killed server cannot: its commands'
# output pipe breaks and they end on their own when they next write).
_live: weakref.WeakSet[asyncio.subprocess.Process] = weakref.WeakSet()


def _stop_all() -> None:
    for proc in list(_live):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


atexit.register(_stop_all)
