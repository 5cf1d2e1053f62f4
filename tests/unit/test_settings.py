"""Settings: camelCase keys, key-by-key validation, environment defaults, the key kept secret."""

from __future__ import annotations

import pytest

from ryan_server.settings import Settings, merge


def test_defaults_match_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    s = Settings()
    assert s.provider == "ollama" and s.effective_base_url == "http://127.0.0.1:11434"
    assert s.request_timeout == 60 and s.think is None and s.options == {}
    assert (
        s.streaming.enabled,
        s.streaming.update_interval_ms,
        s.streaming.fallback_on_error,
        s.streaming.retry_attempts,
        s.streaming.retry_delay_ms,
    ) == (True, 50, True, 3, 1000)
    assert s.tools.auto_approve == ["list_files", "read_file", "search_files"]
    assert (s.tools.enabled, s.tools.max_steps, s.tools.max_read_bytes) == (True, 20, 1_000_000)
    assert s.log_level == "info"


def test_bad_keys_are_reported_and_keep_their_value() -> None:
    s, errors = merge(
        Settings(),
        {"model": "llama3", "provider": "gpt", "streaming": {"retryAttempts": 1, "updateIntervalMs": "x"}},
    )
    assert s.model == "llama3" and s.provider == "ollama"
    assert s.streaming.retry_attempts == 1 and s.streaming.update_interval_ms == 50
    assert len(errors) == 2
    assert errors[0].startswith("ryan.provider:") and errors[1].startswith("ryan.streaming.updateIntervalMs:")


def test_last_valid_value_is_kept_not_the_default() -> None:
    s, _ = merge(Settings(), {"requestTimeout": 5})
    s, errors = merge(s, {"requestTimeout": -1})
    assert s.request_timeout == 5 and errors


def test_unknown_keys_and_wrong_shapes() -> None:
    _s, errors = merge(Settings(), {"modle": "x", "tools": "yes", "streaming": {"fast": True}})
    assert [e.split(":")[0] for e in errors] == ["ryan.modle", "ryan.tools", "ryan.streaming.fast"]
    _, errors = merge(Settings(), ["not", "an", "object"])
    assert errors and "object" in errors[0]


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:9999")
    monkeypatch.setenv("RYAN_API_KEY", "sk-from-env")
    monkeypatch.setenv("RYAN_HISTORY", "/tmp/h.db")
    s = Settings()
    assert s.effective_base_url == "http://127.0.0.1:9999"
    assert s.api_key_value == "sk-from-env" and "sk-from-env" not in repr(s)
    assert s.history_path == "/tmp/h.db"
    s, _ = merge(s, {"baseUrl": "http://gpu-box:11434/"})
    assert s.effective_base_url == "http://gpu-box:11434"
    _, errors = merge(s, {"baseUrl": "gpu-box"})
    assert "http://" in errors[0]


def test_secret_not_echoed_in_errors() -> None:
    _, errors = merge(Settings(), {"apiKey": 12345678})
    assert errors and "12345678" not in errors[0]


def test_null_resets_to_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RYAN_API_KEY", "sk-env")
    s, _ = merge(Settings(), {"model": "x", "apiKey": "sk-typed", "streaming": {"retryAttempts": 0}})
    s, errors = merge(s, {"model": None, "apiKey": None, "streaming": {"retryAttempts": None}})
    assert not errors
    assert s.model is None and s.api_key_value == "sk-env" and s.streaming.retry_attempts == 3
