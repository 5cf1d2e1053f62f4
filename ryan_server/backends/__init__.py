"""LLM backends: Ollama's native NDJSON API, OpenAI-compatible SSE servers, and the built-in model.

Each backend turns one chat turn into an async iterator of small `Delta` values (`base.py`) and
raises the typed failures of `errors.py`; neither knows anything about JSON-RPC or sessions.
"""

from __future__ import annotations

from .base import Backend, ChatRequest


def create_backend(
    provider: str,
    base_url: str,
    *,
    api_key: str | None,
    timeout: float,
    model_path: str | None = None,
    context_length: int | None = None,
) -> Backend:
    """The backend for `provider` ("ollama", "openai" or "embedded": the built-in model, or the GGUF at
    `model_path`, served by llama.cpp with a context of `context_length` tokens)."""
    if provider == "embedded":
        from .builtin import BuiltinBackend

        return BuiltinBackend(model_path, n_ctx=context_length or 4096, timeout=timeout)
    if provider == "openai":
        from .openai import OpenAIBackend

        return OpenAIBackend(base_url, api_key=api_key, timeout=timeout)
    from .ollama import OllamaBackend

    return OllamaBackend(base_url, api_key=api_key, timeout=timeout)


__all__ = ["Backend", "ChatRequest", "create_backend"]
