"""A real MCP server over stdio for Ryan's MCP client tests, built with the official SDK (`mcp` 2.x).

Run: `python tests/mcp_servers/stdio_server.py [--name NAME]`. Tools:

- `add(a, b)`: a + b (the client sees the text "5" and `structured_content == {"result": 5}`);
- `slow(seconds)`: sleeps, then "slept N"; writes "slow started" / "slow cancelled" markers;
- `fail(message)`: raises `ToolError`: `is_error=True`, text "Error executing tool fail: <message>";
- `crash()`: writes "crashing" to stderr and exits at once with status 3, mid-call;
- `image()`: a 1x1 PNG image part and a text part;
- `echo_env(name)`: the server's value of an environment variable, or "<unset>";
- `add_tool()`: registers `late(x)` and announces `notifications/tools/list_changed` (to a legacy
  client on the session, to a 2026-07-28 client through its `subscriptions/listen` stream).

Environment: `MCP_TEST_MARKERS` names a file that gets one line per event ("started <pid>",
"slow started", "slow cancelled", "slow done"), so a test can count starts and see cancellations
reach the server. `MCP_TEST_FAIL_START` makes the server write "boom: cannot start" to stderr and
exit 1 before it serves.
"""

from __future__ import annotations

import argparse
import os
import sys

import anyio
from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

# A 1x1 transparent PNG.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)


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
    def fail(message: str) -> str:
        """Always fail with the given message."""
        # A ToolError's text reaches the client ("Error executing tool fail: <message>"); any other
        # exception is a "crash" whose text the SDK withholds ("Error executing tool fail").
        raise ToolError(message)

    @app.tool()
    def crash() -> str:
        """Kill the server process mid-call."""
        sys.stderr.write("crashing\n")
        sys.stderr.flush()
        os._exit(3)

    @app.tool()
    def image() -> list[Image | str]:
        """Return a tiny PNG and a caption."""
        return [Image(data=PNG_1X1, format="png"), "a 1x1 png"]

    @app.tool()
    def echo_env(name: str) -> str:
        """Return the server's value of an environment variable."""
        return os.environ.get(name, "<unset>")

    @app.tool()
    async def add_tool(ctx: Context) -> str:
        """Register the tool `late` and tell the client that the tool list changed."""

        def late(x: str) -> str:
            """A tool added at run time."""
            return f"late {x}"

        app.add_tool(late)
        # Legacy (handshake-era) connection: the notification goes on the session. On a 2026-07-28
        # connection the SDK drops that copy, and the bus delivers it to `subscriptions/listen` streams.
        await ctx.request_context.session.send_tool_list_changed()
        await ctx.notify_tools_changed()
        return "added late"

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="test-stdio")
    args = parser.parse_args()
    if os.environ.get("MCP_TEST_FAIL_START"):
        sys.stderr.write("boom: cannot start\n")
        sys.stderr.flush()
        sys.exit(1)
    mark(f"started {os.getpid()}")
    build(args.name).run()


if __name__ == "__main__":
    main()
