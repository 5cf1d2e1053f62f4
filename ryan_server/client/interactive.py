"""`ryan` with no arguments: an interactive chat that continues one session across turns.

The prompt is read with `input()` (GNU readline: editing and a history file in the user's data
dir) while the event loop is idle; each turn then runs on the same loop and server. Ctrl-C during an
answer cancels it (`$/cancelRequest`) and returns to the prompt; Ctrl-C at the prompt clears the
line; Ctrl-D quits. A line ending in `\\` continues on the next line; `\"\"\"` opens and closes a block.
A message that is one `/word` is a command for Ryan (`COMMANDS`), never sent to the model: `/retry`
answers the last message again (`regenerate`; the earlier answer stays as another version, which
`ryan show` marks `‹1/2›`), `/diff`, `/undo`, `/redo` go back over the session's file changes
(checkpoints.py), a conflict with a hand-edited file asked about on the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
from pathlib import Path
from typing import Any

import platformdirs
from rich.console import Console
from rich.text import Text

from ryan_server import protocol as wire
from ryan_server.client.approval import make_approver, terminal_echo
from ryan_server.client.checkpoints import (
    CHECKPOINT_NOT_FOUND,
    DIFF,
    REDO,
    RESTORE,
    describe_checkpoint,
    find_checkpoint,
    print_diff,
    print_restore,
)
from ryan_server.client.common import APP, EXIT_ERROR, EXIT_OK, make_client, resolve_session
from ryan_server.client.config import setting_hint
from ryan_server.client.describe import describe_message
from ryan_server.client.rich_printer import RichPrinter
from ryan_server.client.rpc import RpcError, RyanClient

PROMPT = "you> "
CONTINUATION = "...  "
BLOCK = '"""'
COMMANDS = {
    "/new": "start a new session",
    "/retry": "answer the last message again (the earlier answer stays as another version)",
    "/diff": "show what the latest chat that changed files changed",
    "/undo": "put back the files the latest chat changed (asks before overwriting your own edits)",
    "/redo": "re-apply what the last /undo took back",
    "/quit": "leave (also /exit, Ctrl-D)",
    "/help": "this list",
}
_COMMAND = re.compile(r"/[A-Za-z?][\w-]*")  # one word: `/usr/bin/env` or `/help me` is a message


def command_help(unknown: str | None = None) -> str:
    lines = [f"unknown command {unknown}; the commands are:"] if unknown else ["commands:"]
    lines += [f"  {name:<7} {what}" for name, what in COMMANDS.items()]
    lines.append("  anything else is sent to the model; Ctrl-C stops an answer")
    return "\n".join(lines)


def history_file() -> Path:
    return Path(platformdirs.user_data_dir(APP)) / "prompt_history"


def _setup_readline() -> Path | None:
    try:
        import readline
    except ImportError:  # not on every platform; input() still works
        return None
    path = history_file()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            readline.read_history_file(path)
    readline.set_history_length(2000)
    return path


def _save_readline(path: Path | None) -> None:
    if path is None:
        return
    import readline

    with contextlib.suppress(OSError):
        readline.write_history_file(path)


def read_message() -> str:
    """One message: a line, `\\`-continued lines, or a `\"\"\"` block. Raises EOFError / KeyboardInterrupt."""
    line = input(PROMPT)
    stripped = line.strip()
    if stripped.startswith(BLOCK):
        rest = stripped[len(BLOCK) :]
        if rest.endswith(BLOCK) and len(rest) >= len(BLOCK):
            return rest[: -len(BLOCK)]
        lines = [rest] if rest else []
        while True:
            nxt = input(CONTINUATION)
            if nxt.rstrip().endswith(BLOCK):
                last = nxt.rstrip()[: -len(BLOCK)]
                if last:
                    lines.append(last)
                return "\n".join(lines)
            lines.append(nxt)
    parts: list[str] = []
    while line.endswith("\\"):
        parts.append(line[:-1])
        line = input(CONTINUATION)
    parts.append(line)
    return "\n".join(parts)


