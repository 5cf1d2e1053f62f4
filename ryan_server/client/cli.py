"""`ryan`: the terminal client's entry point. Argument parsing and dispatch only.

`ryan` alone is the interactive chat (`interactive.py`); `ryan chat "prompt"` answers once and exits
(the codes in `EPILOG`); `ryan sessions|show|rm|models` (`commands.py`), `ryan diff|undo|redo`
(`checkpoints.py`) and `ryan doctor` (`doctor.py`) ask the server and print. Every command starts
`ryan-server` over stdio like an editor would (`common.py`): no shortcut into its objects.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import urllib.parse
from collections.abc import Callable, Coroutine
from typing import Any

from ryan_server import __version__
from ryan_server import protocol as wire
from ryan_server.client.checkpoints import cmd_diff, cmd_redo, cmd_undo
from ryan_server.client.commands import cmd_chat, cmd_models, cmd_rm, cmd_sessions, cmd_show
from ryan_server.client.common import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, error, silence_stdout
from ryan_server.client.config import ConfigError, mcp_config, set_entry, settings_from
from ryan_server.client.doctor import cmd_doctor
from ryan_server.client.interactive import run_interactive

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
    "set": None,
    "mcp_config": None,
    "keep": False,
    "checkpoint": None,
}


EPILOG = """exit codes:
  0    done
  1    error (the message says what to do)
  2    usage: a wrong flag, argument or --base-url; a settings or --mcp-config file that cannot be used
  3    stopped at the step limit: the model used its tools.maxSteps turns (default 20) on tools
       without answering; continue with: ryan chat --session last "go on"
  130  interrupted (Ctrl-C)

settings: the terminal client reads the settings file ryan-server --acp reads: $RYAN_CONFIG, else
  settings.json in the user config folder (~/.config/ryan/ on Linux), a JSON object of the camelCase
  settings ({"model": "llama3.2", "tools": {"maxSteps": 30}}). --set key=value (repeatable; dotted
  keys like tools.maxSteps=5; the value read as JSON, else as text) goes over it, and --provider,
  --base-url, --model and --mcp-config over both. The API key only from $RYAN_API_KEY or the file.
