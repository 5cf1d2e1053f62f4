"""How a one-shot chat's events reach the terminal: plain text or JSON lines (the interactive chat's
rich view: rich_printer.py; the lines themselves: describe.py; approvals: approval.py).

Each printer takes the `$/progress` values of one `ryan/chat` in order (`on_event`) and then either
the response (`finish`) or the error (`fail`). Status lines (tool calls, retries, errors) go to stderr
so stdout carries only the answer.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from rich.markdown import Markdown

from ryan_server import protocol as wire
from ryan_server.client.config import setting_hint
from ryan_server.client.describe import (
    GO_ON,
    context_percent,
    describe_changes,
    describe_message,
    describe_other,
    describe_tool_call,
    describe_tool_result,
    printable,
    step_limit,
    summary,
    tells_step_limit,
)
from ryan_server.client.rpc import RpcError

__all__ = [
    "Answer",
    "JsonPrinter",
    "TextPrinter",
    "context_percent",
    "describe_message",
    "summary",
]

CHANGES_HINT = "see the changes: ryan diff · take them back: ryan undo"
DIM = "\x1b[2m"
RESET = "\x1b[0m"


class Answer(Markdown):
    """A model's markdown as chat windows show it: a single newline is a line break, not a space."""

    def __init__(self, markup: str) -> None:
        super().__init__(markup)
        for block in self.parsed:
            for token in block.children or ():
                if token.type == "softbreak":
                    token.type = "hardbreak"


