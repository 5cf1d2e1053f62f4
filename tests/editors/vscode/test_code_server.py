"""End to end in a real VS Code: code-server 4.139 (the real workbench and extension host) in headless
Chromium, with the packaged .vsix installed, the real `ryan-server` over stdio and the scripted FakeLLM.

Needs scripts/setup-vscode.sh (Node 24 and code-server in .tools/) and a packaged
editors/vscode/ryan-<version>.vsix (editors/vscode/scripts/test.sh builds both); skipped otherwise.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vscode_harness import ARTIFACTS, EXT, ROOT

from tests.fakes.llm_server import FakeLLM, HttpError, Reply, Text, Think, ToolCall, pieces

TOOLS = ROOT / ".tools"
NODE24 = TOOLS / "node24" / "node_modules" / "node" / "bin" / "node"
CODE_SERVER = TOOLS / "code-server" / "node_modules" / "code-server"
VERSION = json.loads((EXT / "package.json").read_text())["version"]
VSIX = EXT / f"ryan-{VERSION}.vsix"


def ryan_server_command() -> list[str]:
    """The repository's own server: `<repo>/.venv/bin/ryan-server`, else this Python's."""
    for candidate in (ROOT / ".venv" / "bin" / "ryan-server", Path(sys.executable).parent / "ryan-server"):
        if candidate.exists():
            return [str(candidate)]
    return [sys.executable, "-m", "ryan_server"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def code_server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{NODE24.parent}:{env.get('PATH', '')}"
    for var in ("VSCODE_IPC_HOOK_CLI", "ELECTRON_RUN_AS_NODE", "NODE_OPTIONS"):
        env.pop(var, None)
    return env


pytestmark = pytest.mark.skipif(
    not (NODE24.exists() and (CODE_SERVER / "out" / "node" / "entry.js").exists()),
    reason="code-server is not installed: run scripts/setup-vscode.sh",
)


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(models=["qwen3:4b", "llama3.2:3b"]) as fake:
        yield fake


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory, llm: FakeLLM) -> Iterator[dict[str, Any]]:
    with run_code_server(tmp_path_factory.mktemp("code-server"), llm) as server:
        yield server


@contextlib.contextmanager
def run_code_server(
    base: Path,
    llm: FakeLLM,
    *,
    user_settings: dict[str, Any] | None = None,
    workspace_settings: dict[str, Any] | None = None,
    log_name: str = "code-server.log",
) -> Iterator[dict[str, Any]]:
    """code-server with the packaged extension installed, the real server and `llm` as its backend;
    `user_settings` are added to the User settings, `workspace_settings` go to the workspace's
    .vscode/settings.json."""
    if not VSIX.exists():
        subprocess.run(["npm", "run", "-s", "package"], cwd=EXT, check=True)
    user_data, extensions, workspace = base / "user-data", base / "extensions", base / "workspace"
    for d in (user_data / "User", user_data / "Machine", extensions, workspace / "src"):
        d.mkdir(parents=True)
    (workspace / "src" / "app.py").write_text("def add(a, b):\n    return a - b\n")
    settings = {
        "security.workspace.trust.enabled": False,
        "workbench.startupEditor": "none",
        "chat.disableAIFeatures": True,
        "workbench.tips.enabled": False,
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "telemetry.telemetryLevel": "off",
        "ryan.server.command": ryan_server_command(),
        "ryan.baseUrl": llm.url,
        "ryan.historyPath": str(base / "history.sqlite3"),
        "ryan.requestTimeout": 10,
        "ryan.streaming.updateIntervalMs": 20,
        "ryan.streaming.retryAttempts": 0,
        "ryan.streaming.fallbackOnError": False,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        **(user_settings or {}),
    }
    if workspace_settings is not None:
        (workspace / ".vscode").mkdir()
        (workspace / ".vscode" / "settings.json").write_text(json.dumps(workspace_settings, indent=2))
    # The extension host is "remote" in code-server: machine-scoped settings (ryan.server.*) are read
    # from the Machine settings (which override the User settings, so only those go there).
    (user_data / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
    machine = {k: v for k, v in settings.items() if k.startswith("ryan.server.")}
    (user_data / "Machine" / "settings.json").write_text(json.dumps(machine, indent=2))
    entry = str(CODE_SERVER / "out" / "node" / "entry.js")
    env = code_server_env()
    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    subprocess.run(
        [str(NODE24), entry, *common, "--install-extension", str(VSIX)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = (ARTIFACTS / log_name).open("w")
    proc = subprocess.Popen(
        [
            str(NODE24),
            entry,
            "--auth",
            "none",
            "--bind-addr",
            f"127.0.0.1:{port}",
            "--disable-telemetry",
            "--disable-update-check",
            *common,
            str(workspace),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"code-server did not start; see {ARTIFACTS / log_name}"
                    ) from None
                time.sleep(0.3)
        yield {"url": url, "workspace": workspace, "user_data": user_data, "pid": proc.pid}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(5)
        log.close()


def ryan_servers(root: int) -> set[int]:
    """PIDs of the ryan-server processes started under the code-server process `root`."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()

    def under(pid: int) -> bool:
        while pid > 1:
            if pid == root:
                return True
            pid = parents.get(pid, 0)
        return False

    return {pid for pid, cmd in commands.items() if "ryan-server" in cmd and "--stdio" in cmd and under(pid)}


