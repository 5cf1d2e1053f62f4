"""The `ryan-server` command line: stdio by default, `--tcp` for debugging, logging options."""

from __future__ import annotations

import argparse
import logging
import sys

from . import __version__


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ryan-server",
        description="Ryan's chat server: JSON-RPC (LSP base protocol) over stdio for editors.",
    )
    parser.add_argument("--stdio", action="store_true", help="serve over stdio (the default)")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument("--log-file", help="write the log to this file instead of stderr")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    parser.add_argument("--version", action="version", version=f"ryan-server {__version__}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from . import logs

    logs.configure("debug" if args.verbose else "info", args.log_file)
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
