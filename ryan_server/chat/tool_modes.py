"""How a model gets its tools: natively, described in the prompt, or not at all; learned per model.

`tools.mode` decides: `off` offers none and reads nothing; `prompt` describes them in the system prompt
(prompt_tools.py) and reads the calls from the answer (text_calls.py); `native` sends them as the API's
`tools` and reads only native calls; `auto` (the default) sends them natively, reads calls written as
text too, and switches a model to the prompt when the backend says it has no tool support (Ollama's
`/api/show` capabilities, llama.cpp's `/props` chat-template caps) or refuses the tool definitions.
What was learned about a model lasts as long as the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..backends import Backend

NATIVE, PROMPT, OFF = "native", "prompt", "off"


@dataclass
class ToolPlan:
    """How one chat offers tools: `mode`, why when it is not native (`reason`), and whether calls
    written as text are read."""

    mode: str
    reason: str | None = None
    read_text: bool = False


class ToolModes:
    def __init__(self) -> None:
        self._unsupported: dict[tuple[str, str], str] = {}  # (base url, model) -> why it has no tools
        self._checked: set[tuple[str, str]] = set()

    async def plan(self, setting: str, backend: Backend, model: str) -> ToolPlan:
        """The plan for a chat with `model` under the `tools.mode` setting."""
        if setting == OFF:
            return ToolPlan(OFF)
        if setting == PROMPT:
            return ToolPlan(PROMPT, 'the tools.mode setting is "prompt"', read_text=True)
        key = (backend.base_url, model)
        if setting == "auto" and key not in self._checked:
            self._checked.add(key)
            if await backend.supports_tools(model) is False:
                self._unsupported.setdefault(key, f"{backend.label} reports that {model} has no tool support")
        reason = self._unsupported.get(key)
        if reason is None:
            return ToolPlan(NATIVE, read_text=setting == "auto")
        if setting == "auto":
            return ToolPlan(PROMPT, reason, read_text=True)
        return ToolPlan(OFF, reason)

    def refused(self, backend: Backend, model: str, reason: str) -> None:
        """The backend refused tool definitions for `model`: remember it for later chats."""
        self._unsupported[(backend.base_url, model)] = reason
