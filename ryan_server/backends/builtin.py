"""The built-in model as a backend: llama.cpp's server (embedded.py) started on first use, then reached
as any OpenAI-compatible server. `prepare()` starts it (every request does, when it is not `ready`); the
engine calls it first, showing that the model loads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from .base import ChatRequest, Delta, ModelInfo
from .embedded import (
    MODEL_INSTALL,
    XLLAMACPP_INSTALL,
    EmbeddedServer,
    default_model_path,
    xllamacpp_installed,
)
from .openai import OpenAIBackend


def builtin_available(model_path: str | None = None) -> bool:
    """Whether the built-in model can run here: llama.cpp installed, and a GGUF to serve."""
    if not xllamacpp_installed():
        return False
    return Path(model_path).expanduser().is_file() if model_path else default_model_path() is not None


DEFAULT_MAX_TOKENS = 512  # unless `options` say otherwise


class BuiltinBackend(OpenAIBackend):
    label = "the built-in model"
    hint = f"Install it with '{XLLAMACPP_INSTALL}' and '{MODEL_INSTALL}', or set modelPath to a GGUF file."

    def __init__(self, model_path: str | None, *, n_ctx: int, timeout: float) -> None:
        self.server = EmbeddedServer(model_path, n_ctx=n_ctx)
        super().__init__(f"builtin://{self.server.model_name}", api_key=None, timeout=timeout)

    @property
    def model_name(self) -> str:
        return self.server.model_name

    @property
    def ready(self) -> bool:
        return self.server.running

    async def prepare(self) -> None:
        if not self.server.running:
            self.base_url = (await self.server.start()).rstrip("/")
            self.client.headers["Authorization"] = f"Bearer {self.server.api_key}"

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body = super()._body(request, stream=stream)
        if not {"max_tokens", "n_predict", "max_completion_tokens"} & request.options.keys():
            body["max_tokens"] = DEFAULT_MAX_TOKENS  # a tiny model may ramble until its context is full
        return body

    async def list_models(self) -> list[ModelInfo]:
        await self.prepare()
        return await super().list_models()

    async def context_length(self, model: str) -> int | None:
        await self.prepare()
        return await super().context_length(model)

    async def supports_tools(self, model: str) -> bool | None:
        await self.prepare()
        return await super().supports_tools(model)

    async def stream(self, request: ChatRequest) -> AsyncIterator[list[Delta]]:
        await self.prepare()
        async for batch in super().stream(request):
            yield batch

    async def complete(self, request: ChatRequest) -> list[Delta]:
        await self.prepare()
        return await super().complete(request)

    async def aclose(self) -> None:
        await self.server.stop()
        await super().aclose()
