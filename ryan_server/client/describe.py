"""What the terminal says about a chat, one line at a time: tool calls and results, server messages,
retries and notices, the step limit, the summary after an answer, and a command's output made safe to
print. The printers (`output.py`) decide where and how these lines appear.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ryan_server import protocol as wire


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


def tool_label(event: dict[str, Any]) -> str:
    """The tool's name as people know it: `server › tool` for an MCP server's tool, not `mcp__…`."""
    server, tool = event.get("server"), event.get("tool")
    if isinstance(server, str) and server and isinstance(tool, str) and tool:
        return f"{server} › {tool}"
    return str(event.get("name", "tool"))


def describe_tool_call(event: dict[str, Any]) -> str:
    """`write_file a.txt (2 chars)`, `run_command pytest -q`, `demo › add {"a": 2}`: on one line."""
    args = _arguments(event)
    parts = [tool_label(event)]
    if event.get("server") and args:
        parts.append(_short(json.dumps(args, ensure_ascii=False), 60))
    for key in ("path", "command", "pattern", "glob"):
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
    label = call or tool_label(event)
    output = event.get("output")
    lines = output.strip().splitlines() if isinstance(output, str) else []
    # a command's result starts with `$ command` and ends with `[exit code N]`: the end says more
    command = lines and lines[0].startswith("$ ") and lines[-1].startswith("[")
    shown = lines[-1] if command else lines[0] if lines else ""
    first = _short(shown, 70)
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


_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: titles, links
    r"|\x1b.|[\x00-\x08\x0b-\x1f\x7f]"  # other escapes and control characters (\r too)
)


def printable(text: str) -> str:
    """A command's output without the escape sequences and control characters that would move the
    cursor or recolour the terminal under the client's own drawing (line ends and tabs stay)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


def describe_changes(checkpoint: dict[str, Any]) -> list[str]:
    """What a chat changed, from its checkpoint: `changed 2 files (checkpoint 7):` and a line per file,
    `  a.py  modified  +1 −1`, the paths in one column."""
    files = [f for f in checkpoint.get("files") or [] if isinstance(f, dict)]
    if not files:
        return []
    width = min(max(len(str(f.get("path", ""))) for f in files), 48)
    what = f"changed {len(files)} file{'' if len(files) == 1 else 's'}"
    lines = [f"{what} (checkpoint {checkpoint.get('checkpointId', '?')}):"]
    for f in files:
        counts = f"+{f.get('added', 0)} −{f.get('removed', 0)}"
        lines.append(f"  {f.get('path', '')!s:<{width}}  {f.get('change', '')!s:<8}  {counts}")
    return lines