class TextPrinter:
    """One-shot `ryan chat`: answer text to stdout as it arrives, thinking dimmed on a TTY; status lines
    and a command's live output (dimmed, indented under its tool line) on stderr; on a terminal the
    server's latest status ("waiting for the model… 3 s") as a transient last line of stderr."""

    def __init__(
        self, *, verbose: bool = False, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tty = self.out.isatty()
        self.verbose = verbose
        self.session_id: str | None = None
        self._mode: str | None = None
        self._at_line_start = True
        self._calls: dict[str, str] = {}
        self._told_step_limit = False
        self.err_tty = self.err.isatty()
        self._transient = False  # a status is drawn on the terminal's last line
        self._output_at_line_start = True  # of a running command's output
        self._prompting = False

    def _clear_status(self) -> None:
        if self._transient:
            self.err.write("\r\x1b[2K")
            self.err.flush()
            self._transient = False

    def _end_output(self) -> None:
        self._clear_status()
        if not self._output_at_line_start:
            self.err.write("\n")
            self._output_at_line_start = True

    def work(self, message: str | None) -> None:
        """The chat's latest work-done status, in place on the last line (a terminal's stderr only, and
        only while nothing else is half-written on that line)."""
        free = (self._at_line_start or not self.tty) and self._output_at_line_start and not self._prompting
        if message is None or not self.err_tty or not free:
            self._clear_status()
            return
        self.err.write(f"\r\x1b[2K{DIM}… {message}{RESET}")
        self.err.flush()
        self._transient = True

    def tool_output(self, text: str) -> None:
        text = printable(text)
        if not text:
            return
        self._clear_status()
        if self.tty:
            self._end_line()
        shown: list[str] = []
        for piece in text.splitlines(keepends=True):
            shown.append(("  " if self._output_at_line_start else "") + piece)
            self._output_at_line_start = piece.endswith("\n")
        self.err.write(f"{DIM}{''.join(shown)}{RESET}" if self.err_tty else "".join(shown))
        self.err.flush()

    def _write(self, text: str, mode: str) -> None:
        if not text:
            return
        self._clear_status()
        if self.tty and mode != self._mode:
            if self._mode == wire.EventKind.THINKING:
                self.out.write(RESET + ("\n\n" if not self._at_line_start else "\n"))
                self._at_line_start = True
            if mode == wire.EventKind.THINKING:
                self.out.write(DIM)
        self._mode = mode
        self.out.write(text)
        self.out.flush()
        self._at_line_start = text.endswith("\n")

    def _end_line(self) -> None:
        if self.tty and self._mode == wire.EventKind.THINKING:
            self.out.write(RESET)
            self._mode = None
        if not self._at_line_start and (self.tty or self._mode is not None):
            self.out.write("\n")
            self._at_line_start = True
        self.out.flush()

    def status(self, line: str) -> None:
        self._end_output()
        if self.tty:
            self._end_line()
        self.err.write(line + "\n")
        self.err.flush()

    def before_prompt(self) -> None:
        self._end_output()
        self._prompting = True
        if self.tty:
            self._end_line()

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        self._prompting = False
        if kind == wire.EventKind.CONTENT:
            self._write(str(event.get("text", "")), wire.EventKind.CONTENT)
        elif kind == wire.EventKind.TOOL_OUTPUT:
            self.tool_output(str(event.get("text", "")))
        elif kind == wire.EventKind.THINKING:
            if self.tty:
                self._write(str(event.get("text", "")), wire.EventKind.THINKING)
        elif kind == wire.EventKind.START:
            self.session_id = event.get("sessionId") or self.session_id
            if self.verbose:
                self.status(f"· session {self.session_id} · {event.get('model', '')}")
        elif kind == wire.EventKind.TOOL_CALL:
            line = describe_tool_call(event)
            self._calls[str(event.get("callId"))] = line
            self.status(f"⋯ {line}")
        elif kind == wire.EventKind.TOOL_RESULT:
            self.status(describe_tool_result(event, self._calls.get(str(event.get("callId")))))
        else:
            self._told_step_limit |= tells_step_limit(event)
            other = describe_other(event)
            if other:
                self.status(other)

    def finish(self, result: dict[str, Any]) -> None:
        self._end_output()
        self._end_line()
        self.session_id = result.get("sessionId") or self.session_id
        checkpoint = result.get("checkpoint")
        changes = describe_changes(checkpoint) if isinstance(checkpoint, dict) else []
        for line in changes:
            self.status(line)
        if changes:
            self.status(CHANGES_HINT)
        limit = step_limit(result, go_on=f"run: {GO_ON}")
        if limit and not self._told_step_limit:
            self.status(f"ryan: {limit}")
        if self.verbose:
            self.err.write(f"· {summary(result)}\n")
            self.err.flush()

    def fail(self, error: RpcError, *, interrupted: bool = False) -> None:
        self._end_output()
        self._end_line()
        self.err.write(f"ryan: {'interrupted' if interrupted else error.message}\n")
        hint = None if interrupted else setting_hint(error.message)
        if hint:
            self.err.write(f"ryan: {hint}\n")
        self.err.flush()


class JsonPrinter:
    """`--json`: every progress value as one line, then the result (with its `checkpoint`) or the
    error; nothing else."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.session_id: str | None = None
        self._told_step_limit = False

    def _line(self, value: dict[str, Any]) -> None:
        self.out.write(json.dumps(value, ensure_ascii=False) + "\n")
        self.out.flush()

    def status(self, line: str) -> None:
        self.err.write(line + "\n")
        self.err.flush()

    def before_prompt(self) -> None:
        pass

    def work(self, message: str | None) -> None:
        pass  # scripts read the events; a status line would only be noise

    def on_event(self, event: dict[str, Any]) -> None:
        if event.get("kind") == wire.EventKind.START:
            self.session_id = event.get("sessionId")
        self._told_step_limit |= tells_step_limit(event)
        self._line(event)

    def finish(self, result: dict[str, Any]) -> None:
        self._line({"kind": "result", **result})
        limit = step_limit(result, go_on=f"run: {GO_ON}")
        if limit and not self._told_step_limit:
            self.status(f"ryan: {limit}")

    def fail(self, error: RpcError, *, interrupted: bool = False) -> None:
        self._line(error.as_json())
        self.err.write(f"ryan: {'interrupted' if interrupted else error.message}\n")
        hint = None if interrupted else setting_hint(error.message)
        if hint:
            self.err.write(f"ryan: {hint}\n")
        self.err.flush()
