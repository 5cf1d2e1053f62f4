"""One MCP server: started in the background, its tools listed, calls made, failures told once.

The SDK's `Client` is an async context manager, and anyio wants a context left in the task that
entered it; so each server has a task of its own that enters the client, lists the tools and then
waits to be stopped, while calls are made from the chats' tasks on the open session. A server that
fails to start, or whose connection ends without being stopped (a crash), is reported once through
`report` with the tail of its stderr; a crashed server is started again by the next call of one of
its tools. A stdio server runs in its own process group (the SDK's `start_new_session`), with only
the SDK's short list of inherited variables (`HOME`, `PATH`, …) plus the `env` of its settings, so
Ryan's API key never reaches it; stopping closes its stdin, then TERM, then KILL (the SDK's escalation).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import IO, Any

import anyio

from ... import __version__
from ...settings import McpServerSettings
from .naming import offered_name
from .results import result_text

log = logging.getLogger(__name__)

STDERR_TAIL = 1500  # characters of a failed server's stderr quoted to the user
START_SECONDS = 30.0  # from starting a server to its list of tools


class State:
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"  # could not start: fixed by changing its settings
    CRASHED = "crashed"  # was running, then its connection ended: started again on next use
    STOPPED = "stopped"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class McpTool:
    """One tool of one server, as offered to the model."""

    name: str  # the offered name, mcp__<server>__<tool>
    server: str
    tool: str
    description: str
    input_schema: dict[str, Any] = field(default_factory=dict)


class CallFailed(Exception):
    """A call that did not get a result from the server; the message is for the model."""


class McpConnection:
    """One configured server and its live session, if any."""

    def __init__(
        self,
        name: str,
        config: McpServerSettings,
        *,
        cwd: str | None,
        report: Callable[[str], None],
        tools_changed: Callable[[], None],
    ) -> None:
        self.name = name
        self.config = config
        self.cwd = config.cwd or cwd or None
        self.state = State.DISABLED if config.disabled else State.STOPPED
        self.error: str | None = None
        self.tools: list[McpTool] = []
        self._report = report
        self._tools_changed = tools_changed
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()
        self._stop = asyncio.Event()
        self._stopping = False  # stop() was called: what follows is not a failure
        self._ended = asyncio.Event()  # the server's side of the connection ended
        self._stderr: IO[str] | None = None

    # -- life --------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start in the background (no-op while running or disabled)."""
        if self.config.disabled or (self._task is not None and not self._task.done()):
            return
        self.state = State.STARTING
        self._settled = asyncio.Event()
        self._stop = asyncio.Event()
        self._ended = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._serve(), name=f"mcp {self.name}")

    async def settled(self) -> None:
        """Wait until a start has succeeded or failed."""
        if self.state == State.STARTING:
            await self._settled.wait()

    async def stop(self) -> None:
        """Stop the server (bounded by the SDK's shutdown: stdin closed, TERM, KILL)."""
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            with anyio.move_on_after(10):
                await asyncio.shield(task)
        if not task.done():
            task.cancel()
        if self.state != State.DISABLED:
            self.state = State.STOPPED

    async def _serve(self) -> None:
        was_ready = False
        starting = anyio.CancelScope(deadline=anyio.current_time() + START_SECONDS)
        try:
            with starting:
                async with self._connect() as client:
                    self._client = client
                    await self._list_tools()
                    starting.deadline = math.inf
                    self.state, self.error, was_ready = State.READY, None, True
                    self._settled.set()
                    log.info("MCP server %s ready: %d tools", self.name, len(self.tools))
                    async with anyio.create_task_group() as group:
                        group.start_soon(self._listen_for_changes, client)
                        group.start_soon(_set_when_done, self._ended.wait(), self._stop)
                        await self._stop.wait()
                        group.cancel_scope.cancel()
            if starting.cancelled_caught:
                self._fail(State.FAILED, f"it did not answer within {START_SECONDS:g} s of starting")
            elif self._ended.is_set() and not self._stopping:  # the server went away
                self._client = None
                self._fail(State.CRASHED, "its connection closed")
        except Exception as exc:  # every way a server can fail is reported the same way
            if not self._stopping:
                self._fail(State.CRASHED if was_ready else State.FAILED, _describe(exc))
        finally:
            self._client = None
            if self.state == State.STARTING and not self._stopping:  # cancelled in the middle of it
                self._fail(State.FAILED, "its connection ended while it was starting")
            self._settled.set()
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def _fail(self, state: str, reason: str) -> None:
        self.state = state
        what = "stopped" if state == State.CRASHED else "could not start"
        tail = self._stderr_tail()
        self.error = f"{reason}" + (f"\n{tail}" if tail else "")
        message = f"MCP server '{self.name}' {what}: {reason}."
        if state == State.CRASHED:
            message += " Ryan starts it again when the model next uses one of its tools."
        else:
            message += " Its tools are left out; fix its entry in mcpServers."
        if tail:
            message += f"\nIts last output (stderr):\n{tail}"
        log.warning("%s", message)
        self._report(message)

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.flush()
            self._stderr.seek(0)
            return self._stderr.read()[-STDERR_TAIL:].strip()
        return ""

    @contextlib.asynccontextmanager
    async def _connect(self) -> AsyncIterator[Any]:
        from mcp.client import Client
        from mcp_types import Implementation

        config = self.config
        async with contextlib.AsyncExitStack() as stack:
            if config.command:
                from mcp.client.stdio import StdioServerParameters, stdio_client

                self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
                params = StdioServerParameters(
                    command=config.command,
                    args=config.args,
                    env={key: value.get_secret_value() for key, value in config.env.items()},
                    cwd=self.cwd,
                )
                transport: Any = stdio_client(params, errlog=self._stderr)
            else:
                assert config.url is not None
                headers = {key: value.get_secret_value() for key, value in config.headers.items()}
                if config.sse:
                    from mcp.client.sse import sse_client

                    transport = sse_client(config.url, headers=headers)
                else:
                    from mcp.client.streamable_http import streamable_http_client
                    from mcp.shared._httpx_utils import create_mcp_http_client

                    http = await stack.enter_async_context(create_mcp_http_client(headers=headers))
                    transport = streamable_http_client(config.url, http_client=http)
            client = Client(
                _watched(transport, self._ended),
                client_info=Implementation(name="ryan", version=__version__),
                message_handler=self._on_message,
                read_timeout_seconds=max(config.timeout, 30.0),
            )
            yield await stack.enter_async_context(client)

    # -- tools -------------------------------------------------------------------------------------

    async def _list_tools(self) -> None:
        tools: list[McpTool] = []
        cursor: str | None = None
        while True:
            page = await self._client.list_tools(cursor=cursor)
            for tool in page.tools:
                schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
                tools.append(
                    McpTool(
                        offered_name(self.name, tool.name),
                        self.name,
                        tool.name,
                        tool.description or tool.title or tool.name,
                        schema or {"type": "object", "properties": {}},
                    )
                )
            cursor = page.next_cursor
            if not cursor:
                break
        self.tools = tools

    async def _on_message(self, message: Any) -> None:
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            asyncio.get_running_loop().create_task(self._refresh())
        elif isinstance(message, Exception):
            log.debug("MCP server %s: %s", self.name, message)

    async def _listen_for_changes(self, client: Any) -> None:
        """Newer protocol versions send list_changed only to a client that listens for it."""
        from mcp.client.subscriptions import ListenNotSupportedError

        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _event in subscription:
                    await self._refresh()
        except ListenNotSupportedError:
            pass  # an older protocol: the notification comes to `_on_message`
        except Exception as exc:  # a server that refuses to be listened to still works
            log.debug("MCP server %s: no change notifications (%s)", self.name, exc)

    async def _refresh(self) -> None:
        if self._client is None:
            return
        try:
            await self._list_tools()
        except Exception as exc:
            log.warning("MCP server %s: could not list its tools again: %s", self.name, exc)
            return
        log.info("MCP server %s: tools changed, now %d", self.name, len(self.tools))
        self._tools_changed()

    # -- calls -------------------------------------------------------------------------------------

    async def call(self, tool: str, arguments: dict[str, Any], limit: int) -> tuple[bool, str]:
        """Call `tool`: (is_error, text for the model). Raises `CallFailed` when no result came."""
        if self.state in (State.CRASHED, State.STOPPED):
            log.info("MCP server %s: starting it again for a call of %s", self.name, tool)
            if self._task is not None and not self._task.done():  # the old session is still closing
                with anyio.move_on_after(10):
                    await asyncio.shield(self._task)
            self.start()
        await self.settled()
        client = self._client
        if client is None or self.state != State.READY:
            raise CallFailed(f"the MCP server '{self.name}' is not running ({self.error or self.state})")
        timeout = self.config.timeout
        try:
            with anyio.fail_after(timeout):
                result = await client.call_tool(tool, arguments)
        except TimeoutError:
            raise CallFailed(
                f"the MCP server '{self.name}' did not answer {tool} within {timeout:g} s "
                "(its timeout setting); the call was cancelled"
            ) from None
        except Exception as exc:
            if self._ended.is_set() and self._task is not None:  # let `_serve` report the crash first
                with anyio.move_on_after(1):
                    await asyncio.shield(self._task)
            raise CallFailed(f"the MCP server '{self.name}' failed during {tool}: {_describe(exc)}") from exc
        return bool(getattr(result, "is_error", False)), result_text(result, limit)


