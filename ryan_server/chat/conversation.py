"""One chat request's conversation as the model is sent it, turn after turn: the messages so far, how
the tools are offered (tool_modes.py, prompt_tools.py), and what of it fits the context window
(window.py). The engine asks it for each turn's request and hands it each turn's tool calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..backends import Backend, ChatRequest
from ..backends.base import ToolCall
from ..errors import ToolsUnsupported
from ..settings import Settings
from .context import tool_message
from .prompt_tools import prompt_messages
from .tool_modes import NATIVE, OFF, PROMPT, ToolModes, ToolPlan
from .window import ContextWindows, answer_reserve


@dataclass
class Conversation:
    session_id: str
    model: str
    backend: Backend
    settings: Settings
    messages: list[dict[str, Any]]  # neutral, system first: the whole history and this request so far
    plan: ToolPlan
    schemas: list[dict[str, Any]]
    windows: ContextWindows
    window: int | None
    tool_modes: ToolModes
    estimated: int = 0  # the size of the last request, as estimated

    def next_request(self) -> tuple[ChatRequest, str | None]:
        """The next turn's request, and a notice when older messages had to be left out for it."""
        kept, notice = self.messages, None
        if self.window:
            kept, left_out = self.windows.fit(self.session_id, self.messages, self.window, self._size)
            if left_out:
                notice = (
                    f"Left out the {left_out} oldest messages of this session so the conversation fits "
                    f"the model's context window ({self.window} tokens)."
                )
        self.estimated = self._size(kept)
        options = self.settings.options
        option = self.backend.context_option
        if self.window and option and option not in options:
            needed = self.estimated + answer_reserve(self.window)
            options = {**options, option: self.windows.num_ctx(self.backend, self.model, needed, self.window)}
        request = ChatRequest(
            model=self.model,
            messages=self._wire(kept),
            options=options,
            think=self.settings.think,
            tools=self.schemas if self.plan.mode == NATIVE else None,
        )
        return request, notice

    def counted(self, prompt_tokens: int | None) -> int:
        """The backend's count of the last request's prompt (corrects later estimates); returns the
        best figure for it."""
        if prompt_tokens:
            self.windows.learn(self.backend, self.model, self.estimated, prompt_tokens)
        return prompt_tokens or self.estimated

    def add_turn(self, text: str, calls: list[ToolCall], outputs: list[str]) -> None:
        """The model's turn that made `calls`, and their results."""
        self.messages.append(
            {
                "role": "assistant",
                "content": text,
                "tool_calls": [{"id": c.call_id, "name": c.name, "arguments": c.arguments} for c in calls],
            }
        )
        self.messages += [tool_message(c.name, c.call_id, out) for c, out in zip(calls, outputs, strict=True)]

    def refuse_tools(self, turn: ChatRequest, failure: ToolsUnsupported) -> str:
        """The backend refused the tool definitions: offer them in the prompt (auto) or not at all."""
        self.tool_modes.refused(self.backend, self.model, failure.message)
        turn.tools = None
        if self.settings.tools.mode == "auto":
            self.plan.mode, self.plan.read_text = PROMPT, True
            turn.messages = prompt_messages(turn.messages, self.schemas)
            return (
                f"{failure.message} Ryan describes the tools in the prompt instead and reads the calls "
                "from the answer."
            )
        self.plan.mode = OFF
        return f"{failure.message} Continuing without workspace tools."

    def _wire(self, kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return prompt_messages(kept, self.schemas) if self.plan.mode == PROMPT else kept

    def _size(self, kept: list[dict[str, Any]]) -> int:
        tools = self.schemas if self.plan.mode == NATIVE else None
        return self.windows.estimate(self.backend, self.model, self._wire(kept), tools)