"""

_HOST = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]+")  # a name, an IPv4 or an IPv6 address
_BARE = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(?P<port>\d{1,5}))?(?P<path>/(?!/)\S*)?")
_ADDRESS_HELP = "give a URL like http://127.0.0.1:11434 (or host:port, as OLLAMA_HOST takes it)"


def base_url(value: str) -> str:
    """`--base-url`: an http(s) URL, or `host[:port][/path]` read as `OLLAMA_HOST` is (http://, port
    11434, 0.0.0.0 meaning this machine). Anything else is a usage error, before a server starts."""
    text = value.strip()
    bare = _BARE.fullmatch(text)
    if bare:
        text = f"http://{bare['host']}:{bare['port'] or 11434}{bare['path'] or ''}"
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError:
        port = 0
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.hostname or "") or port == 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not an address: {_ADDRESS_HELP}")
    if parts.hostname == "0.0.0.0":  # as ollama reads OLLAMA_HOST: a server listening everywhere
        parts = parts._replace(netloc=parts.netloc.replace("0.0.0.0", "127.0.0.1", 1))
    return urllib.parse.urlunsplit(parts).rstrip("/")


def _common(set_dest: str) -> argparse.ArgumentParser:
    """The flags every command takes; `--set` before and after the command name collect apart (a
    subcommand's values would replace the main parser's) and are joined in `parse_args`."""
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
        type=base_url,
        default=argparse.SUPPRESS,
        help="backend address, a URL or host:port (default: $OLLAMA_HOST or http://127.0.0.1:11434)",
    )
    common.add_argument("--model", "-m", default=argparse.SUPPRESS, help="model name")
    common.add_argument(
        "--server-cmd",
        metavar="CMD",
        default=argparse.SUPPRESS,
        help="command that starts ryan-server (default: $RYAN_SERVER_CMD or this Python's -m ryan_server)",
    )
    common.add_argument(
        "--set",
        dest=set_dest,
        metavar="KEY=VALUE",
        type=set_entry,
        action="append",
        default=argparse.SUPPRESS,
        help="a setting for this run, over the settings file (repeatable): tools.maxSteps=5, "
        "tools.allowCommands='[\"pytest\"]'",
    )
    common.add_argument(
        "--mcp-config",
        metavar="FILE",
        type=mcp_config,
        default=argparse.SUPPRESS,
        help='MCP servers whose tools the model may use: a JSON file {"mcpServers": {...}}',
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the server's log on stderr, and after an answer its summary "
        "(model · tokens · tok/s · context 41%%)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common("set_after")
    parser = argparse.ArgumentParser(
        prog="ryan",
        parents=[_common("set")],
        description="Chat with a local LLM (Ollama or any OpenAI-compatible server) from the terminal.\n"
        "Without a command: an interactive chat (/help lists its commands).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ryan {__version__}")
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
    rm = sub.add_parser("rm", parents=[common], help="delete a session ('last' = the newest in this folder)")
    rm.add_argument("id", metavar="ID|last")
    models = sub.add_parser("models", parents=[common], help="list the backend's models")
    models.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    sub.add_parser("doctor", parents=[common], help="check the server, the backend, the model and history")
    _going_back(sub, common)
    return parser


def _going_back(sub: Any, common: argparse.ArgumentParser) -> None:
    """`ryan diff|undo|redo`: a session's checkpoints (the files Ryan's tools changed in a chat)."""
    session_help = "the session ('last' = the newest in this folder, the default)"
    diff = sub.add_parser("diff", parents=[common], help="show what a chat changed, as a unified diff")
    undo = sub.add_parser("undo", parents=[common], help="put back the files the latest chat changed")
    redo = sub.add_parser("redo", parents=[common], help="re-apply what the last undo took back")
    diff.add_argument(
        "checkpoint", nargs="?", metavar="last|ID", help="the checkpoint (default: the session's latest)"
    )
    undo.add_argument(
        "checkpoint",
        nargs="?",
        metavar="last|ID",
        help="the checkpoint to go back to, undoing the chats after it too (default: the latest not undone)",
    )
    for command in (diff, undo, redo):
        command.add_argument(
            "--session", "-s", metavar="ID|last", default=argparse.SUPPRESS, help=session_help
        )
        command.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    for command in (undo, redo):
        command.add_argument(
            "--yes",
            "-y",
            action="store_true",
            default=argparse.SUPPRESS,
            help="overwrite files changed by hand since Ryan's edits, without asking",
        )
        command.add_argument(
            "--keep",
            action="store_true",
            default=argparse.SUPPRESS,
            help="keep files changed by hand since Ryan's edits and restore the others, without asking "
            "(without --yes or --keep: asked on a terminal; off one, nothing is restored)",
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    for key, value in _DEFAULTS.items():
        if not hasattr(args, key):
            setattr(args, key, value)
    args.set = [*(args.set or []), *getattr(args, "set_after", [])]
    return args


COMMANDS: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "chat": cmd_chat,
    "sessions": cmd_sessions,
    "show": cmd_show,
    "rm": cmd_rm,
    "models": cmd_models,
    "doctor": cmd_doctor,
    "diff": cmd_diff,
    "undo": cmd_undo,
    "redo": cmd_redo,
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        args.settings = settings_from(args)
    except ConfigError as exc:
        error(str(exc))
        return EXIT_USAGE
    # pygls's client logs protocol oddities; keep them off the user's terminal unless asked for.
    logging.basicConfig(level=logging.WARNING, format="ryan: %(name)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING if args.verbose else logging.CRITICAL)
    try:
        if args.command is None:
            return run_interactive(args)
        return asyncio.run(COMMANDS[args.command](args))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
