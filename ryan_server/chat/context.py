"""What the model is sent: the system prompt, the stored history as neutral messages, and the new
prompt with its attached context (window.py keeps it inside the model's context window)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ..store import MessageRecord
from .types import ChatInput

DEFAULT_SYSTEM_PROMPT = (
    "You are Ryan, a coding assistant inside the user's editor. Answer concisely in Markdown. "
    "When the question is about the user's project, look before you answer: list, search and read "
    "files with the tools (paths are relative to the workspace root). Change files only when the "
    "user asks for it, with edit_file for small changes and write_file for new files; the user "
    "approves each change."
)


def user_text(request: ChatInput, workspace: str = "") -> str:
    """The prompt with its context attached as fenced blocks, each headed by the file (relative to
    `workspace`, the first root, as the tools name files) and its 1-based lines."""
    if not request.context:
        return request.prompt
    blocks = []
    for item in request.context:
        where = _where(item.uri, workspace)
        if item.start_line is not None and item.end_line is not None:
            last = item.end_line
            if item.end_character == 0 and last > item.start_line:
                last -= 1  # an LSP range ends before its end: character 0 adds nothing of that line
            first = item.start_line + 1
            where += f" (line {first})" if last + 1 == first else f" (lines {first}-{last + 1})"
        fence = "````" if "```" in item.text else "```"
        text = item.text if item.text.endswith("\n") else item.text + "\n"
        blocks.append(f"{where}:\n{fence}\n{text}{fence}")
    return request.prompt + "\n\n" + "\n\n".join(blocks)


def _where(uri: str | None, workspace: str) -> str:
    """A context item's file as the model sees it: the tools' relative path, else the absolute one."""
    if not uri:
        return "selection"
    if not uri.startswith("file:"):
        return uri  # an unsaved buffer (`untitled:`) has no path
    path = Path(url2pathname(urlsplit(uri).path))
    if workspace and path.is_relative_to(workspace):
        return path.relative_to(workspace).as_posix()
    return path.as_posix()


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
