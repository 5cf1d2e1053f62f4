"""The interactive chat's view: markdown re-rendered in place (rich.live), a spinner with the server's
latest status while the model has sent nothing ("waiting for the model… 3 s"), status lines between
the pieces of the answer, a command's live output dimmed under its tool line, and after an answer the
files it changed (from the response's `checkpoint`).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from ryan_server import protocol as wire
from ryan_server.client.config import setting_hint
from ryan_server.client.describe import (
    describe_changes,
    describe_other,
    describe_tool_call,
    describe_tool_result,
    printable,
    step_limit,
    summary,
    tells_step_limit,
)
from ryan_server.client.output import Answer
from ryan_server.client.rpc import RpcError

CHANGES_HINT = "/diff shows the changes, /undo takes them back"


class RichPrinter:
    """The interactive chat: markdown re-rendered with rich.live at a modest rate, thinking dimmed.

    A tool call ends the current live block (it stays printed) so status lines and approval
    prompts land between the pieces of text they belong between. While no text streams, the server's
    latest status turns under a spinner (a transient live view: it leaves nothing behind).
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
        self._spinner = Spinner("dots", style="cyan")
        self._waiting: Live | None = None
        self._prompting = False
        self._output = ""  # a command's output not yet ending in a line break

    def work(self, message: str | None) -> None:
        """The chat's latest work-done status beside the spinner; None (its end) clears it."""
        if message is None or self._live is not None or self._prompting or not self.console.is_terminal:
            self._stop_waiting()
            return
        self._spinner.update(text=Text(message, style="dim"))
        if self._waiting is None:
            self._waiting = Live(
                self._spinner,
                console=self.console,
                refresh_per_second=10,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._waiting.start()

    def _stop_waiting(self) -> None:
        if self._waiting is not None:
            self._waiting.stop()
            self._waiting = None

    def tool_output(self, text: str, *, flush: bool = False) -> None:
        """Whole lines of a command's output as they come (a half line waits for its end or `flush`)."""
        lines = (self._output + printable(text)).split("\n")
        self._output = lines.pop()  # after the last line break
        if flush and self._output:
            lines.append(self._output)
            self._output = ""
        for line in lines:
            self.console.print(Text(f"  {line}", style="dim"), soft_wrap=True)

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
            self._stop_waiting()
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
        if self._output:
            self.tool_output("", flush=True)
        self.console.print(Text(line, style=style))

    def before_prompt(self) -> None:
        self.end_block()
        self._stop_waiting()
        self._prompting = True

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        self._prompting = False
        if kind == wire.EventKind.CONTENT:
            self._grow(self._content, str(event.get("text", "")))
        elif kind == wire.EventKind.THINKING:
            self._grow(self._thinking, str(event.get("text", "")))
        elif kind == wire.EventKind.START:
            self.session_id = event.get("sessionId") or self.session_id
        elif kind == wire.EventKind.TOOL_OUTPUT:
            self.end_block()
            self.tool_output(str(event.get("text", "")))
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
        self._stop_waiting()
        self.tool_output("", flush=True)
        self.session_id = result.get("sessionId") or self.session_id
        checkpoint = result.get("checkpoint")
        changes = describe_changes(checkpoint) if isinstance(checkpoint, dict) else []
        for n, line in enumerate(changes):
            self.console.print(Text(line, style="bold" if n == 0 else ""), soft_wrap=True)
        if changes:
            self.console.print(Text(CHANGES_HINT, style="dim"))
        limit = step_limit(result, go_on='send another message (say "go on")')
        if limit and not self._told_step_limit:
            self.status(limit, style="yellow")
        self.console.print(Text(summary(result), style="dim"))

    def fail(self, error: RpcError, *, interrupted: bool = False) -> None:
        self.end_block()
        self._stop_waiting()
        self.tool_output("", flush=True)
        if interrupted:
            self.console.print(Text("(stopped)", style="dim"))
            return
        self.console.print(Text(f"error: {error.message}", style="bold red"))
        hint = setting_hint(error.message)
        if hint:
            self.console.print(Text(hint, style="yellow"))
