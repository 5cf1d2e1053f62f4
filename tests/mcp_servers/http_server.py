"""A real MCP server over streamable HTTP for Ryan's MCP client tests, built with the official SDK.

Run: `python tests/mcp_servers/http_server.py PORT [--name NAME]`. It listens on 127.0.0.1:PORT (PORT 0
picks a free port) and serves the MCP endpoint at `/mcp`. Once it accepts connections it writes one
line to stderr, `ready http://127.0.0.1:<port>/mcp`, and nothing else unless something fails; stdout
stays empty. Tools:

- `add(a, b)`: a + b (text "5", `structured_content == {"result": 5}`);
- `slow(seconds)`: sleeps, then "slept N"; writes "slow started" / "slow cancelled" markers;
- `echo_header(name)`: the value of an HTTP header of the request that carried the call, or "<unset>"
  (header names are case-insensitive, e.g. "authorization");
- `add_tool()`: registers `late(x)` and announces that the tool list changed (see stdio_server.py).

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

PATH = "/mcp"


def mark(line: str) -> None:
    """Append one line to the markers file, if the test asked for one."""
    path = os.environ.get("MCP_TEST_MARKERS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def build(name: str) -> MCPServer:
    app: MCPServer = MCPServer(name, log_level="WARNING", warn_on_duplicate_tools=False)

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @app.tool()
    async def slow(seconds: float) -> str:
        """Sleep for the given number of seconds."""
        mark("slow started")
        try:
            await anyio.sleep(seconds)
        except anyio.get_cancelled_exc_class():
            mark("slow cancelled")
            raise
        mark("slow done")
        return f"slept {seconds:g}"

    @app.tool()
    def echo_header(name: str, ctx: Context) -> str:
        """Return the value of a header of this HTTP request."""
        headers = ctx.headers or {}
        return headers.get(name.lower(), "<unset>")

    @app.tool()
    async def add_tool(ctx: Context) -> str:
        """Register the tool `late` and tell the client that the tool list changed."""

        def late(x: str) -> str:
            """A tool added at run time."""
            return f"late {x}"

        app.add_tool(late)
        await ctx.request_context.session.send_tool_list_changed()  # a legacy (handshake-era) session
        await ctx.notify_tools_changed()  # 2026-07-28: `subscriptions/listen` streams
        return "added late"

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
