"""A real MCP server over streamable HTTP for Ryan's MCP client tests, built with the official SDK.

Run: `python tests/mcp_servers/http_server.py PORT [--name NAME]`. It listens on 127.0.0.1:PORT (PORT 0
picks a free port) and serves the MCP endpoint at `/mcp`. Once it accepts connections it writes one
line to stderr, `ready http://127.0.0.1:<port>/mcp`, and nothing else unless something fails; stdout
stays empty. Tools:

- the tools of stdio_server.py (`add`, `slow`, `fail`, `crash`, `image`, `echo_env`, `add_tool`);
- `echo_header(name)`: the value of an HTTP header of the request that carried the call, or "<unset>"
  (header names are case-insensitive, e.g. "authorization").

`MCP_TEST_MARKERS` names a file that gets one line per event ("started <pid>", "slow started",
"slow cancelled", "slow done").
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from stdio_server import build as build_stdio_server
from stdio_server import mark

PATH = "/mcp"


def build(name: str) -> MCPServer:
    """The stdio server's tools, plus one that only HTTP has."""
    app = build_stdio_server(name)

    @app.tool()
    def echo_header(name: str, ctx: Context) -> str:
        """Return the value of a header of this HTTP request."""
        headers = ctx.headers or {}
        return headers.get(name.lower(), "<unset>")

    return app


async def serve(app: MCPServer, sock: socket.socket) -> None:
    config = uvicorn.Config(app.streamable_http_app(streamable_http_path=PATH), log_level="warning")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        while not server.started:
            if server.should_exit:
                return
            await anyio.sleep(0.01)
        sys.stderr.write(f"ready http://127.0.0.1:{sock.getsockname()[1]}{PATH}\n")
        sys.stderr.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--name", default="test-http")
    args = parser.parse_args()
    # Bind here, not in uvicorn: a busy port is then one clear line and exit status 1.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", args.port))
    except OSError as e:
        sys.stderr.write(f"cannot listen on 127.0.0.1:{args.port}: {e}\n")
        sys.exit(1)
    mark(f"started {os.getpid()}")
    anyio.run(serve, build(args.name), sock)


if __name__ == "__main__":
    main()
