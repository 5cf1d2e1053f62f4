"""`ryan doctor`: does the server start, the backend answer, the model exist, history get saved, the
settings apply, each MCP server run?

One line per check, `OK` or `FAIL` with what to do; exit 1 when any fails. Everything comes from the
server (`initialize`, `ryan/status`, `ryan/models`), so the answers are the server's own, not guesses.
MCP servers start in the background: doctor asks again, for up to `MCP_WAIT` seconds, while any is
still starting.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import time
from typing import Any

from ryan_server import protocol as wire
from ryan_server.client.common import EXIT_ERROR, EXIT_OK, make_client
from ryan_server.client.config import settings_path
from ryan_server.client.rpc import RpcError, RyanClient


def _model_matches(wanted: str, names: list[str]) -> bool:
    return wanted in names or f"{wanted}:latest" in names or any(n.split(":")[0] == wanted for n in names)


async def _check_model(client: RyanClient, wanted: str | None, provider: str) -> tuple[bool, str, str]:
    try:
        models = await client.request(wire.MODELS, {}) or {}
    except RpcError as exc:
        return False, "model", exc.message
    names = [str(m.get("name")) for m in models.get("models", []) if isinstance(m, dict)]
    wanted = wanted or models.get("current")
    if not names:
        pull = "ollama pull llama3.2" if provider == "ollama" else "load a model into the server"
        return False, "model", f"the backend has no models: {pull}"
    if wanted and not _model_matches(str(wanted), names):
        pull = f"ollama pull {wanted}" if provider == "ollama" else "load it into the server"
        return False, "model", f"{wanted} is not there ({pull}); available: {', '.join(names)}"
    return True, "model", str(wanted or names[0])


def _check_history(status: dict[str, Any]) -> tuple[bool, str, str]:
    """From `ryan/status`'s `history`: `{"path", "persistent", "warning"?}` (warning only when in memory)."""
    history = status.get("history")
    if not isinstance(history, dict):
        why = "ryan/status did not answer" if not status else "this server does not report it"
        return False, "history", f"not checked: {why}"
    path = history.get("path")
    if history.get("persistent") is True:
        return True, "history", f"saved in {path}"
    why = history.get("warning") or f"{path or 'the history file'} cannot be used"
    return False, "history", f"not saved (kept in memory this session): {why}"


MCP_WAIT = 10.0
Check = tuple[bool, str, str]


async def _settled_status(client: RyanClient, first: dict[str, Any]) -> dict[str, Any]:
    """`ryan/status` once no MCP server is `starting` any more, or after MCP_WAIT seconds."""
    status, deadline = first, time.monotonic() + MCP_WAIT
    while time.monotonic() < deadline and any(
        isinstance(entry, dict) and entry.get("state") == "starting" for entry in status.get("mcp") or []
    ):
        await asyncio.sleep(0.2)
        status = await client.request(wire.STATUS, {}) or {}
    return status


def _check_mcp(entry: dict[str, Any]) -> Check:
    """`mcp NAME: ready, 3 tools`, or why it does not run."""
    name, state = str(entry.get("name", "?")), str(entry.get("state", "?"))
    tools = entry.get("tools") or []
    what = f"mcp {name}"
    if state == "ready":
        return True, what, f"ready, {len(tools)} tool{'' if len(tools) == 1 else 's'}"
    if state in ("disabled", "stopped"):
        return True, what, state
    if state == "starting":
        return False, what, f"still starting after {MCP_WAIT:g} s"
    # the error may quote the server's stderr over several lines: keep them under this one
    error = "\n       ".join(str(entry.get("error") or "").strip().splitlines())
    return False, what, f"{state}: {error}" if error else state


def _check_settings(status: dict[str, Any]) -> list[Check]:
    """Where the terminal's settings come from, and each key the server rejected (`settingsErrors`)."""
    path = settings_path()
    errors = [str(e) for e in status.get("settingsErrors") or []]
    if errors:
        return [(False, "settings", f"{e.removeprefix('Ryan: ')} (from {path} or a flag)") for e in errors]
    where = f"from {path}" if path.exists() else f"no file at {path}: the defaults and the flags"
    return [(True, "settings", where)]


async def cmd_doctor(args: argparse.Namespace) -> int:
    failures = 0

    def line(ok: bool, what: str, detail: str) -> None:
        nonlocal failures
        failures += 0 if ok else 1
        print(f"{'OK  ' if ok else 'FAIL'} {what}: {detail}", flush=True)

    client = make_client(args)
    try:
        try:
            init = await client.start()
        except RpcError as exc:
            line(False, "server", exc.message)
            for what in ("backend", "model", "history", "settings"):
                line(False, what, "not checked: the server did not start")
            return EXIT_ERROR
        info = init.get("serverInfo") or {}
        line(
            True,
            "server",
            f"{info.get('name', 'ryan-server')} {info.get('version', '')} ({shlex.join(client.command)})",
        )

        status: dict[str, Any] = {}
        try:
            status = await client.request(wire.STATUS, {}) or {}
        except RpcError as exc:
            line(False, "backend", exc.message)
        reachable = status.get("reachable") is True
        provider = status.get("provider", args.provider or "ollama")
        base_url = status.get("baseUrl", args.base_url or "")
        if reachable:
            version = f" (version {status['version']})" if status.get("version") else ""
            line(True, "backend", f"{provider} at {base_url}{version}")
        elif status:
            hint = (
                "start it (ollama serve) or point --base-url at it"
                if provider == "ollama"
                else "start the server or point --base-url at it (ending in /v1)"
            )
            line(
                False, "backend", str(status.get("error") or f"cannot reach {provider} at {base_url}: {hint}")
            )

        if reachable:
            line(*await _check_model(client, args.model or status.get("model"), provider))
        elif status.get("standIn"):
            line(
                True,
                "model",
                f"{status['standIn']}, the built-in model, answers meanwhile (tiny: for trying Ryan)",
            )
        else:
            line(False, "model", "not checked: the backend is not reachable")

        line(*_check_history(status))
        if status:
            for check in _check_settings(status):
                line(*check)
            status = await _settled_status(client, status)
            for entry in status.get("mcp") or []:
                if isinstance(entry, dict):
                    line(*_check_mcp(entry))
    finally:
        await client.close()
    return EXIT_ERROR if failures else EXIT_OK
