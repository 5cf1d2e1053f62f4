"""The model's real context window: how big it is, how much a request needs, what to leave out.

Learned per backend address and model, once: Ollama's `/api/show` (`*.context_length`), llama.cpp's
`/props` (`n_ctx`), vLLM's `/v1/models` (`max_model_len`); the `contextLength` setting caps and
overrides it, and so does a `num_ctx` the user put in `options`. Ollama allocates the context each
request asks for (`num_ctx`): Ryan asks for enough for the conversation, in powers of two from 4096,
and keeps the figure while the conversation fits, since every change reloads the model.

Sizes are estimated from characters (four a token), corrected by the backend's own count of the last
request's prompt (`prompt_eval_count`, `usage.prompt_tokens`). When a request would not fit, whole
turns are left out from the oldest, never the system prompt, the tool definitions or the newest turn
(a tool call always goes with its result, since a turn goes whole); they are left out in blocks, down
to well below the limit and remembered per session, so the prompt's prefix (which the server caches)
changes rarely.
"""

from __future__ import annotations

import json
from typing import Any

from ..backends import Backend
from ..errors import RyanError
from ..settings import Settings

FIRST_NUM_CTX = 4096  # Ollama's own default since 0.6
TRIM_TO = 0.6  # of the prompt budget: room for several turns before the next trim


class ContextOverflow(RyanError):
    """Even the system prompt, the tools and the newest turn do not fit the model's context window."""


def estimate_tokens(message: dict[str, Any]) -> int:
    size = len(message.get("content") or "")
    if message.get("tool_calls"):
        size += len(json.dumps(message["tool_calls"]))
    return size // 4 + 4


def answer_reserve(window: int) -> int:
    """Tokens kept free for the answer."""
    return min(window // 4, 2048)


class ContextWindows:
    def __init__(self) -> None:
        self._max: dict[tuple[str, str], int | None] = {}
        self._num_ctx: dict[tuple[str, str], int] = {}
        self._scale: dict[tuple[str, str], float] = {}  # real prompt tokens per estimated token
        self._left_out: dict[str, int] = {}  # session -> messages left out at its start

    async def window(self, backend: Backend, model: str, settings: Settings) -> int | None:
        """The context window in tokens for `model`, or None when neither backend nor settings say."""
        key = (backend.base_url, model)
        if key not in self._max:
            self._max[key] = await backend.context_length(model)
        user_num_ctx = settings.options.get("num_ctx")
        known = [
            n
            for n in (self._max[key], settings.context_length, user_num_ctx)
            if isinstance(n, int) and not isinstance(n, bool) and n > 0
        ]
        return min(known) if known else None

    def estimate(self, backend: Backend, model: str, messages: list[dict[str, Any]], tools: Any) -> int:
        """The prompt's size in tokens, as this model's backend would count it."""
        chars = sum(estimate_tokens(m) for m in messages) + (len(json.dumps(tools)) // 4 if tools else 0)
        return round(chars * self._scale.get((backend.base_url, model), 1.0))

    def learn(self, backend: Backend, model: str, estimated: int, counted: int) -> None:
        """The backend counted `counted` prompt tokens where Ryan estimated `estimated`."""
        if estimated > 0 and counted > 0:
            raw = estimated / self._scale.get((backend.base_url, model), 1.0)
            self._scale[(backend.base_url, model)] = min(max(counted / raw, 0.5), 3.0)

    def num_ctx(self, backend: Backend, model: str, needed: int, window: int | None) -> int:
        """The context size to ask Ollama for: the last one while it is enough, else the next power of
        two from 4096 that is, at most the window."""
        key = (backend.base_url, model)
        current = self._num_ctx.get(key)
        if current is None or needed > current:
            current = FIRST_NUM_CTX
            while current < needed:
                current *= 2
            if window:
                current = min(current, window)
            self._num_ctx[key] = current
        return current

    def fit(
        self,
        session_id: str,
        messages: list[dict[str, Any]],
        window: int,
        size: Any,  # Callable[[list[dict]], int]: the estimated size of a request with these messages
    ) -> tuple[list[dict[str, Any]], int]:
        """`messages` (system first) without the oldest turns, so that a request fits `window`;
        returns them and how many messages were newly left out (0: as before)."""
        budget = window - answer_reserve(window)
        system, rest = messages[0], messages[1:]
        starts = [i for i, m in enumerate(rest) if m["role"] == "user"]
        newest = starts[-1] if starts else 0
        left_out = min(self._left_out.get(session_id, 0), newest)
        left_out = next((s for s in starts if s >= left_out), newest)  # a turn goes whole
        kept = [system, *rest[left_out:]]
        if size(kept) <= budget:
            return kept, 0
        before = left_out
        for start in starts:
            if start <= left_out:
                continue
            left_out = start
            kept = [system, *rest[left_out:]]
            if size(kept) <= budget * TRIM_TO or start == newest:
                break
        if size(kept) > budget:
            raise ContextOverflow(
                f"The system prompt, the tool definitions and the newest message need about {size(kept)} "
                f"tokens, more than fit the model's context window of {window} tokens (with "
                f"{answer_reserve(window)} kept for the answer). Shorten the message or its attached "
                "context, raise the window (the model server's context size and the contextLength "
                "setting), or turn the tools off (tools.enabled)."
            )
        self._left_out[session_id] = left_out
        return kept, left_out - before