async def _set_when_done(awaitable: Awaitable[Any], event: asyncio.Event) -> None:
    await awaitable
    event.set()


@contextlib.asynccontextmanager
async def _watched(transport: Any, ended: asyncio.Event) -> AsyncIterator[tuple[Any, Any]]:
    """The transport, with `ended` set when the server's side ends (a crash, or the stream closed).

    The SDK's session keeps that to itself (its dispatcher stops; the next request fails), so the
    messages pass through a stream of Ryan's, which notices the end.
    """
    async with transport as (read, write):
        send, receive = anyio.create_memory_object_stream[Any](0)

        async def pump() -> None:
            try:
                async with send:
                    async for item in read:
                        await send.send(item)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass
            finally:
                ended.set()

        async with anyio.create_task_group() as group:
            group.start_soon(pump)
            try:
                yield receive, write
            finally:
                group.cancel_scope.cancel()


def _describe(exc: BaseException) -> str:
    """The innermost useful message of an exception (the SDK nests them in exception groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip()
    if isinstance(exc, FileNotFoundError):
        return f"command not found ({exc.filename or text})"
    if not text:
        return type(exc).__name__
    return text if len(text) < 400 else text[:400] + "…"


def arguments_text(arguments: dict[str, Any], limit: int = 2000) -> str:
    text = json.dumps(arguments, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"
