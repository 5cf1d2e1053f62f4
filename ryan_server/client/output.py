"""How a chat's events reach the terminal: plain text, JSON lines, or rich markdown (approvals: approval.py).

Each printer takes the `$/progress` values of one `ryan/chat` in order (`on_event`) and then either
the response (`finish`) or the error (`fail`). Status lines (tool calls, retries, errors) go to stderr
so stdout carries only the answer.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.text import Text

from ryan_server import protocol as wire
from ryan_server.client.rpc import RpcError

DIM = "\x1b[2m"
RESET = "\x1b[0m"


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arguments(event: dict[str, Any]) -> dict[str, Any]:
    args = event.get("arguments")
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            return {"arguments": args}
    return args if isinstance(args, dict) else {}


def describe_tool_call(event: dict[str, Any]) -> str:
    """`write_file a.txt (2 chars)`: the tool and what it touches, on one line."""
    name = str(event.get("name", "tool"))
    args = _arguments(event)
    parts = [name]
    for key in ("path", "pattern", "glob"):
        if isinstance(args.get(key), str):
            parts.append(_short(args[key], 60))
            break
    for key in ("content", "newText"):
        if isinstance(args.get(key), str):
            parts.append(f"({len(args[key])} chars)")
            break
    return " ".join(parts)


def describe_tool_result(event: dict[str, Any], call: str | None) -> str:
    status = str(event.get("status", "ok"))
    mark = {"ok": "✓", "denied": "✗", "error": "✗"}.get(status, "·")
    label = call or str(event.get("name", "tool"))
    output = event.get("output")
    first = _short(output.strip().splitlines()[0], 70) if isinstance(output, str) and output.strip() else ""
    if status == "ok":
        return f"{mark} {label}" + (f": {first}" if first else "")
    return f"{mark} {label} {status}" + (f": {first}" if first else "")


def describe_message(level: int, message: str) -> str:
    """A server's `window/showMessage` as one status line."""
    label = {1: "error", 2: "warning"}.get(level, "note")
    return f"ryan-server {label}: {message.removeprefix('Ryan: ')}"


def describe_other(event: dict[str, Any]) -> str | None:
    kind = event.get("kind")
    if kind == wire.EventKind.RETRY:
        delay = float(event.get("delayMs", 0)) / 1000
        attempt = event.get("attempt", "?")
        return f"… backend trouble ({event.get('reason', '')}); retry {attempt} in {delay:.1f} s"
    if kind == wire.EventKind.FALLBACK:
        return f"… streaming failed ({event.get('reason', '')}); asking again without streaming"
    if kind == wire.EventKind.NOTICE:
        return f"… {event.get('message') or event.get('text') or ''}"
    return None


def step_limit(result: dict[str, Any], *, go_on: str) -> str | None:
    """What to say when the chat stopped at `tools.maxSteps` (None when it did not)."""
    if result.get("stopReason") != wire.StopReason.MAX_STEPS:
        return None
    calls = len(result.get("toolCalls") or [])
    return (
        f"Stopped after {calls} tool call{'' if calls == 1 else 's'} without an answer: the model used "
        f"all its turns (the tools.maxSteps setting, default 20). To let it go on, {go_on}."
    )


def tells_step_limit(event: dict[str, Any]) -> bool:
    """A server notice that already says the step limit was reached."""
    return event.get("kind") == wire.EventKind.NOTICE and "maxSteps" in str(event.get("message", ""))


GO_ON = 'ryan chat --session last "go on"'


def context_percent(usage: dict[str, Any] | None) -> str:
    """`context 41%`: how much of the model's context window the last request and its answer took.

    "" when the server does not know the window (no `contextWindow`, or no `contextUsed`).
    """
    usage = usage or {}
    window, used = usage.get("contextWindow"), usage.get("contextUsed")
    if not isinstance(window, int | float) or not isinstance(used, int | float) or window <= 0:
        return ""
    # half up, as the Neovim plugin rounds (Python's round() would give 40% for 40.5%)
    return f"context {math.floor(100 * used / window + 0.5)}%"


def summary(result: dict[str, Any]) -> str:
    """The line after an answer: `model · 31 tokens · 17.4 tok/s · context 41%`."""
    usage = result.get("usage") or {}
    timing = result.get("timing") or {}
    bits = [str(result.get("model", ""))]
    if usage.get("completionTokens") is not None:
        approx = "~" if usage.get("estimated") else ""
        count = usage["completionTokens"]
        bits.append(f"{approx}{count} token{'' if count == 1 else 's'}")
    if timing.get("tokensPerSecond"):
        bits.append(f"{float(timing['tokensPerSecond']):.1f} tok/s")
    bits.append(context_percent(usage))
    if result.get("stopReason") not in (None, wire.StopReason.STOP):
        bits.append(f"stopped: {result['stopReason']}")
    return " · ".join(b for b in bits if b)


