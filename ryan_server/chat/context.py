"""What the model is sent: the system prompt, the stored history as neutral messages, and the new
prompt with its attached context (window.py keeps it inside the model's context window)."""

from __future__ import annotations

from typing import Any

from ..store import MessageRecord
from .types import ChatInput

DEFAULT_SYSTEM_PROMPT = (
    "You are Ryan, a coding assistant inside the user's editor. Answer concisely in Markdown. "
    "When the question is about the user's project, look before you answer: list, search and read "
    "files with the tools (paths are relative to the workspace root). Change files only when the "
    "user asks for it, with edit_file for small changes and write_file for new files; the user "
    "approves each change."
)


def user_text(request: ChatInput) -> str:
    """The prompt with its context attached as fenced blocks naming the file and lines."""
    if not request.context:
        return request.prompt
    blocks = []
    for item in request.context:
        where = item.uri or "selection"
        if item.start_line is not None and item.end_line is not None:
            where += f" (lines {item.start_line + 1}-{item.end_line + 1})"
        fence = "````" if "```" in item.text else "```"
        blocks.append(f"{where}:\n{fence}\n{item.text}\n{fence}")
    return request.prompt + "\n\n" + "\n\n".join(blocks)


def title_of(prompt: str) -> str:
    """A session's title: the prompt's first words on one line."""
    line = " ".join(prompt.strip().split())
    return line if len(line) <= 60 else line[:57].rstrip() + "…"


def neutral(history: list[MessageRecord]) -> list[dict[str, Any]]:
    """Stored messages as backend-neutral chat messages, every tool call answered by a tool result."""
    out: list[dict[str, Any]] = []
    answered = {m.tool_call_id for m in history if m.role == "tool"}
    for m in history:
        if m.role == "assistant":
            calls = [
                {"id": c["callId"], "name": c["name"], "arguments": c["arguments"]}
                for c in m.tool_calls or []
            ]
            if not m.content and not calls:
                continue
            message: dict[str, Any] = {"role": "assistant", "content": m.content}
            if calls:
                message["tool_calls"] = calls
            out.append(message)
            for c in calls:
                if c["id"] not in answered:
                    out.append(tool_message(c["name"], c["id"], "Error: the tool call was interrupted."))
        elif m.role == "tool":
            out.append(tool_message(m.tool_name, m.tool_call_id, m.content))
        elif m.role == "user":
            out.append({"role": "user", "content": m.content})
    return out


def tool_message(name: str | None, call_id: str | None, output: str) -> dict[str, Any]:
    return {"role": "tool", "content": output, "tool_name": name, "tool_call_id": call_id}
