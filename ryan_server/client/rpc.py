"""An asyncio JSON-RPC client for `ryan-server`, built on pygls's own client machinery.

It spawns the server over stdio the way an editor does (its own process group, so a Ctrl-C in the
terminal reaches only the client), runs the LSP lifecycle, routes `$/progress` values to the chat
that owns the token, answers `window/showMessageRequest` (tool approvals) through a callback, and
cancels a running chat with `$/cancelRequest`. Messages stay plain dicts: the converter below keeps
pygls from turning params and results into namedtuples.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shlex
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import cattrs
from lsprotocol import converters
from pygls.client import JsonRPCClient
from pygls.exceptions import JsonRpcException
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
)

from ryan_server import protocol as wire
from ryan_server.client.serverlog import RunLog
from ryan_server.pygls_internals import LateAnswers, attach_process, detach

logger = logging.getLogger(__name__)

# Not a JSON-RPC code: the server process is gone (it never started, crashed or was killed).
SERVER_EXITED = -1
CANCEL_GRACE_SECONDS = 3.0

ProgressHandler = Callable[[dict[str, Any]], None]
Approver = Callable[[dict[str, Any]], Awaitable[str | None]]
MessageSink = Callable[[str, int, str], None]
StatusHandler = Callable[[str | None], None]


class RpcError(Exception):
    """A JSON-RPC error answer (its message is written for people), or the server going away."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def as_json(self) -> dict[str, Any]:
        return {"kind": "error", "code": self.code, "message": self.message, "data": self.data}


def default_server_command() -> list[str]:
    """`$RYAN_SERVER_CMD` (split like a shell would), else this interpreter's `-m ryan_server`."""
    env = os.environ.get("RYAN_SERVER_CMD", "").strip()
    if env:
        return shlex.split(env)
    return [sys.executable, "-m", "ryan_server"]


def _raw_converter() -> cattrs.Converter:
    """lsprotocol's converter, but generic messages keep their params and results as plain dicts."""
    converter = converters.get_converter()

    def with_params(obj: dict[str, Any], cls: type[Any]) -> Any:
        return cls(**{"params": None, **obj})

    def with_result(obj: dict[str, Any], cls: type[Any]) -> Any:
        return cls(**{"result": None, **obj})

    converter.register_structure_hook(JsonRPCRequestMessage, with_params)
    converter.register_structure_hook(JsonRPCNotification, with_params)
    converter.register_structure_hook(JsonRPCResponseMessage, with_result)
    return converter


def _stderr_sink(kind: str, level: int, message: str) -> None:
    # LSP MessageType: 1 Error, 2 Warning, 3 Info, 4 Log.
    label = {1: "error", 2: "warning"}.get(level, "note")
    print(f"ryan-server {label}: {message.removeprefix('Ryan: ')}", file=sys.stderr, flush=True)


