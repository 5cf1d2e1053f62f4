"""LLM backends: Ollama's native NDJSON API and OpenAI-compatible SSE servers.

Each backend turns one chat turn into an async iterator of small `Delta` values (`base.py`) and
raises the typed failures of `errors.py`; neither knows anything about JSON-RPC or sessions.
"""

from __future__ import annotations

from .base import Backend, ChatRequest


def create_backend(provider: str, base_url: str, *, api_key: str | None, timeout: float) -> Backend:
    """The backend for `provider` ("ollama" or "openai")."""
    if provider == "openai":
        from .openai import OpenAIBackend

        return OpenAIBackend(base_url, api_key=api_key, timeout=timeout)
    from .ollama import OllamaBackend

    return OllamaBackend(base_url, api_key=api_key, timeout=timeout)


__all__ = ["Backend", "ChatRequest", "create_backend"]
