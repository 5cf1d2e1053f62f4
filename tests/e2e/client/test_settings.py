"""The terminal client's settings (the user settings file, `--set`, the flags over both, the API key
never from a flag, a hint where settings live when a message names one) and the server's log (each
run marked, rotated, a dead server quoted with this run's lines only)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.client.conftest import Ryan
from tests.fakes.llm_server import HttpError, Reply, Text, ToolCall


def default_settings(ryan: Ryan) -> Path:
    path = ryan.home / ".config" / "ryan" / "settings.json"  # platformdirs on Linux, no XDG_CONFIG_HOME
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_the_settings_file_applies_and_the_flags_win(ryan: Ryan) -> None:
    default_settings(ryan).write_text(json.dumps({"model": "qwen2.5-coder:7b", "systemPrompt": "Be brief."}))
    ryan.llm.enqueue(Reply([Text("from qwen")]), Reply([Text("from llama")]))
    done = ryan.run("chat", "hi")
    assert done.returncode == 0, done.stderr
    request = ryan.llm.chat_requests[-1].json
    assert request["model"] == "qwen2.5-coder:7b"
    assert request["messages"][0] == {"role": "system", "content": "Be brief."}
    flagged = ryan.run("chat", "hi", "--model", "llama3.2:latest")
    assert flagged.returncode == 0, flagged.stderr
    assert ryan.llm.chat_requests[-1].json["model"] == "llama3.2:latest"


def test_ryan_config_names_another_file_and_set_goes_over_it(ryan: Ryan, tmp_path: Path) -> None:
    other = tmp_path / "mine.json"
    other.write_text(json.dumps({"tools": {"maxSteps": 5, "autoApprove": ["read_file"]}}))
    ryan.env["RYAN_CONFIG"] = str(other)
    (ryan.workspace / "a.txt").write_text("alpha\n")
    ryan.llm.enqueue(*[Reply([ToolCall("read_file", {"path": "a.txt"})]) for _ in range(3)])
    done = ryan.run("chat", "keep reading", "--set", "tools.maxSteps=2", "--set", "systemPrompt=plain text")
    assert done.returncode == 3, done.stderr  # the step limit: 2 from --set, over the file's 5
    assert len(ryan.llm.chat_requests) == 2
    assert ryan.llm.chat_requests[0].json["messages"][0]["content"].startswith("plain text")  # not JSON: text


def test_a_bad_settings_file_is_a_usage_error_naming_it(ryan: Ryan) -> None:
    path = default_settings(ryan)
    for text, says in (('{"model": ', "not valid JSON"), ('["model"]', "JSON object")):
        path.write_text(text)
        done = ryan.run("chat", "hi")
        assert done.returncode == 2, done.stderr
        assert str(path) in done.stderr and says in done.stderr, done.stderr
    assert ryan.llm.chat_requests == []


def test_set_must_be_key_value_and_never_the_api_key(ryan: Ryan) -> None:
    bad = ryan.run("chat", "hi", "--set", "maxSteps")
    assert bad.returncode == 2 and "key=value" in bad.stderr, bad.stderr
    secret = ryan.run("chat", "hi", "--set", "apiKey=sk-visible-to-ps")
    assert secret.returncode == 2, secret.stderr
    assert "RYAN_API_KEY" in secret.stderr and "sk-visible-to-ps" not in secret.stderr
    assert ryan.llm.chat_requests == []


def test_the_api_key_comes_from_the_file(ryan: Ryan) -> None:
    default_settings(ryan).write_text(json.dumps({"apiKey": "sk-from-the-file"}))
    ryan.llm.enqueue(Reply([Text("ok")]))
    done = ryan.run("chat", "hi")
    assert done.returncode == 0, done.stderr
    assert ryan.llm.chat_requests[-1].headers.get("authorization") == "Bearer sk-from-the-file"


def test_a_message_naming_a_setting_says_where_the_terminal_keeps_it(ryan: Ryan) -> None:
    ryan.llm.enqueue(HttpError(401, "unauthorized", times=2))
    done = ryan.run("chat", "hi")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    said = next(i for i, line in enumerate(lines) if "apiKey setting" in line)
    assert lines[said + 1].startswith("ryan: hint: ") and "RYAN_API_KEY" in lines[said + 1], lines
    assert str(ryan.home / ".config/ryan/settings.json") in lines[said + 1]
    assert sum("hint" in line for line in lines) == 1


def test_setting_hints() -> None:
    from ryan_server.client.config import setting_hint

    timeout = setting_hint("No data for 60 s … try again, or raise requestTimeout.")
    assert timeout and "settings.json" in timeout and "--set requestTimeout=" in timeout
    steps = setting_hint("Ask again to let the model go on, or raise tools.maxSteps.")
    assert steps and "--set tools.maxSteps=" in steps
    assert setting_hint("Cannot connect to Ollama: is the model loaded?") is None


def test_help_tells_where_settings_live(ryan: Ryan) -> None:
    helped = ryan.run("--help", base_url="")
    text = " ".join(helped.stdout.split())
    assert "--set KEY=VALUE" in text and "--mcp-config FILE" in text
    assert "RYAN_CONFIG" in text and "settings.json" in text and "RYAN_API_KEY" in text


# ----- the server's log ---------------------------------------------------------------------------


def server_log(ryan: Ryan) -> Path:
    path = ryan.home / ".local/state/ryan/log/server.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


DIES = "sh -c 'echo this run fell over >&2; exit 3'"


def test_a_server_dying_at_start_is_quoted_with_this_runs_lines_only(ryan: Ryan) -> None:
    log = server_log(ryan)
    log.write_text("Traceback from an earlier run\nValueError: old news\n")
    done = ryan.run("chat", "hi", "--server-cmd", DIES)
    assert done.returncode == 1
    assert "this run fell over" in done.stderr, done.stderr
    assert "old news" not in done.stderr and "earlier run" not in done.stderr, done.stderr
    text = log.read_text()
    assert text.startswith("Traceback from an earlier run\n")  # appended to, earlier runs kept
    marks = [line for line in text.splitlines() if line.startswith("=== ryan-server run ")]
    assert len(marks) == 1 and "sh -c" in marks[0], text
    assert text.index(marks[0]) < text.index("this run fell over")


def test_the_log_is_rotated_when_it_grows_past_a_megabyte(ryan: Ryan) -> None:
    log = server_log(ryan)
    log.write_text("x" * 1_100_000 + "\n")
    done = ryan.run("chat", "hi", "--server-cmd", DIES)
    assert done.returncode == 1
    assert log.with_name("server.log.1").stat().st_size > 1_000_000
    assert log.stat().st_size < 1000 and "this run fell over" in log.read_text()
