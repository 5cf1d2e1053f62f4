"""The one-shot commands: `ryan chat "prompt"`, `ryan sessions`, `ryan show ID|last`, `ryan models`.
`ryan show` prints the session's active branch, a message with other versions marked `‹2/3›`.

Each starts `ryan-server`, asks it one thing, prints the answer (text, or JSON with `--json`) and
returns the exit code: 0 done, 1 error, 2 usage, 3 stopped at the step limit, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from typing import Any

from ryan_server import protocol as wire
from ryan_server.client.approval import make_approver
from ryan_server.client.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_MAX_STEPS,
    EXIT_OK,
    EXIT_USAGE,
    error,
    resolve_session,
    run_with_client,
    silence_stdout,
)
from ryan_server.client.config import setting_hint
from ryan_server.client.output import Answer, JsonPrinter, TextPrinter, describe_message
from ryan_server.client.rpc import RpcError, RyanClient


def _interrupt(cancel: asyncio.Event) -> None:
    """First Ctrl-C cancels the answer (and waits briefly for the server); a second one quits at once."""
    if cancel.is_set():
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os._exit(EXIT_INTERRUPTED)
    cancel.set()


# ----- ryan chat ---------------------------------------------------------------------------------


async def cmd_chat(args: argparse.Namespace) -> int:
    prompt = args.prompt
    if prompt is None and not sys.stdin.isatty():
        prompt = sys.stdin.read()
    if not prompt or not prompt.strip():
        error('give a prompt: ryan chat "your question" (or pipe it on stdin)')
        return EXIT_USAGE
    printer: TextPrinter | JsonPrinter = JsonPrinter() if args.json else TextPrinter(verbose=args.verbose)

    async def body(client: RyanClient) -> int:
        try:
            session_id = await resolve_session(client, args.session)
        except RpcError as exc:
            printer.fail(exc)
            return EXIT_ERROR
        cancel = asyncio.Event()

        def on_message(kind: str, level: int, message: str) -> None:
            printer.status(describe_message(level, message))
            hint = setting_hint(message)
            if hint:
                printer.status(f"ryan: {hint}")

        client.message_sink = on_message
        client.approver = make_approver(
            yes=args.yes, status=printer.status, before_prompt=printer.before_prompt, cancel=lambda: cancel
        )
        params: dict[str, Any] = {"prompt": prompt}
        if session_id:
            params["sessionId"] = session_id
        if args.model:
            params["model"] = args.model
        broken = False

        def on_event(event: dict[str, Any]) -> None:
            nonlocal broken
            if broken:
                return
            try:
                printer.on_event(event)
            except BrokenPipeError:  # `ryan chat ... | head`: stop the model, nobody reads on
                broken = True
                silence_stdout()
                cancel.set()

        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, _interrupt, cancel)
        try:
            result = await client.chat(params, on_event, cancel, on_status=printer.work)
        except RpcError as exc:
            if broken:
                return EXIT_ERROR
            interrupted = cancel.is_set() and exc.code == wire.ErrorCode.REQUEST_CANCELLED
            printer.fail(exc, interrupted=interrupted)
            return EXIT_INTERRUPTED if interrupted else EXIT_ERROR
        finally:
            loop.remove_signal_handler(signal.SIGINT)
        if broken:
            return EXIT_ERROR
        printer.finish(result)
        if cancel.is_set():
            return EXIT_INTERRUPTED
        return EXIT_MAX_STEPS if result.get("stopReason") == wire.StopReason.MAX_STEPS else EXIT_OK

    return await run_with_client(args, body)


# ----- ryan sessions / show / models --------------------------------------------------------------


def _when(stamp: Any) -> str:
    text = str(stamp or "")
    return text.replace("T", " ")[:16]


async def cmd_sessions(args: argparse.Namespace) -> int:
    async def body(client: RyanClient) -> int:
        result = await client.request(wire.SESSIONS, {})
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
            return EXIT_OK
        sessions = (result or {}).get("sessions", [])
        if not sessions:
            print("No sessions in this folder yet.", file=sys.stderr)
            return EXIT_OK
        for s in sessions:
            print(
                f"{str(s.get('sessionId', ''))[:12]}  {_when(s.get('updatedAt'))}  "
                f"{s.get('messageCount', 0):>4} msgs  {s.get('model', '')}  {s.get('title', '')}"
            )
        return EXIT_OK

    return await run_with_client(args, body)


async def cmd_show(args: argparse.Namespace) -> int:
    async def body(client: RyanClient) -> int:
        session_id = await resolve_session(client, args.id)
        result = await client.request(wire.SESSION, {"sessionId": session_id})
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
            return EXIT_OK
        print_transcript(result or {})
        return EXIT_OK

    return await run_with_client(args, body)


def version_mark(message: dict[str, Any]) -> str:
    """` ‹2/3›` for a message with other versions (its `siblings`, itself included, oldest first: a
    regenerated answer, an edited message); "" for one with none."""
    siblings = message.get("siblings")
    if not isinstance(siblings, list) or len(siblings) < 2:
        return ""
    ids = [str(s) for s in siblings]
    here = ids.index(str(message.get("id"))) + 1 if str(message.get("id")) in ids else "?"
    return f" ‹{here}/{len(ids)}›"


def print_transcript(session: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.text import Text

    # Off a terminal (`ryan show last > file`) the text goes out as stored: no markup, no wrapping.
    console = Console(highlight=False)
    console.soft_wrap = not console.is_terminal
    console.print(Text(f"{session.get('title', '')}  ({session.get('sessionId', '')})", style="bold"))
    for message in session.get("messages", []):
        role = message.get("role")
        status = message.get("status")
        flag = f" [{status}]" if status not in (None, wire.MessageStatus.COMPLETE) else ""
        if role == "tool":
            name = message.get("toolName", "tool")
            first = str(message.get("content", "")).strip().splitlines()[:1]
            console.print(Text(f"  ⚙ {name}{flag}: {first[0][:100] if first else ''}", style="dim"))
            continue
        console.print()
        console.print(
            Text(
                ("you" if role == "user" else "ryan" if role == "assistant" else str(role))
                + version_mark(message)
                + flag,
                style="bold cyan" if role == "user" else "bold green",
            )
        )
        if message.get("thinking"):
            console.print(Text(str(message["thinking"]).strip(), style="dim italic"))
        content = str(message.get("content") or "")
        if content:
            console.print(Answer(content) if console.is_terminal else Text(content))
        for call in message.get("toolCalls") or []:
            console.print(Text(f"  ⋯ {call.get('name')} ({call.get('status', '')})", style="dim"))


async def cmd_models(args: argparse.Namespace) -> int:
    async def body(client: RyanClient) -> int:
        result = await client.request(wire.MODELS, {})
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
            return EXIT_OK
        current = (result or {}).get("current")
        models = (result or {}).get("models", [])
        if not models:
            print("The backend has no models.", file=sys.stderr)
        for m in models:
            name = m.get("name", "")
            print(f"{'*' if name == current else ' '} {name}")
        return EXIT_OK

    return await run_with_client(args, body)


async def cmd_rm(args: argparse.Namespace) -> int:
    async def body(client: RyanClient) -> int:
        session_id = await resolve_session(client, args.id)
        assert session_id is not None
        listing = await client.request(wire.SESSIONS, {})
        titles = {s.get("sessionId"): s.get("title", "") for s in (listing or {}).get("sessions", [])}
        await client.request(wire.DELETE_SESSION, {"sessionId": session_id})
        print(f"deleted {session_id[:12]}  {titles.get(session_id, '')}".rstrip())
        return EXIT_OK

    return await run_with_client(args, body)
