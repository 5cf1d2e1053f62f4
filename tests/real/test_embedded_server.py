"""The built-in model server for real: llama.cpp (xllamacpp) in a child process, SmolLM2-135M, no mocks."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ryan_server.backends.embedded import EmbeddedServer, child_env
from ryan_server.errors import BackendError

pytestmark = [pytest.mark.real, pytest.mark.timeout(120)]

# llama.cpp's server closes the connection after each streamed response while announcing keep-alive,
# so a request on a reused connection can meet "Server disconnected without sending a response".
NO_REUSE = httpx.Limits(max_keepalive_connections=0)


def _gone(pid: int) -> bool:
    """True once `pid` has exited (a zombie that nobody reaps counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _wait_gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def _stream_chat(client: httpx.AsyncClient, url: str, model: str) -> tuple[str, dict[str, Any]]:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Name a colour."}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 12,
        "temperature": 0,
    }
    parts: list[str] = []
    usage: dict[str, Any] = {}
    async with client.stream("POST", url + "/chat/completions", json=body) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices") or []:
                parts.append(choice.get("delta", {}).get("content") or "")
            usage = chunk.get("usage") or usage
    return "".join(parts), usage


async def test_streams_a_chat_reports_n_ctx_and_stops(model_path: Path) -> None:
    server = EmbeddedServer()
    assert server.model_path == model_path
    assert server.model_name == "SmolLM2-135M-Instruct.Q4_1"
    url = await server.start()
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        assert server.running and server.pid is not None
        assert await server.start() == url  # starting again is a no-op
        pid = server.pid
        assert pid is not None
        headers = {"Authorization": f"Bearer {server.api_key}"}
        async with httpx.AsyncClient(headers=headers, timeout=60, limits=NO_REUSE) as client:
            text, usage = await _stream_chat(client, url, server.model_name)
            assert text.strip()
            assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0

            props = (await client.get(url.removesuffix("/v1") + "/props")).json()
            n_ctx = props.get("n_ctx") or props["default_generation_settings"]["n_ctx"]
            assert n_ctx == 4096  # ours, not the model's 8192

            models = (await client.get(url + "/models")).json()
            assert server.model_name in json.dumps(models)

            # Loopback is open to every local process and web page: no key, no answer.
            anonymous = await client.get(url + "/models", headers={"Authorization": ""})
            assert anonymous.status_code == 401
    finally:
        await server.stop()

    assert not server.running and server.base_url is None
    assert _wait_gone(pid), f"the child {pid} is still alive"
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(timeout=5) as client:
            await client.get(url.removesuffix("/v1") + "/health")
    await server.stop()  # stopping twice is harmless


async def test_missing_gguf_names_the_path(llama_cpp: None, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    server = EmbeddedServer(missing)
    with pytest.raises(BackendError) as caught:
        await server.start()
    assert str(missing) in caught.value.message
    assert not caught.value.retryable and not server.running and server.pid is None


async def test_a_failing_child_reports_its_last_log_lines(llama_cpp: None, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"this is not a GGUF file\n")
    server = EmbeddedServer(broken)
    with pytest.raises(BackendError) as caught:
        await server.start()
    message = caught.value.message
    assert str(broken) in message and "exited with code" in message
    assert "GGUF" in message  # llama.cpp's own words: "invalid magic characters ... expected 'GGUF'"
    assert caught.value.data["stderr"]
    assert not server.running


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
async def test_secrets_never_reach_the_child(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RYAN_API_KEY", "sk-parent-secret")
    monkeypatch.setenv("HF_TOKEN", "hf-parent-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-other")
    monkeypatch.setenv("SOME_HARMLESS_SETTING", "1")
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert not [name for name in child_env() if name.endswith(("_KEY", "_TOKEN", "_SETTING"))]
    async with EmbeddedServer(model_path) as server:
        assert server.pid is not None
        raw = Path(f"/proc/{server.pid}/environ").read_bytes()
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
    env = dict(item.split(b"=", 1) for item in raw.split(b"\0") if item)
    names = {name.decode() for name in env}
    assert "RYAN_API_KEY" not in names and "HF_TOKEN" not in names and "OPENAI_API_KEY" not in names
    assert "SOME_HARMLESS_SETTING" not in names
    assert env[b"LANG"] == b"C.UTF-8" and b"PATH" in env
    assert b"secret" not in raw and b"secret" not in cmdline
    assert server.api_key is not None and server.api_key.encode() not in cmdline + raw  # sent on stdin


_ORPHAN_PARENT = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from ryan_server.backends.embedded import EmbeddedServer

    async def main():
        server = EmbeddedServer()
        await server.start()
        print(server.pid, flush=True)
        if sys.argv[1] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no finally: only the stdin lifeline
        # "exit": leave without stop(); atexit must take the child along

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("how", ["kill", "exit"])
def test_the_child_dies_with_its_parent(model_path: Path, how: str) -> None:
    parent = subprocess.run(
        [sys.executable, "-c", _ORPHAN_PARENT, how],
        capture_output=True,
        timeout=90,
        env={**os.environ, "RYAN_API_KEY": "sk-parent-secret"},
    )
    expected = -signal.SIGKILL if how == "kill" else 0
    assert parent.returncode == expected, parent.stderr.decode()[-2000:]
    # The parent's stdout held only what it printed itself: the child wrote nothing there.
    out = parent.stdout.decode()
    assert out.strip().isdigit(), out
    assert _wait_gone(int(out)), f"the child {out.strip()} outlived its parent ({how})"


async def test_stop_while_starting_leaves_no_child(model_path: Path) -> None:
    server = EmbeddedServer(model_path)
    task = asyncio.create_task(server.start())
    while server.pid is None and not task.done():
        await asyncio.sleep(0.005)
    pid = server.pid
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pid is not None and _wait_gone(pid) and not server.running
