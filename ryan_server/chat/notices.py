"""The notices the engine sends in a chat that are more than a line: the step limit, the stand-in model."""

from __future__ import annotations

from ..settings import Settings


def max_steps_notice(steps: int) -> str:
    return (
        f"Stopped at the step limit: {steps} model turns went to tools without an answer. "
        "Ask again to let the model go on, or raise tools.maxSteps."
    )


def stand_in_notice(settings: Settings, model: str) -> str:
    return (
        f"Nothing answers at {settings.effective_base_url} (Ollama's default address), so Ryan's built-in "
        f"model answers: {model}, a tiny model (without tools) that is good for trying Ryan, not for real "
        "work. Start Ollama ('ollama serve', then 'ollama pull llama3.2') or set provider and baseUrl to use "
        "your own models."
    )
