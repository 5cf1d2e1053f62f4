"""`ryan`: the terminal client. Argument parsing and the one-shot commands live here.

`ryan` alone is the interactive chat (`interactive.py`); `ryan chat "prompt"` answers once and exits
(0 done, 1 error, 130 interrupted); `ryan sessions|show|models|doctor` ask the server and print.
Every command starts `ryan-server` over stdio like an editor would: no shortcut into its objects.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import platformdirs

from ryan_server import protocol as wire
from ryan_server.client.output import JsonPrinter, TextPrinter, describe_message, make_approver
from ryan_server.client.rpc import RpcError, RyanClient, default_server_command

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

APP = "ryan"

# Flags every command accepts, before or after the command name.
_DEFAULTS: dict[str, Any] = {
    "provider": None,
    "base_url": None,
    "model": None,
    "server_cmd": None,
    "verbose": False,
    "session": None,
    "yes": False,
    "json": False,
    "command": None,
}


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--provider",
        choices=list(wire.PROVIDERS),
        default=argparse.SUPPRESS,
        help="backend kind (default: ollama)",
    )
    common.add_argument(
        "--base-url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="backend address (default: $OLLAMA_HOST or http://127.0.0.1:11434)",
    )
    common.add_argument("--model", "-m", default=argparse.SUPPRESS, help="model name")
    common.add_argument(
        "--server-cmd",
        metavar="CMD",
        default=argparse.SUPPRESS,
        help="command that starts ryan-server (default: $RYAN_SERVER_CMD or this Python's -m ryan_server)",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the server's log on stderr",
    )

    parser = argparse.ArgumentParser(
        prog="ryan",
        parents=[common],
        description="Chat with a local LLM (Ollama or any OpenAI-compatible server) from the terminal. "
        "Without a command: an interactive chat.",
    )
    parser.add_argument(
        "--session", "-s", metavar="ID|last", default=argparse.SUPPRESS, help="continue a session"
    )
    parser.add_argument(
        "--yes", "-y", action="store_true", default=argparse.SUPPRESS, help="allow every tool without asking"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", parents=[common], help="ask once and print the answer")
    chat.add_argument("prompt", nargs="?", help="the message (default: read stdin)")
    chat.add_argument(
        "--session",
        "-s",
        metavar="ID|last",
        default=argparse.SUPPRESS,
        help="continue a session ('last' = the newest in this folder)",
    )
    chat.add_argument(
        "--yes",
        "-y",
        action="store_true",
        default=argparse.SUPPRESS,
        help="allow file writes without asking (for scripts)",
    )
    chat.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="one JSON event per line on stdout"
    )

    sessions = sub.add_parser("sessions", parents=[common], help="list this folder's sessions")
    sessions.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    show = sub.add_parser("show", parents=[common], help="print a session's transcript")
    show.add_argument("id", metavar="ID|last")
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    models = sub.add_parser("models", parents=[common], help="list the backend's models")
    models.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    sub.add_parser("doctor", parents=[common], help="check the server, the backend, the model and history")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    for key, value in _DEFAULTS.items():
        if not hasattr(args, key):
            setattr(args, key, value)
    return args


def settings_from(args: argparse.Namespace) -> dict[str, Any]:
    """The `initializationOptions`: only what the flags set; the server has the defaults."""
    settings: dict[str, Any] = {}
    if args.provider:
        settings["provider"] = args.provider
    if args.base_url:
        settings["baseUrl"] = args.base_url
    if args.model:
        settings["model"] = args.model
    return settings


def server_log_path() -> Path:
    return Path(platformdirs.user_log_dir(APP)) / "server.log"


def make_client(args: argparse.Namespace) -> RyanClient:
    command = shlex.split(args.server_cmd) if args.server_cmd else default_server_command()
    return RyanClient(
        command,
        settings=settings_from(args),
        root=Path.cwd(),
        verbose=args.verbose,
        log_path=server_log_path(),
    )


def error(message: str) -> None:
    print(f"ryan: {message}", file=sys.stderr, flush=True)


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
    matches = [str(s["sessionId"]) for s in sessions if str(s.get("sessionId", "")).startswith(wanted)]
    return matches[0] if len(matches) == 1 else wanted


async def run_with_client(args: argparse.Namespace, body: Callable[[RyanClient], Awaitable[int]]) -> int:
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


def _silence_stdout() -> None:
    """The reader of our stdout left: point it at /dev/null so later writes and the final flush are quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


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
        client.message_sink = lambda kind, level, message: printer.status(describe_message(level, message))
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
                _silence_stdout()
                cancel.set()

        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, _interrupt, cancel)
        try:
            result = await client.chat(params, on_event, cancel)
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
        return EXIT_INTERRUPTED if cancel.is_set() else EXIT_OK

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