def panel_frame(page: Any, timeout: float = 30.0) -> Any:
    """The frame inside the webview's nested iframes that holds the Ryan panel."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in page.frames:
            with contextlib.suppress(Exception):
                if frame.query_selector("textarea.input"):
                    return frame
        time.sleep(0.25)
    raise AssertionError("the Ryan panel's webview did not appear")


def run_command(page: Any, title: str, timeout: float = 60.0) -> None:
    """F1, type the title, run the entry (retrying while the workbench is still loading contributions)."""
    row = (
        f".quick-input-list .monaco-list-row[aria-label='{title}'],"
        f" .quick-input-list .monaco-list-row[aria-label^='{title},']"
    )
    deadline = time.monotonic() + timeout
    while True:
        page.keyboard.press("F1")
        page.wait_for_selector(".quick-input-widget input", state="visible")
        page.keyboard.type(title)
        try:
            page.wait_for_selector(row, timeout=5_000)
            page.click(row)
            return
        except Exception:
            page.keyboard.press("Escape")
            if time.monotonic() > deadline:
                page.screenshot(path=str(ARTIFACTS / "code-server-command-missing.png"))
                raise


def wait_until(frame: Any, script: str, timeout: float = 15.0) -> None:
    """Polls `script` (a function) in the frame: the panel's CSP forbids eval, so no wait_for_function."""
    deadline = time.monotonic() + timeout
    while not frame.evaluate(script):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {script}")
        time.sleep(0.1)


def ask(frame: Any, text: str) -> None:
    frame.fill("textarea.input", text)
    frame.press("textarea.input", "Enter")