class RyanClient(JsonRPCClient):
    """One `ryan-server` process and the conversation with it."""

    def __init__(
        self,
        command: Sequence[str] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
        root: Path | None = None,
        verbose: bool = False,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(protocol_cls=LateAnswers, converter_factory=_raw_converter)
        self.command = list(command) if command else default_server_command()
        self.settings: dict[str, Any] = dict(settings or {})
        self.root = (root or Path.cwd()).resolve()
        self.verbose = verbose
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.approver: Approver | None = None
        self.message_sink: MessageSink = _stderr_sink
        self.init_result: dict[str, Any] = {}
        self._progress: dict[str | int, ProgressHandler] = {}
        self._ids = itertools.count(1)
        self._log: RunLog | None = None
        self._proc: asyncio.subprocess.Process | None = None

        # pygls tags handlers with attributes, which bound methods cannot carry: wrap them.
        def on_progress(params: Any) -> None:
            self._on_progress(params)

        def on_show_message(params: Any) -> None:
            self._on_show_message(params)

        def on_log_message(params: Any) -> None:
            self._on_log_message(params)

        async def on_show_message_request(params: Any) -> dict[str, Any] | None:
            return await self._on_show_message_request(params)

        def on_configuration(params: Any) -> list[Any]:
            return self._on_configuration(params)

        def on_ignored(params: Any) -> None:
            return None

        self.feature("$/progress")(on_progress)
        self.feature("window/showMessage")(on_show_message)
        self.feature("window/logMessage")(on_log_message)
        self.feature("window/showMessageRequest")(on_show_message_request)
        self.feature("workspace/configuration")(on_configuration)
        for method in ("client/registerCapability", "client/unregisterCapability"):
            self.feature(method)(on_ignored)
        self.feature("window/workDoneProgress/create")(lambda params: None)

    # ----- lifecycle -------------------------------------------------------------------------

    @property
    def server_alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self, *, init_timeout: float = 30.0) -> dict[str, Any]:
        """Spawn the server and run `initialize`/`initialized`; returns the initialize result."""
        stderr: IO[bytes] | int | None = None
        if not self.verbose and self.log_path is not None:
            self._log = RunLog(self.log_path)
            log_file = self._log.open(f"in {self.root}: {shlex.join(self.command)}")
            stderr = log_file if log_file is not None else asyncio.subprocess.DEVNULL
        elif not self.verbose:
            stderr = asyncio.subprocess.DEVNULL
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                cwd=self.root,
                env=self.env,
                start_new_session=True,
            )
        except OSError as exc:
            raise RpcError(
                SERVER_EXITED,
                f"Cannot start ryan-server ({shlex.join(self.command)}): {exc.strerror or exc}. "
                "Is the package installed in this Python, or is --server-cmd / RYAN_SERVER_CMD right?",
            ) from None
        assert proc.stdin is not None and proc.stdout is not None
        self._proc = proc
        attach_process(self, proc, self.report_server_error)
        params = {
            "processId": os.getpid(),
            "clientInfo": {"name": "ryan", "version": _version()},
            "rootUri": self.root.as_uri(),
            "rootPath": str(self.root),
            "workspaceFolders": [{"uri": self.root.as_uri(), "name": self.root.name or str(self.root)}],
            "initializationOptions": self.settings,
            "capabilities": {
                "window": {"showMessage": {"messageActionItem": {"additionalPropertiesSupport": False}}},
                "workspace": {"workspaceFolders": True, "configuration": False, "applyEdit": False},
                "general": {"positionEncodings": ["utf-16"]},
            },
        }
        try:
            result = await asyncio.wait_for(self.request("initialize", params), init_timeout)
        except TimeoutError:
            message = f"ryan-server did not answer initialize within {init_timeout:g} s"
            raise RpcError(SERVER_EXITED, message) from None
        self.init_result = result if isinstance(result, dict) else {}
        self.protocol.notify("initialized", {})
        return self.init_result

    async def close(self, *, grace: float = 2.0) -> None:
        """`shutdown` + `exit`, then make sure the process is gone."""
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.request("shutdown", None), grace)
            with contextlib.suppress(Exception):
                self.protocol.notify("exit", None)
            if proc.stdin is not None:
                with contextlib.suppress(Exception):
                    proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        await detach(self, grace)
        if self._log is not None:
            self._log.close()

    def server_exit_message(self) -> str:
        code = self._proc.returncode if self._proc is not None else None
        where = (
            "run with -v to see its output"
            if self.verbose or self.log_path is None
            else f"its log is in {self.log_path}"
        )
        message = f"ryan-server exited unexpectedly (exit code {code}); {where}"
        tail = self._log_tail()
        return f"{message}. It said:\n{tail}" if tail else message

    def _log_tail(self) -> str:
        return "" if self.verbose or self._log is None else self._log.tail()

    # ----- requests --------------------------------------------------------------------------

    async def request(self, method: str, params: Any = None, *, msg_id: str | None = None) -> Any:
        """Send a request and wait for its answer; JSON-RPC errors become `RpcError`."""
        if self._proc is None or self._proc.returncode is not None:
            raise RpcError(SERVER_EXITED, self.server_exit_message())
        future = self.protocol.send_request_async(method, params, msg_id=msg_id)
        return await self._answer(future)

    async def _answer(self, future: Awaitable[Any]) -> Any:
        try:
            return await future
        except JsonRpcException as exc:
            raise RpcError(exc.code, exc.message, exc.data) from None
        except RuntimeError:  # pygls fails pending requests this way when the process exits
            raise RpcError(SERVER_EXITED, self.server_exit_message()) from None

    async def chat(
        self,
        params: Mapping[str, Any],
        on_event: ProgressHandler,
        cancel: asyncio.Event | None = None,
        on_status: StatusHandler | None = None,
    ) -> dict[str, Any]:
        """Run `ryan/chat`, feeding each `$/progress` value to `on_event` in order, and the messages
        of its work-done progress ("waiting for the model… 3 s") to `on_status` (None at its end).

        When `cancel` is set, sends `$/cancelRequest` and waits briefly for the server's -32800
        answer (an `RpcError`); an answer that finished anyway is returned as usual.
        """
        if self._proc is None or self._proc.returncode is not None:
            raise RpcError(SERVER_EXITED, self.server_exit_message())
        n = next(self._ids)
        token = f"ryan-chat-{n}"
        work_token = f"ryan-work-{n}"
        msg_id = f"ryan-chat-{n}"
        self._progress[token] = on_event
        if on_status is not None:
            self._progress[work_token] = _work_done(on_status)
        try:
            future = asyncio.ensure_future(
                self.protocol.send_request_async(
                    wire.CHAT,
                    {**params, "partialResultToken": token, "workDoneToken": work_token},
                    msg_id=msg_id,
                )
            )
            if cancel is not None:
                waiter = asyncio.ensure_future(cancel.wait())
                try:
                    await asyncio.wait({future, waiter}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                if not future.done():
                    self.protocol.notify("$/cancelRequest", {"id": msg_id})
                    try:
                        await asyncio.wait_for(asyncio.shield(future), CANCEL_GRACE_SECONDS)
                    except TimeoutError:
                        future.cancel()
                        raise RpcError(
                            wire.ErrorCode.REQUEST_CANCELLED,
                            "Cancelled (the server did not confirm in time)",
                        ) from None
                    except Exception:
                        pass  # the answer itself is read below
            result = await self._answer(future)
            return result if isinstance(result, dict) else {}
        finally:
            self._progress.pop(token, None)
            self._progress.pop(work_token, None)

    # ----- server-to-client traffic ------------------------------------------------------------

    def _on_progress(self, params: Any) -> None:
        if not isinstance(params, dict):
            return
        handler = self._progress.get(params.get("token"))  # type: ignore[arg-type]
        value = params.get("value")
        if handler is not None and isinstance(value, dict):
            handler(value)

    def _on_show_message(self, params: Any) -> None:
        if isinstance(params, dict):
            level = int(params.get("type", 3))
            if level <= 2 or self.verbose:
                self.message_sink("showMessage", level, str(params.get("message", "")))

    def _on_log_message(self, params: Any) -> None:
        # With -v the server's stderr is passed through and says the same thing.
        if isinstance(params, dict) and not self.verbose:
            level = int(params.get("type", 3))
            if level <= 1:
                self.message_sink("logMessage", level, str(params.get("message", "")))

    async def _on_show_message_request(self, params: Any) -> dict[str, Any] | None:
        if not isinstance(params, dict) or self.approver is None:
            return None
        title = await self.approver(params)
        return {"title": title} if title is not None else None

    def _on_configuration(self, params: Any) -> list[Any]:
        items = params.get("items", []) if isinstance(params, dict) else []
        return [self.settings if item.get("section") in (None, "", "ryan") else None for item in items]

    def report_server_error(self, error: Exception, source: Any) -> None:
        logger.debug("protocol error from server: %s (%s)", error, source)


def _work_done(on_status: StatusHandler) -> ProgressHandler:
    """LSP work-done progress values (`begin`/`report`/`end`) as the latest message, None at the end."""

    def handle(value: dict[str, Any]) -> None:
        kind = value.get("kind")
        if kind == "end":
            on_status(None)
        elif kind in ("begin", "report") and isinstance(value.get("message"), str):
            on_status(value["message"])

    return handle


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("ryan-server")
    except Exception:
        return "0"
