"""The `ryan-server` command line: LSP over stdio by default, `--tcp` for debugging, `--acp` for the Agent
Client Protocol (with its settings flags), logging options."""

from __future__ import annotations

import argparse
import logging
import sys

from . import __version__
from .protocol import PROVIDERS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ryan-server",
        description="Ryan's chat server for editors: JSON-RPC over stdio (LSP, or ACP with --acp).",
    )
    parser.add_argument("--stdio", action="store_true", help="serve over stdio (the default)")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument(
        "--acp",
        action="store_true",
        help="speak the Agent Client Protocol (Zed, JetBrains, CodeCompanion, avante) instead of LSP",
    )
    parser.add_argument("--provider", choices=PROVIDERS, help="with --acp: the backend (overrides the file)")
    parser.add_argument("--base-url", help="with --acp: the backend's address (overrides the file)")
    parser.add_argument("--model", help="with --acp: the model (overrides the settings file)")
    parser.add_argument("--log-file", help="write the log to this file instead of stderr")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    parser.add_argument("--version", action="version", version=f"ryan-server {__version__}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from . import logs

    logs.configure("debug" if args.verbose else "info", args.log_file)
    if args.acp:
        from .acp.main import run

        return run(provider=args.provider, base_url=args.base_url, model=args.model, verbose=args.verbose)
    from .lsp.server import create_server

    server = create_server(verbose=args.verbose)
    where = f"TCP {args.host}:{args.port}" if args.tcp else "stdio"
    logging.getLogger(logs.LOGGER).info("ryan-server %s serving on %s", __version__, where)
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        # Keep the real stdout for JSON-RPC alone: a stray print() from any library goes to stderr.
        stdout = sys.stdout.buffer
        sys.stdout = sys.stderr
        server.start_io(sys.stdin.buffer, stdout)
    return 0