def open_workbench(page: Any, code_server: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{code_server['url']}/?folder={code_server['workspace']}")
    page.wait_for_selector(".monaco-workbench", timeout=60_000)


def open_panel(page: Any, command: str = "Ryan: Ask") -> Any:
    """Runs `command`, which reveals the Ryan view; returns the panel's frame once the server is up."""
    run_command(page, command)
    frame = panel_frame(page)
    frame.wait_for_selector(".server-dot.running", timeout=30_000)
    wait_until(frame, "() => document.querySelectorAll('select.model-select option').length >= 2")
    return frame


def test_chat_stop_and_error_in_code_server(code_server: dict[str, Any], llm: FakeLLM, page: Any) -> None:
    open_workbench(page, code_server)
    # Open the Ryan view from its command; the webview loads the panel and the server starts.
    frame = open_panel(page)

    # 1. A streamed answer. The backend counts 1,200 prompt and 59 answer tokens; the model's window is
    #    what the fake's /api/show reports.
    llm.context_length = 8192
    llm.enqueue(
        Reply(
            [Text("Hel"), Text("lo! Here is "), Text("**bold** and:\n\n```python\nprint('hi')\n```\n")],
            delay=0.05,
            usage=(1200, 59),
        )
    )
    ask(frame, "Say hello")
    frame.wait_for_selector(".msg.assistant.done", timeout=20_000)
    assistant = frame.inner_text(".msg.assistant.done .md")
    assert "Hello! Here is bold and:" in assistant
    assert "print('hi')" in assistant
    assert frame.inner_text(".msg.assistant.done strong") == "bold"
    status = frame.inner_text(".msg.assistant.done .msg-status")
    assert "qwen3:4b" in status
    # The share of the context window the request and its answer took, rounded as the server's
    # own clients round it (half up): 1,259 of 8,192 tokens.
    percent = math.floor(100 * (1200 + 59) / llm.context_length + 0.5)
    assert status.endswith(f" · context {percent}%"), status
    assert frame.get_attribute(".msg.assistant.done .context-meter", "title") == (
        "1,259 of 8,192 tokens of the model's context window: the last request and its answer"
    )
    sent = llm.chat_requests[-1].json
    assert sent["messages"][-1]["content"].endswith("Say hello") or "Say hello" in json.dumps(
        sent["messages"]
    )
    page.screenshot(path=str(ARTIFACTS / "code-server-answer.png"))
    frame.locator(".msg.assistant.done").screenshot(path=str(ARTIFACTS / "code-server-panel-answer.png"))

    # 2. Stop a long answer: the request is cancelled and the backend sees the connection close.
    llm.enqueue(Reply([Text(f"word{i} ") for i in range(2000)], delay=0.02))
    ask(frame, "Tell me a very long story")
    frame.wait_for_selector("button.send.stop", timeout=10_000)
    wait_until(frame, "() => document.querySelectorAll('.msg.assistant')[1]?.innerText.includes('word5')")
    frame.click("button.send.stop")
    assert llm.wait_disconnect(10), "the backend never saw the stream closed"
    frame.wait_for_selector(".msg.assistant.cancelled", timeout=10_000)
    assert frame.inner_text(".msg.assistant.cancelled .msg-status") == "Stopped."
    assert "word1999" not in frame.inner_text(".msg.assistant.cancelled")
    frame.wait_for_selector("button.send:not(.stop)", timeout=10_000)

    # 3. A backend error is a banner with the server's message.
    llm.enqueue(HttpError(500, {"error": "model crashed"}))
    ask(frame, "This one fails")
    banner = frame.wait_for_selector(".banner.error", timeout=20_000)
    text = banner.inner_text()
    assert "500" in text or "model crashed" in text, text
    page.screenshot(path=str(ARTIFACTS / "code-server-error.png"))
    frame.locator("#app").screenshot(path=str(ARTIFACTS / "code-server-panel.png"))

    # 4. A settings change reaches the running server (workspace/didChangeConfiguration): with the
    #    backend's address pointing nowhere, the banner says what to do.
    #    (code-server watches the Machine settings file for outside edits, not the User one.)
    machine_settings = code_server["user_data"] / "Machine" / "settings.json"
    saved = machine_settings.read_text()
    dead = f"http://127.0.0.1:{free_port()}"
    machine_settings.write_text(json.dumps({**json.loads(saved), "ryan.baseUrl": dead}, indent=2))
    try:
        frame.click(".banner-close")
        text = ""
        deadline = time.monotonic() + 30
        while dead not in text and time.monotonic() < deadline:
            # The settings file is watched: until the change arrives, the fake still answers.
            asked = frame.locator(".msg.assistant").count()
            ask(frame, "Are you there?")
            wait_until(
                frame,
                f"() => document.querySelectorAll('.msg.assistant').length > {asked} &&"
                " !document.querySelector('.msg.assistant.streaming')",
                timeout=20,
            )
            banner = frame.query_selector(".banner.error")
            text = banner.inner_text() if banner else ""
            if not banner:
                time.sleep(0.5)
        assert f"Cannot connect to Ollama at {dead}" in text, text
        assert "ollama serve" in text
        page.screenshot(path=str(ARTIFACTS / "code-server-unreachable.png"))
    finally:
        machine_settings.write_text(saved)

    # 5. Restart Server: a new server process, and the panel goes on working.
    frame.click(".banner-close")
    before = ryan_servers(code_server["pid"])
    assert len(before) == 1, before
    run_command(page, "Ryan: Restart Server")
    deadline = time.monotonic() + 30
    after = before
    while (after & before or not after) and time.monotonic() < deadline:
        time.sleep(0.2)
        after = ryan_servers(code_server["pid"])
    assert len(after) == 1 and not (after & before), (before, after)  # the old one has exited
    asked = frame.locator(".msg.assistant.done").count()
    ask(frame, "Still there after the restart?")
    wait_until(frame, f"() => document.querySelectorAll('.msg.assistant.done').length > {asked}", timeout=30)
    assert "Hello from the fake." in frame.locator(".msg.assistant.done .md").last.inner_text()


def answer_approval(page: Any, frame: Any, text: str, action: str, screenshot: str | None = None) -> Any:
    """Waits for the approval card naming `text` in the panel's running turn (the panel is visible, so
    no notification shows), clicks `action` and returns the card, now answered."""
    pending = frame.locator(".msg.assistant .approval-card.pending", has_text=text).first
    pending.wait_for(timeout=30_000)
    card = frame.locator(f".approval-card[data-approval-id='{pending.get_attribute('data-approval-id')}']")
    assert page.locator(".notifications-toasts .notification-toast", has_text=text).count() == 0
    if screenshot:
        page.locator(".part.sidebar").screenshot(path=str(ARTIFACTS / screenshot))
    card.get_by_role("button", name=action, exact=True).click()
    wait_until(frame, "() => !document.querySelector('.approval-card.pending')", timeout=10)
    assert card.locator(".approval-outcome").inner_text() == f"Answered: {action}"
    return card


def test_selection_tools_and_approval_in_code_server(
    code_server: dict[str, Any], llm: FakeLLM, page: Any
) -> None:
    """Ask About Selection sends the selected text; tool calls show as cards; a write asks through an
    approval card in the panel, with its diff, and lands in the editor's buffer."""
    llm.reset()
    open_workbench(page, code_server)
    page.keyboard.press("Control+P")
    page.wait_for_selector(".quick-input-widget input", state="visible")
    page.keyboard.type("app.py")
    page.wait_for_selector(".quick-input-list .monaco-list-row", timeout=10_000)
    page.keyboard.press("Enter")
    page.wait_for_selector(".monaco-editor .view-lines:has-text('return a - b')", timeout=15_000)
    page.click(".monaco-editor .view-lines")
    page.keyboard.press("Control+A")

    frame = open_panel(page, "Ryan: Ask About Selection")
    frame.wait_for_selector(".chips .chip:has-text('src/app.py:1-')", timeout=10_000)

    llm.enqueue(
        Reply(
            [
                Think("The subtraction looks wrong. "),
                Text("Let me look at the file. "),
                ToolCall("read_file", {"path": "src/app.py"}),
            ]
        ),
        Reply([ToolCall("edit_file", {"path": "src/app.py", "oldText": "a - b", "newText": "a + b"})]),
        Reply(
            [
                Text(
                    "Fixed: `add` now **adds**.\n\n```python\ndef add(a, b):\n    return a + b\n```\n\n"
                    "- `read_file` showed the bug\n- `edit_file` changed line 2\n"
                )
            ],
            delay=0.02,
        ),
    )
    ask(frame, "Fix the bug in this function")

    # The edit asks first, in the panel (it is visible): the question, the diff, the buttons.
    approval = answer_approval(page, frame, "src/app.py", "Allow", "code-server-approval.png")
    diff = approval.locator(".approval-diff")
    assert diff.locator(".diff-del").all_text_contents() == ["-    return a - b\n"]
    assert diff.locator(".diff-add").all_text_contents() == ["+    return a + b\n"]
    assert diff.locator(".diff-hunk").count() == 1

    frame.wait_for_selector(".msg.assistant.done", timeout=20_000)
    request = json.dumps(llm.chat_requests[0].json["messages"])
    assert "return a - b" in request and "Fix the bug in this function" in request
    cards = frame.locator(".tool-card")
    assert cards.count() == 2
    assert [cards.nth(i).locator(".tool-name").inner_text() for i in range(2)] == ["read_file", "edit_file"]
    assert [cards.nth(i).locator(".tool-status").inner_text() for i in range(2)] == ["done", "done"]
    assert cards.nth(0).locator(".tool-path").inner_text() == "src/app.py"
    assert "return a - b" in cards.nth(0).locator(".tool-output").text_content()
    assert frame.locator(".thinking").count() == 1
    assert "Fixed: add now adds." in frame.locator(".msg.assistant.done .md").last.inner_text()
    # applyEdit: the change is in the editor's buffer (undoable), not written behind its back.
    page.wait_for_selector(".monaco-editor .view-lines:has-text('return a + b')", timeout=10_000)

    page.screenshot(path=str(ARTIFACTS / "code-server-tools.png"))
    page.locator(".part.sidebar").screenshot(path=str(ARTIFACTS / "code-server-panel-tools.png"))

    # Insert at cursor: the code block goes into the editor at its cursor.
    page.click(".monaco-editor .view-lines")
    page.keyboard.press("Control+End")
    frame.click(".code-block [data-action=insert]")
    page.wait_for_function(
        "document.querySelector('.monaco-editor .view-lines').innerText.split('def').length - 1 === 2",
        timeout=10_000,
    )

    # The session is restored when the window is reloaded (a new extension host, a new webview).
    page.reload()
    page.wait_for_selector(".monaco-workbench", timeout=60_000)
    frame = panel_frame(page)
    frame.wait_for_selector(".msg.user:has-text('Fix the bug in this function')", timeout=30_000)
    restored = frame.locator(".tool-card")
    assert restored.count() == 2
    assert restored.locator(".tool-status").all_inner_texts() == ["done", "done"]
    assert "return a - b" in restored.nth(0).locator(".tool-output").text_content()
    assert "Fixed: add now adds." in frame.locator(".msg.assistant .md").last.inner_text()
    page.screenshot(path=str(ARTIFACTS / "code-server-restored.png"))

    # ... and is listed under History.
    frame.click("text=History")
    frame.wait_for_selector(".session-item", timeout=10_000)
    titles = frame.locator(".session-item .session-title").all_inner_texts()
    assert any("Fix the bug" in t for t in titles), titles


def ask_until(frame: Any, llm: FakeLLM, model: str, timeout: float = 30.0) -> None:
    """Asks until the backend is asked with `model`: a settings file edit reaches the extension when
    code-server's file watcher notices it, so the first answers may still use the old value."""
    deadline = time.monotonic() + timeout
    while True:
        done = frame.locator(".msg.assistant.done").count()
        ask(frame, f"Which model is this? ({done})")
        wait_until(
            frame, f"() => document.querySelectorAll('.msg.assistant.done').length > {done}", timeout=20
        )
        if llm.chat_requests and llm.chat_requests[-1].json.get("model") == model:
            return
        if time.monotonic() > deadline:
            sent = [r.json.get("model") for r in llm.chat_requests]
            raise AssertionError(f"the backend was never asked with {model}: {sent}")
        time.sleep(0.5)


def test_cleared_setting_resets_on_the_running_server(
    code_server: dict[str, Any], llm: FakeLLM, page: Any
) -> None:
    """A setting cleared in the editor goes to the server as `null` (reset to its default) in
    workspace/didChangeConfiguration: the same server process goes on, with the default."""
    llm.reset()
    open_workbench(page, code_server)
    frame = open_panel(page)
    # (An earlier window's extension host may still be ending, with its server: compare sets.)
    servers = ryan_servers(code_server["pid"])
    machine_settings = code_server["user_data"] / "Machine" / "settings.json"
    saved = machine_settings.read_text()
    try:
        machine_settings.write_text(json.dumps({**json.loads(saved), "ryan.model": "llama3.2:3b"}, indent=2))
        ask_until(frame, llm, "llama3.2:3b")
        # Cleared: the server is sent `"model": null` and uses its default, the backend's first model.
        machine_settings.write_text(saved)
        ask_until(frame, llm, "qwen3:4b")
    finally:
        machine_settings.write_text(saved)
    started = ryan_servers(code_server["pid"]) - servers
    assert not started, f"the server was restarted: {started}"


def test_warns_when_the_server_speaks_another_protocol_version(
    code_server: dict[str, Any], page: Any
) -> None:
    """A server whose `initialize` result has another protocolVersion: a warning names both versions
    and says to update the extension and the server together. Changing ryan.server.command restarts."""
    open_workbench(page, code_server)
    frame = open_panel(page)
    servers = ryan_servers(code_server["pid"])
    machine_settings = code_server["user_data"] / "Machine" / "settings.json"
    saved = machine_settings.read_text()
    other = [sys.executable, str(Path(__file__).with_name("other_version_server.py"))]
    try:
        machine_settings.write_text(json.dumps({**json.loads(saved), "ryan.server.command": other}, indent=2))
        toast = page.locator(".notifications-toasts .notification-toast", has_text="protocol version 2")
        toast.first.wait_for(timeout=30_000)
        text = toast.first.inner_text()
        assert "the server speaks protocol version 2, this extension version 1 (ryan-server 9.0.0)" in text, text
        assert "update the Ryan extension and ryan-server together" in text, text
        page.screenshot(path=str(ARTIFACTS / "code-server-protocol-warning.png"))
    finally:
        machine_settings.write_text(saved)
    # Back to a real server: restarted again.
    deadline = time.monotonic() + 30
    while not ryan_servers(code_server["pid"]) - servers and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ryan_servers(code_server["pid"]) - servers, "no new ryan-server after the command was restored"
    frame.wait_for_selector(".server-dot.running", timeout=30_000)


def hermes(name: str, arguments: dict[str, Any]) -> str:
    """A tool call written as text, as Hermes/Qwen-style models write it."""
    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


def test_tools_in_the_prompt_for_a_model_without_tool_support(
    code_server: dict[str, Any], llm: FakeLLM, page: Any
) -> None:
    """`ryan.tools.mode` is `auto` (the default): Ollama reports no tool support for the model, so the
    server describes the tools in the prompt and reads the calls from the answer text. In the panel the
    calls are ordinary tool cards (the edit asks first and lands in the editor), a notice says why, and
    nothing of the `<tool_call>` text is shown."""
    llm.reset()
    model = "qwen3:4b"  # the default model: a picked one would outlive the test (the workspace remembers it)
    llm.no_tools.add(model)
    notes = code_server["workspace"] / "notes.txt"
    notes.write_text("buy milk\nbuy eggs\n")
    try:
        open_workbench(page, code_server)
        page.keyboard.press("Control+P")
        page.wait_for_selector(".quick-input-widget input", state="visible")
        page.keyboard.type("notes.txt")
        page.wait_for_selector(".quick-input-list .monaco-list-row", timeout=10_000)
        page.keyboard.press("Enter")
        page.wait_for_selector(".monaco-editor .view-lines:has-text('buy eggs')", timeout=15_000)

        frame = open_panel(page)
        frame.click("button.icon-button:has-text('New')")  # a fresh session: the notice is once per session
        wait_until(frame, "() => !document.querySelector('.msg')")

        read = hermes("read_file", {"path": "notes.txt"})
        edit = hermes("edit_file", {"path": "notes.txt", "oldText": "buy eggs", "newText": "buy bread"})
        llm.enqueue(
            Reply(pieces("Let me read your notes.\n" + read), delay=0.005),
            Reply(pieces(edit), delay=0.005),
            Reply(pieces("Done: your notes now say **buy bread** instead of eggs."), delay=0.005),
        )
        ask(frame, "Replace eggs with bread in my notes")

        # The edit asks first, in the panel's approval card, as a native call does.
        approval = answer_approval(page, frame, "notes.txt", "Allow", "code-server-prompt-tools-approval.png")
        assert "edit_file" in approval.locator(".approval-question").inner_text()

        frame.wait_for_selector(".msg.assistant.done", timeout=20_000)
        turn = frame.locator(".msg.assistant.done").last

        # What the model was sent: no `tools` field (Ollama would refuse it), the tools in the system
        # prompt, and the file's text back as a tool response.
        sent = [r.json for r in llm.chat_requests]
        assert len(sent) == 3, [r.get("messages", [])[-1:] for r in sent]
        assert all(r["model"] == model and not r.get("tools") for r in sent)
        assert all("<tools>" in r["messages"][0]["content"] for r in sent)
        assert "buy eggs" in json.dumps(sent[1]["messages"][1:])

        # What the user sees: why the tools work differently, the two cards, the answer.
        notices = turn.locator(".notice").all_inner_texts()
        assert len(notices) == 1 and f"Tools are described in the prompt for {model}" in notices[0], notices
        cards = turn.locator(".tool-card")
        assert cards.locator(".tool-name").all_inner_texts() == ["read_file", "edit_file"]
        assert cards.locator(".tool-status").all_inner_texts() == ["done", "done"]
        assert cards.locator(".tool-path").all_inner_texts() == ["notes.txt", "notes.txt"]
        assert "buy eggs" in cards.nth(0).locator(".tool-output").text_content()
        parts = turn.locator(".msg-body > *").evaluate_all("els => els.map(e => e.className)")
        assert parts == [
            "notice", "md", "tool-card status-ok", "tool-card status-ok", "approval-card answered", "md"
        ], parts
        texts = turn.locator(".md").all_inner_texts()
        assert texts[0].strip() == "Let me read your notes."
        assert texts[-1].strip() == "Done: your notes now say buy bread instead of eggs."
        assert "qwen3:4b" in turn.locator(".msg-status").inner_text()

        # Nothing of the calls' text anywhere in the panel, as text or as markup.
        dom = frame.evaluate("() => [document.body.textContent, document.documentElement.outerHTML]")
        for where in dom:
            for marker in ("tool_call", "</tool", "tool_response", '"arguments"'):
                assert marker not in where, (marker, where[:2000])

        # The edit went through the editor (applyEdit): in its buffer, then on disk once saved.
        page.wait_for_selector(".monaco-editor .view-lines:has-text('buy bread')", timeout=10_000)
        assert "buy eggs" not in page.inner_text(".monaco-editor .view-lines")
        page.screenshot(path=str(ARTIFACTS / "code-server-prompt-tools.png"))
        page.locator(".part.sidebar").screenshot(path=str(ARTIFACTS / "code-server-panel-prompt-tools.png"))
        page.click(".monaco-editor .view-lines")
        page.keyboard.press("Control+S")
        deadline = time.monotonic() + 10
        while notes.read_text() != "buy milk\nbuy bread\n" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert notes.read_text() == "buy milk\nbuy bread\n"
    finally:
        llm.no_tools.discard(model)


MCP_SERVER = ROOT / "tests" / "mcp_servers" / "stdio_server.py"


def test_mcp_servers_tools_and_deleting_a_session(
    tmp_path_factory: pytest.TempPathFactory, llm: FakeLLM, page: Any
) -> None:
    """`ryan.mcpServers` from the user's settings reaches the server: the panel has a line for the
    server (ready, with its tools), the model's call to `mcp__demo__add` asks first and shows as a card
    "demo › add". A workspace's .vscode/settings.json cannot add a server (nothing is started). The
    session picker deletes a session after a confirmation (Cancel keeps it)."""
    llm.reset()
    base = tmp_path_factory.mktemp("code-server-mcp")
    marker = base / "workspace-server-started"
    demo = {"command": sys.executable, "args": [str(MCP_SERVER), "--name", "demo"], "timeout": 20}
    evil = {"command": sys.executable, "args": ["-c", f"open({str(marker)!r}, 'w').write('started')"]}
    with run_code_server(
        base,
        llm,
        user_settings={"ryan.mcpServers": {"demo": demo}, "ryan.tools.maxTools": 64},
        workspace_settings={"ryan.mcpServers": {"evil": evil}},
        log_name="code-server-mcp.log",
    ) as server:
        open_workbench(page, server)
        frame = open_panel(page)

        # A line per server, from ryan/status: the user's server only.
        frame.wait_for_selector(".mcp-server.state-ready[data-name='demo']", timeout=30_000)
        line = frame.locator(".mcp-server")
        assert line.count() == 1, line.all_inner_texts()
        assert line.locator(".mcp-name").inner_text() == "demo"
        tools = line.get_attribute("title") or ""
        assert tools.startswith("demo: ") and "add" in tools.split(": ", 1)[1].split(", "), tools
        count = len(tools.split(": ", 1)[1].split(", "))
        assert line.locator(".mcp-tools").inner_text() == f"{count} tools"
        assert not marker.exists(), "a workspace setting started a process"

        # The model calls the server's tool: asked first (the panel's approval card), then a card.
        llm.enqueue(
            Reply([Text("Let me add them. "), ToolCall("mcp__demo__add", {"a": 2, "b": 3})]),
            Reply([Text("2 + 3 = **5**.")]),
        )
        ask(frame, "What is 2 + 3? Use the demo server.")
        approval = answer_approval(page, frame, "demo", "Allow", "code-server-mcp-approval.png")
        assert "add" in approval.locator(".approval-question").inner_text()
        frame.wait_for_selector(".msg.assistant.done", timeout=30_000)
        card = frame.locator(".msg.assistant.done .tool-card")
        assert card.locator(".tool-name").all_inner_texts() == ["demo › add"]
        assert card.locator(".tool-status").all_inner_texts() == ["done"]
        assert card.locator(".tool-output").text_content().strip() == "5"
        offered = [t["function"]["name"] for t in llm.chat_requests[0].json.get("tools", [])]
        assert "mcp__demo__add" in offered and not any("evil" in t for t in offered), offered
        page.locator(".part.sidebar").screenshot(path=str(ARTIFACTS / "code-server-panel-mcp.png"))
        assert not marker.exists()

        # The session picker: the trash button asks first; Cancel keeps the session, Delete removes it.
        title = "What is 2 + 3? Use the demo server."
        row = page.locator(".quick-input-list .monaco-list-row", has_text=title[:20])

        def trash() -> None:
            run_command(page, "Ryan: Open Session")
            row.first.wait_for(timeout=15_000)
            row.first.hover()
            row.first.locator(".codicon-trash").click()
            page.locator(".monaco-dialog-box").wait_for(timeout=10_000)

        trash()
        assert "Delete the Ryan session" in page.locator(".monaco-dialog-box").inner_text()
        page.screenshot(path=str(ARTIFACTS / "code-server-delete-session.png"))
        page.locator(".monaco-dialog-box .monaco-button", has_text="Cancel").click()
        page.locator(".monaco-dialog-box").wait_for(state="hidden", timeout=10_000)
        row.first.wait_for(timeout=10_000)  # still listed, the picker still open
        page.keyboard.press("Escape")
        assert frame.locator(".msg.user").count() == 1

        trash()
        page.locator(".monaco-dialog-box .monaco-button", has_text="Delete").click()
        page.locator(".monaco-dialog-box").wait_for(state="hidden", timeout=10_000)
        row.first.wait_for(state="detached", timeout=10_000)
        page.keyboard.press("Escape")
        # It was the session the panel showed: the panel starts afresh; History no longer has it.
        wait_until(frame, "() => !document.querySelector('.msg')")
        frame.click("text=History")
        frame.wait_for_selector(".sessions-head", timeout=10_000)
        wait_until(frame, "() => document.querySelector('.sessions-head').textContent.includes('No earlier')")


TICKS = "for i in 1 2 3; do echo \"tick $i\"; sleep 1; done; printf '\\033[31mred\\033[0m\\n'; exit 3"


def test_run_command_output_streams_live_in_code_server(
    code_server: dict[str, Any], llm: FakeLLM, page: Any
) -> None:
    """While the model is silent the panel says so (`waiting for the model… N s`, the chat's work-done
    reports), until the answer starts. A real `run_command` (asked first: it has `;`) shows its output
    live in its card, the command in the card's header, ANSI colours removed, then its exit code."""
    llm.reset()
    open_workbench(page, code_server)
    frame = open_panel(page)
    frame.click("button.icon-button:has-text('New')")
    wait_until(frame, "() => !document.querySelector('.msg')")
    llm.enqueue(
        Reply([ToolCall("run_command", {"command": TICKS})], first_delay=2.5),
        Reply([Text("It printed three ticks, then failed with exit code 3.")], first_delay=1.5),
    )
    ask(frame, "Run the ticks")

    # The model says nothing for 2.5 s: the status counts the seconds.
    wait_until(
        frame,
        "() => /^waiting for the model… [12] s$/.test("
        "document.querySelector('.msg.assistant .msg-progress:not([hidden])')?.textContent || '')",
        timeout=10,
    )
    page.locator(".part.sidebar").screenshot(path=str(ARTIFACTS / "code-server-waiting.png"))

    # The command is asked first (it has shell operators), in the panel's approval card.
    approval = answer_approval(page, frame, "Ryan wants to run", "Allow")
    assert "tick" in approval.locator(".approval-question").inner_text()

    card = frame.locator(".msg.assistant .tool-card").first
    assert card.locator(".tool-name").inner_text() == "run_command"
    assert card.locator(".tool-path").inner_text() == TICKS
    # Live: the first tick is in the card while the command still runs (it takes 3 s).
    wait_until(
        frame,
        "() => { const c = document.querySelector('.msg.assistant .tool-card');"
        " return c && c.querySelector('.tool-live')?.textContent.includes('tick 1')"
        " && c.querySelector('.tool-status').textContent === 'running…'; }",
        timeout=15,
    )
    page.locator(".part.sidebar").screenshot(path=str(ARTIFACTS / "code-server-command-live.png"))

    frame.wait_for_selector(".msg.assistant.done", timeout=30_000)
    assert card.locator(".tool-live").text_content() == "tick 1\ntick 2\ntick 3\nred\n"
    assert card.locator(".tool-status").inner_text() == "exit code 3"
    assert "exit-failed" in (card.get_attribute("class") or "")
    assert "three ticks" in frame.locator(".msg.assistant.done .md").last.inner_text()
    # Nothing of the status stays once the answer has come.
    assert frame.locator(".msg-progress:not([hidden])").count() == 0
    # What the model was given: the output and the exit code.
    tool_message = llm.chat_requests[-1].json["messages"][-1]
    assert "tick 3" in tool_message["content"] and "[exit code 3]" in tool_message["content"], tool_message
    page.locator(".part.sidebar").screenshot(path=str(ARTIFACTS / "code-server-panel-command.png"))


def test_a_workspace_cannot_allow_commands(
    tmp_path_factory: pytest.TempPathFactory, llm: FakeLLM, page: Any
) -> None:
    """`ryan.tools.allowCommands` in a workspace's .vscode/settings.json is ignored: `touch x` is asked
    (and denied, nothing runs); the user's own allow-list still lets `echo` run unasked."""
    llm.reset()
    base = tmp_path_factory.mktemp("code-server-allow")
    with run_code_server(
        base,
        llm,
        user_settings={"ryan.tools.allowCommands": ["echo"]},
        workspace_settings={"ryan.tools.allowCommands": ["touch"]},
        log_name="code-server-allow.log",
    ) as server:
        marker = server["workspace"] / "x"
        open_workbench(page, server)
        frame = open_panel(page)
        llm.enqueue(
            Reply([ToolCall("run_command", {"command": "touch x"})]),
            Reply([ToolCall("run_command", {"command": "echo allowed by the user"})]),
            Reply([Text("Done.")]),
        )
        ask(frame, "Touch x, then echo")

        approval = answer_approval(page, frame, "touch x", "Deny", "code-server-command-approval.png")
        assert "Ryan wants to run" in approval.locator(".approval-question").inner_text()
        assert not marker.exists()

        # The echo runs without asking (the chat finishes with nobody clicking anything).
        frame.wait_for_selector(".msg.assistant.done", timeout=30_000)
        cards = frame.locator(".msg.assistant.done .tool-card")
        assert cards.locator(".tool-path").all_inner_texts() == ["touch x", "echo allowed by the user"]
        assert cards.locator(".tool-status").all_inner_texts() == ["denied", "exit code 0"]
        assert cards.nth(1).locator(".tool-live").text_content() == "allowed by the user\n"
        assert not marker.exists(), "a workspace setting let a command run unasked"
