"""What every `ryan` command shares: exit codes, starting the server, naming a session, reporting errors.

The one-shot commands (`commands.py`, `doctor.py`) and the interactive chat (`interactive.py`) import
this; it imports none of them, so the client's modules never import each other in a circle.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import platformdirs

from ryan_server import protocol as wire
from ryan_server.client.config import setting_hint
from ryan_server.client.rpc import RpcError, RyanClient, default_server_command

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_MAX_STEPS = 3  # the model used its tools.maxSteps turns on tools and gave no answer
EXIT_INTERRUPTED = 130

APP = "ryan"


def server_log_path() -> Path:
    return Path(platformdirs.user_log_dir(APP)) / "server.log"


def workspace_root(folder: Path) -> Path:
    """The workspace of a `ryan` run in `folder`: the nearest folder at or above it holding `.git`,
    else `folder` itself; the rule Neovim's plugin follows, so both list the same sessions."""
    folder = folder.resolve()
    return next((f for f in (folder, *folder.parents) if (f / ".git").exists()), folder)


def make_client(args: argparse.Namespace) -> RyanClient:
    """A client for `ryan-server` in this folder's workspace (`workspace_root`), not started yet."""
    command = shlex.split(args.server_cmd) if args.server_cmd else default_server_command()
    return RyanClient(
        command,
        settings=args.settings,
        root=workspace_root(Path.cwd()),
        verbose=args.verbose,
        log_path=server_log_path(),
    )


def error(message: str) -> None:
    """`ryan: message` on stderr, and the hint where the terminal's settings live when it names one."""
    print(f"ryan: {message}", file=sys.stderr, flush=True)
    hint = setting_hint(message)
    if hint:
        print(f"ryan: {hint}", file=sys.stderr, flush=True)


async def resolve_session(client: RyanClient, wanted: str | None) -> str | None:
    """`last` = the newest session of this folder; a unique prefix of a listed id is accepted."""
    if not wanted:
        return None
    if wanted != "last" and len(wanted) >= 32:
        return wanted
    listing = await client.request(wire.SESSIONS, {})
    sessions = [s for s in (listing or {}).get("sessions", []) if isinstance(s, dict)]
    if wanted == "last":
        if not sessions:
            raise RpcError(
                wire.ErrorCode.SESSION_NOT_FOUND,
                'There is no earlier session in this folder: start one with ryan chat "..."',
            )
        return str(sessions[0]["sessionId"])
    matches = [s for s in sessions if str(s.get("sessionId", "")).startswith(wanted)]
    if len(matches) > 1:
        listed = "; ".join(f"{str(s['sessionId'])[:12]} {s.get('title', '')}" for s in matches[:5])
        raise RpcError(
            wire.ErrorCode.SESSION_NOT_FOUND,
            f"'{wanted}' is ambiguous: it matches {len(matches)} sessions ({listed}"
            f"{'; …' if len(matches) > 5 else ''}). Give more of the id (ryan sessions lists them).",
        )
    return str(matches[0]["sessionId"]) if matches else wanted


async def run_with_client(args: argparse.Namespace, body: Callable[[RyanClient], Awaitable[int]]) -> int:
    """Start the server, run `body`, close; a protocol error becomes its message on stderr and exit 1."""
    client = make_client(args)
    try:
        try:
            await client.start()
        except RpcError as exc:
            error(exc.message)
            return EXIT_ERROR
        try:
            return await body(client)
        except RpcError as exc:
            error(exc.message)
            return EXIT_ERROR
    finally:
        await client.close()


def silence_stdout() -> None:
    """The reader of our stdout left: point it at /dev/null so later writes and the final flush are quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
