"""`ryan-server --acp`: settings from the user file and the flags, stdout kept for the protocol alone,
the agent served until the client closes stdin."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import IO, TYPE_CHECKING, cast

from .. import __version__, logs

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)


def run(*, provider: str | None, base_url: str | None, model: str | None, verbose: bool = False) -> int:
    from .config import load_settings
    from .userconfig import settings_path

    path = settings_path()
    settings, problems = load_settings(path, provider=provider, base_url=base_url, model=model)
    if not verbose:
        logs.set_level(settings.log_level)
    logs.register_secret(settings.api_key_value)
    for server in settings.mcp_servers.values():
        for value in (*server.env.values(), *server.headers.values()):
            logs.register_secret(value.get_secret_value())
    for problem in problems:
        log.warning("setting ignored: %s", problem)
    log.info("ryan-server %s serving ACP on stdio (settings: %s)", __version__, path)
    stdin, stdout = _claim_stdio()
    asyncio.run(_serve(settings, problems, stdin, stdout))
    return 0


def _claim_stdio() -> tuple[IO[bytes], IO[bytes]]:
    """The protocol's own stdin and stdout; file descriptor 1 then points at stderr, so that nothing
    else (a print, a library, a child process that inherits it) can write into the protocol."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return sys.stdin.buffer, out


async def _serve(settings: Settings, problems: list[str], stdin: IO[bytes], stdout: IO[bytes]) -> None:
    import acp
    from acp.interfaces import Agent

    from .agent import RyanAgent
    from .stdio import open_streams

    writer, reader, filtered = await open_streams(stdin, stdout)
    agent = RyanAgent(settings, problems)
    pump = asyncio.get_running_loop().create_task(filtered.run(), name="ryan-acp-stdin")
    try:
        # RyanAgent implements the methods it supports; the SDK answers the rest with "method not found"
        await acp.run_agent(cast(Agent, agent), writer, reader)
    finally:
        pump.cancel()
        await agent.aclose()
        log.info("the client closed the connection; ryan-server stops")