class Chat:
    """The conversation state shared by the turns."""

    def __init__(self, client: RyanClient, console: Console, args: argparse.Namespace) -> None:
        self.client = client
        self.console = console
        self.args = args
        self.session_id: str | None = None
        self.cancel: asyncio.Event | None = None
        self.printer = RichPrinter(console, verbose=args.verbose)
        client.message_sink = self._message
        client.approver = make_approver(
            yes=args.yes,
            status=lambda line: self.printer.status(line, style="yellow"),
            before_prompt=lambda: self.printer.before_prompt(),  # the printer of the running turn
            cancel=lambda: self.cancel,
        )

    def _message(self, kind: str, level: int, message: str) -> None:
        """A server's message as a status line (and where the setting it names lives)."""
        self.printer.status(describe_message(level, message), style="red" if level == 1 else "yellow")
        hint = setting_hint(message)
        if hint:
            self.printer.status(hint, style="yellow")

    async def turn(self, prompt: str | None, *, regenerate: bool = False) -> None:
        """One chat: `prompt` sent, or with `regenerate` the session's last message answered again."""
        self.cancel = asyncio.Event()
        self.printer = RichPrinter(self.console, verbose=self.args.verbose)
        params: dict[str, Any] = {"regenerate": True} if regenerate else {"prompt": prompt}
        if self.session_id:
            params["sessionId"] = self.session_id
        if self.args.model:
            params["model"] = self.args.model
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self.cancel.set)
        try:
            with terminal_echo(False):
                result = await self.client.chat(
                    params, self.printer.on_event, self.cancel, on_status=self.printer.work
                )
        except RpcError as exc:
            interrupted = self.cancel.is_set() and exc.code == wire.ErrorCode.REQUEST_CANCELLED
            self.printer.fail(exc, interrupted=interrupted)
        else:
            self.printer.finish(result)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            self.session_id = self.printer.session_id or self.session_id
            self.cancel = None

    async def going_back(self, command: str) -> None:
        """`/diff`, `/undo`, `/redo` for this session; Ctrl-C dismisses a question about overwriting."""
        if not self.session_id:
            self.console.print(
                Text(f"nothing to {command[1:]} yet: this session has no chats", style="yellow")
            )
            return
        self.cancel = asyncio.Event()
        self.printer = RichPrinter(self.console, verbose=self.args.verbose)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self.cancel.set)
        try:
            await self._go_back(command, self.session_id)
        except RpcError as exc:
            missing = exc.code == CHECKPOINT_NOT_FOUND
            self.console.print(
                Text(
                    exc.message if missing else f"error: {exc.message}",
                    style="yellow" if missing else "bold red",
                )
            )
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            self.cancel = None

    async def _go_back(self, command: str, session_id: str) -> None:
        client, console = self.client, self.console
        if command == "/redo":
            result = await client.request(REDO, {"sessionId": session_id})
            print_restore(
                result or {},
                console,
                title="redid the last undo",
                again=None,
                then="/undo takes them back again",
            )
            return
        checkpoint = await find_checkpoint(client, session_id, None, for_undo=command == "/undo")
        if command == "/diff":
            result = await client.request(DIFF, {"checkpointId": checkpoint["checkpointId"]})
            print_diff(result or {}, console, header=describe_checkpoint(checkpoint))
            return
        result = await client.request(RESTORE, {"checkpointId": checkpoint["checkpointId"]})
        print_restore(
            result or {},
            console,
            title=f"undid {describe_checkpoint(checkpoint)}",
            again=None,
            then="/redo puts them back",
        )


def run_interactive(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    loop = asyncio.new_event_loop()
    client = make_client(args)
    history: Path | None = None
    try:
        try:
            loop.run_until_complete(client.start())
            chat = Chat(client, console, args)
            chat.session_id = loop.run_until_complete(resolve_session(client, args.session))
        except RpcError as exc:
            print(f"ryan: {exc.message}", file=sys.stderr)
            return EXIT_ERROR
        history = _setup_readline()
        where = f"continuing session {chat.session_id[:12]}" if chat.session_id else "new session"
        keys = "Ctrl-C stops an answer, Ctrl-D quits, /help lists the commands"
        console.print(Text(f"Ryan · {where} · {keys}", style="dim"))
        while True:
            try:
                message = read_message()
            except EOFError:
                console.print()
                break
            except KeyboardInterrupt:
                console.print()
                continue
            command = message.strip()
            if not command:
                continue
            if command in ("/quit", "/exit"):
                break
            if command == "/new":
                chat.session_id = None
                console.print(Text("new session", style="dim"))
                continue
            if command == "/retry" and not chat.session_id:
                console.print(Text("nothing to retry yet: send a message first", style="yellow"))
                continue
            if command in ("/diff", "/undo", "/redo"):
                loop.run_until_complete(chat.going_back(command))
            elif _COMMAND.fullmatch(command) and command != "/retry":
                unknown = None if command in ("/help", "/?") else command
                console.print(Text(command_help(unknown), style="yellow" if unknown else "dim"))
                continue
            else:
                retry = command == "/retry"
                loop.run_until_complete(chat.turn(None if retry else message, regenerate=retry))
            if not client.server_alive:
                print(f"ryan: {client.server_exit_message()}", file=sys.stderr)
                return EXIT_ERROR
        return EXIT_OK
    finally:
        _save_readline(history)
        with contextlib.suppress(Exception):
            loop.run_until_complete(client.close())
        loop.close()