class Answer(Markdown):
    """A model's markdown as chat windows show it: a single newline is a line break, not a space."""

    def __init__(self, markup: str) -> None:
        super().__init__(markup)
        for block in self.parsed:
            for token in block.children or ():
                if token.type == "softbreak":
                    token.type = "hardbreak"


class TextPrinter:
    """One-shot `ryan chat`: answer text to stdout as it arrives, thinking dimmed on a TTY."""

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

    def _write(self, text: str, mode: str) -> None:
        if not text:
            return
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
        if self.tty:
            self._end_line()
        self.err.write(line + "\n")
        self.err.flush()

    def before_prompt(self) -> None:
        if self.tty:
            self._end_line()

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        if kind == wire.EventKind.CONTENT:
            self._write(str(event.get("text", "")), wire.EventKind.CONTENT)
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
        self._end_line()
        self.session_id = result.get("sessionId") or self.session_id
        limit = step_limit(result, go_on=f"run: {GO_ON}")
        if limit and not self._told_step_limit:
            self.status(f"ryan: {limit}")
        if self.verbose:
            self.err.write(f"· {summary(result)}\n")
            self.err.flush()

    def fail(self, error: RpcError, *, interrupted: bool = False) -> None:
        self._end_line()
        if interrupted:
            self.err.write("ryan: interrupted\n")
        else:
            self.err.write(f"ryan: {error.message}\n")
        self.err.flush()


class JsonPrinter:
    """`--json`: every progress value as one line, then the result or the error; nothing else."""

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
        self.err.flush()


class RichPrinter:
    """The interactive chat: markdown re-rendered with rich.live at a modest rate, thinking dimmed.

    A tool call ends the current live block (it stays printed) so status lines and approval
    prompts land between the pieces of text they belong between.
    """

    def __init__(self, console: Console, *, verbose: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self.session_id: str | None = None
        self._live: Live | None = None
        self._thinking: list[str] = []
        self._content: list[str] = []
        self._calls: dict[str, str] = {}
        self._told_step_limit = False

    def _render(self) -> RenderableType:
        parts: list[RenderableType] = []
        if self._thinking:
            parts.append(Text("".join(self._thinking).strip("\n"), style="dim italic"))
        if self._content:
            parts.append(Answer("".join(self._content)))
        return Group(*parts)

    def _grow(self, bucket: list[str], text: str) -> None:
        if not text:
            return
        bucket.append(text)
        if self._live is None and self.console.is_terminal:
            self._live = Live(
                console=self.console,
                get_renderable=self._render,
                refresh_per_second=8,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def end_block(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        elif self._thinking or self._content:  # not a terminal: no live view, print the block once
            self.console.print(self._render())
        self._thinking = []
        self._content = []

    def status(self, line: str, style: str = "dim") -> None:
        self.end_block()
        self.console.print(Text(line, style=style))

    def before_prompt(self) -> None:
        self.end_block()

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        if kind == wire.EventKind.CONTENT:
            self._grow(self._content, str(event.get("text", "")))
        elif kind == wire.EventKind.THINKING:
            self._grow(self._thinking, str(event.get("text", "")))
        elif kind == wire.EventKind.START:
            self.session_id = event.get("sessionId") or self.session_id
        elif kind == wire.EventKind.TOOL_CALL:
            line = describe_tool_call(event)
            self._calls[str(event.get("callId"))] = line
            self.status(f"⋯ {line}", style="cyan")
        elif kind == wire.EventKind.TOOL_RESULT:
            status = event.get("status")
            style = "green" if status == "ok" else "red"
            self.status(describe_tool_result(event, self._calls.get(str(event.get("callId")))), style=style)
        else:
            self._told_step_limit |= tells_step_limit(event)
            other = describe_other(event)
            if other:
                self.status(other, style="yellow")

    def finish(self, result: dict[str, Any]) -> None:
        self.end_block()
        self.session_id = result.get("sessionId") or self.session_id
        limit = step_limit(result, go_on='send another message (say "go on")')
        if limit and not self._told_step_limit:
            self.status(limit, style="yellow")
        self.console.print(Text(summary(result), style="dim"))

    def fail(self, error: RpcError, *, interrupted: bool = False) -> None:
        self.end_block()
        if interrupted:
            self.console.print(Text("(stopped)", style="dim"))
        else:
            self.console.print(Text(f"error: {error.message}", style="bold red"))


# ----- approvals ---------------------------------------------------------------------------------