def print_transcript(session: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.text import Text

    console = Console(highlight=False)
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
                ("you" if role == "user" else "ryan" if role == "assistant" else str(role)) + flag,
                style="bold cyan" if role == "user" else "bold green",
            )
        )
        if message.get("thinking"):
            console.print(Text(str(message["thinking"]).strip(), style="dim italic"))
        content = str(message.get("content") or "")
        if content:
            console.print(Markdown(content) if console.is_terminal else content)
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


# ----- ryan doctor -------------------------------------------------------------------------------


def _model_matches(wanted: str, names: list[str]) -> bool:
    return wanted in names or f"{wanted}:latest" in names or any(n.split(":")[0] == wanted for n in names)


def _writable_problem(path: Path) -> str | None:
    """None if a SQLite file at `path` can be created or written, else what is wrong."""
    if path.exists():
        if path.is_dir():
            return f"{path} is a folder, not a file"
        if not os.access(path, os.W_OK):
            return f"{path} is not writable: fix its permissions or set RYAN_HISTORY to another file"
        if not os.access(path.parent, os.W_OK):
            return f"the folder {path.parent} is not writable (SQLite needs it for its journal)"
        return None
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create {path}: {parent} is not writable; set RYAN_HISTORY to a writable file"
    return None


def _default_history_path() -> Path:
    env = os.environ.get("RYAN_HISTORY")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP)) / "history.sqlite3"


def _history_path(reported: Any) -> Path:
    return Path(str(reported)).expanduser() if reported else _default_history_path()


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


async def cmd_doctor(args: argparse.Namespace) -> int:
    failures = 0

    def line(ok: bool, what: str, detail: str) -> None:
        nonlocal failures
        failures += 0 if ok else 1
        print(f"{'OK  ' if ok else 'FAIL'} {what}: {detail}", flush=True)

    client = make_client(args)
    warnings: list[str] = []
    client.message_sink = lambda kind, level, message: warnings.append(message) if level <= 2 else None
    try:
        try:
            init = await client.start()
        except RpcError as exc:
            line(False, "server", exc.message)
            line(False, "backend", "not checked: the server did not start")
            line(False, "model", "not checked: the server did not start")
            problem = _writable_problem(_default_history_path())
            line(problem is None, "history", problem or f"{_default_history_path()} is writable")
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
        else:
            line(False, "model", "not checked: the backend is not reachable")

        path = _history_path(status.get("historyPath"))
        # The server opens history on first use and says so with window/showMessage if it cannot.
        said = [w.removeprefix("Ryan: ") for w in warnings if "history" in w.lower()]
        if status.get("historyWritable") is False or status.get("historyError") or said:
            line(
                False,
                "history",
                str(status.get("historyError") or (said[0] if said else f"{path} is not writable")),
            )
        else:
            problem = _writable_problem(path)
            line(problem is None, "history", problem or f"{path} is writable")
    finally:
        await client.close()
    return EXIT_ERROR if failures else EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "chat": cmd_chat,
    "sessions": cmd_sessions,
    "show": cmd_show,
    "models": cmd_models,
    "doctor": cmd_doctor,
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # pygls's client logs protocol oddities; keep them off the user's terminal unless asked for.
    logging.basicConfig(level=logging.WARNING, format="ryan: %(name)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING if args.verbose else logging.CRITICAL)
    try:
        if args.command is None:
            from ryan_server.client.interactive import run_interactive

            return run_interactive(args)
        return asyncio.run(COMMANDS[args.command](args))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
