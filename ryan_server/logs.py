"""Logging: stderr or a file, the editor's `window/logMessage`, and secrets kept out of both.

pygls logs `initialize` params and every message it sends at INFO, so its logger stays at WARNING
whatever Ryan's level is. Every handler carries a filter that blanks known secrets (the API key),
so a key that reaches a log line through an exception or a library is still not written.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

LOGGER = "ryan_server"
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Never write `value` to any log from now on."""
    if value and len(value) >= 4:
        _secrets.add(value)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            text = record.getMessage()
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            for secret in _secrets:
                text = text.replace(secret, "***")
                if record.exc_text:
                    record.exc_text = record.exc_text.replace(secret, "***")
            record.msg, record.args = text, None
        return True


class QuietExpectedErrors(logging.Filter):
    """pygls logs a traceback for every error response and every unparsable message; Ryan answers
    those with JSON-RPC errors and logs them in one line, so the tracebacks are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            # pygls's JsonRpcException and its subclasses, recognised without importing pygls (the
            # ACP front end and the core do not load it)
            if any(
                c.__name__ == "JsonRpcException" and c.__module__ == "pygls.exceptions"
                for c in type(error).__mro__
            ):
                return False
            if record.name == "pygls.server" and isinstance(error, ValueError):
                return False
        return True


class EditorLogHandler(logging.Handler):
    """Sends Ryan's log records to the editor as `window/logMessage`."""

    def __init__(self, send: Callable[[int, str], None]) -> None:
        super().__init__()
        self._send = send
        self.addFilter(RedactSecrets())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._send(record.levelno, self.format(record))
        except Exception:  # the editor is gone or not ready: the stderr log still has it
            pass


def configure(level: str, log_file: str | None) -> None:
    """Set up the process's logging: Ryan's records at `level`, pygls's at WARNING at least."""
    register_secret(os.environ.get("RYAN_API_KEY"))
    stream = open(log_file, "a", encoding="utf-8") if log_file else sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    handler.addFilter(QuietExpectedErrors())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    set_level(level)
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def set_level(level: str) -> None:
    logging.getLogger(LOGGER).setLevel(getattr(logging, level.upper(), logging.INFO))
