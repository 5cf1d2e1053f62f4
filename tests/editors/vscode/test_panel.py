"""The chat panel's script in real headless Chromium, without VS Code: streaming 5,000 deltas of a
200 KB answer, model output that tries to run script, and the panel's controls.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from vscode_harness import ARTIFACTS, harness_html, make_answer, split_deltas

STREAM_JS = """async ([deltas, perFrame]) => {
  __send({type: 'busy', busy: true});
  __send({type: 'userMessage', requestId: 'r1', text: 'Explain everything',
          context: [{label: 'src/app.ts:3-9'}]});
  __send({type: 'start', requestId: 'r1', sessionId: 's1', model: 'qwen3:4b'});
  for (let i = 0; i < deltas.length; i++) {
    __send({type: 'content', requestId: 'r1', text: deltas[i]});
    if (i % perFrame === perFrame - 1) await new Promise(requestAnimationFrame);
  }
  __send({type: 'done', requestId: 'r1', stopReason: 'stop', model: 'qwen3:4b', sessionId: 's1',
          summary: 'qwen3:4b · 5000 tokens · 48.0 tok/s'});
  __send({type: 'busy', busy: false});
}"""


def open_panel(page: Any, tmp_path: Path, *, csp: bool = True) -> None:
    page.goto(harness_html(tmp_path, csp=csp).as_uri())
    page.wait_for_function("window.__posted.some(m => m.type === 'ready')")


def assistant_html(page: Any) -> str:
    """The answer's HTML without the renderer's page wrappers (a one-shot render has one page)."""
    return page.eval_on_selector_all(
        ".msg.assistant .md-page, .msg.assistant .md-live", "els => els.map(e => e.innerHTML).join('')"
    )


def test_streams_5000_deltas_and_matches_a_one_shot_render(page: Any, tmp_path: Path) -> None:
    answer = make_answer(200_000)
    deltas = split_deltas(answer, 5000)
    assert len(deltas) == 5000 and "".join(deltas) == answer
    open_panel(page, tmp_path)

    t0 = time.perf_counter()
    page.evaluate(STREAM_JS, [deltas, 50])
    elapsed = time.perf_counter() - t0
    streamed = assistant_html(page)
    stats = page.evaluate("document.querySelector('.msg.assistant').className")
    assert "streaming" not in stats
    page.screenshot(path=str(ARTIFACTS / "panel-stream.png"))

    # The same answer in one delta, in a fresh panel: the HTML must be identical.
    page.reload()
    page.wait_for_function("window.__posted.some(m => m.type === 'ready')")
    page.evaluate(STREAM_JS, [[answer], 1])
    assert assistant_html(page) == streamed
    text = page.inner_text(".msg.assistant .md")
    assert text.startswith("Section 1:")
    assert text.rstrip().endswith(answer.rstrip().splitlines()[-1])
    assert page.locator(".msg.assistant .code-block").count() >= 100
    assert page.errors == []
    assert page.evaluate("window.__violations") == []
    print(f"5000 deltas streamed and rendered in {elapsed:.2f} s")


def test_model_output_cannot_run_script(page: Any, tmp_path: Path) -> None:
    evil = (
        "Hi <script>window.__pwned = 'script'</script>\n\n"
        "<img src=x onerror=\"window.__pwned = 'img'\">\n\n"
        '<a href="javascript:window.__pwned=1">raw link</a> <svg onload="window.__pwned=2"></svg>\n\n'
        "[click me](javascript:window.__pwned='link') [upper](JAVASCRIPT:window.__pwned=3) "
        "[tab](java\tscript:window.__pwned=4) "
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) "
        "<javascript:window.__pwned=5> ![img](javascript:window.__pwned=6) ![track](https://evil.example/p.png)\n\n"
        '<iframe src="javascript:window.parent.__pwned=7"></iframe>\n\n'
        "```html\n<script>window.__pwned = 'code'</script>\n```\n\n"
        "[fine](https://example.com/ok)\n"
    )
    for csp in (False, True):  # without the CSP too: the renderer alone must keep it inert
        open_panel(page, tmp_path, csp=csp)
        page.evaluate(
            """(evil) => {
              __send({type: 'userMessage', requestId: 'x', text: evil, context: []});
              __send({type: 'thinking', requestId: 'x', text: evil});
              __send({type: 'toolCall', requestId: 'x', callId: 'c',
                      name: '<img src=x onerror=window.__pwned=8>', arguments: {path: evil}});
              __send({type: 'toolResult', requestId: 'x', callId: 'c', name: 'read_file', status: 'ok',
                      output: evil});
              __send({type: 'notice', requestId: 'x', text: evil});
              for (const ch of evil.match(/[\\s\\S]{1,7}/g)) {
                __send({type: 'content', requestId: 'x', text: ch});
              }
              __send({type: 'done', requestId: 'x', stopReason: 'stop', model: 'm', sessionId: 's',
                      summary: evil});
              __send({type: 'error', error: {title: evil, message: evil, available: [evil]}});
              __send({type: 'models', models: [evil], current: evil});
              __send({type: 'sessions', sessions: [{sessionId: 's', title: evil, model: evil,
                      createdAt: 0, updatedAt: 0, messageCount: 1}]});
            }""",
            evil,
        )
        page.wait_for_timeout(300)  # let a broken image fire onerror, if there were one
        for link in page.query_selector_all("#app a"):
            link.click()
        page.wait_for_timeout(100)
        assert page.evaluate("window.__pwned") is None
        assert page.locator("#app script, #app iframe, #app svg, #app img").count() == 0
        handlers = page.evaluate(
            "[...document.querySelectorAll('#app *')].flatMap(e => [...e.attributes].map(a => a.name))"
            ".filter(n => n.startsWith('on'))"
        )
        assert handlers == []
        hrefs = page.eval_on_selector_all("#app a", "els => els.map(e => e.getAttribute('href'))")
        assert hrefs and all(h.startswith("https://") for h in hrefs), hrefs
        opened = page.evaluate("window.__posted.filter(m => m.type === 'openLink').map(m => m.href)")
        assert set(opened) <= {"https://example.com/ok", "https://evil.example/p.png"}
        assert "<script>" in page.inner_text(".msg.assistant .md")  # shown as text
        assert page.errors == []
        if csp:
            page.screenshot(path=str(ARTIFACTS / "panel-xss.png"), full_page=True)


def test_panel_needs_no_inline_styles(page: Any, tmp_path: Path) -> None:
    """The panel runs under a CSP without 'unsafe-inline' in style-src: nothing it renders breaks it,
    and table alignment (a style attribute in markdown-it) comes through as classes."""
    open_panel(page, tmp_path)
    table = "| left | centre | right |\n|:--|:-:|--:|\n| a | b | 123 |\n\n```python\nx = 1\n```\n"
    page.evaluate(
        """(table) => {
          __send({type: 'models', models: ['m'], current: 'm'});
          __send({type: 'server', state: 'running'});
          __send({type: 'userMessage', requestId: 't', text: 'a table', context: [{label: 'a.py:1-2'}]});
          __send({type: 'thinking', requestId: 't', text: 'hmm'});
          __send({type: 'toolCall', requestId: 't', callId: 'c', name: 'read_file', arguments: {path: 'a.py'}});
          __send({type: 'toolResult', requestId: 't', callId: 'c', name: 'read_file', status: 'ok', output: 'x'});
          __send({type: 'content', requestId: 't', text: table});
          __send({type: 'done', requestId: 't', stopReason: 'stop', model: 'm', sessionId: 's', summary: 'm'});
          __send({type: 'error', error: {title: 'Oops', message: 'shown', available: ['m']}});
        }""",
        table,
    )
    page.wait_for_selector(".msg.assistant.done td")
    assert page.locator("#app [style]").count() == 0
    aligns = page.eval_on_selector_all(
        ".msg.assistant td", "els => els.map(e => getComputedStyle(e).textAlign)"
    )
    assert aligns == ["left", "center", "right"]
    assert page.evaluate("window.__violations") == []
    assert page.errors == []


def test_a_notice_stays_as_a_muted_line_in_the_answer(page: Any, tmp_path: Path) -> None:
    """A `notice` (here: tools described in the prompt) is a line of its own in the answer, in the
    order it came, shown as text, and still there after the summary replaced the status line."""
    open_panel(page, tmp_path)
    notice = (
        "Tools are described in the prompt for phi3:mini (Ollama reports no tool support); "
        "Ryan reads the calls from its answers."
    )
    page.evaluate(
        """(notice) => {
          __send({type: 'userMessage', requestId: 'n', text: 'what do my notes say?', context: []});
          __send({type: 'start', requestId: 'n', sessionId: 's', model: 'phi3:mini'});
          __send({type: 'notice', requestId: 'n', text: notice});
          __send({type: 'content', requestId: 'n', text: 'Let me read them.'});
          __send({type: 'toolCall', requestId: 'n', callId: 'c1', name: 'read_file',
                  arguments: {path: 'notes.txt'}});
          __send({type: 'toolResult', requestId: 'n', callId: 'c1', name: 'read_file', status: 'ok',
                  output: 'milk'});
          __send({type: 'content', requestId: 'n', text: 'You need **milk**.'});
          __send({type: 'done', requestId: 'n', stopReason: 'stop', model: 'phi3:mini', sessionId: 's',
                  summary: 'phi3:mini · 12 tokens'});
        }""",
        notice,
    )
    page.wait_for_selector(".msg.assistant.done")
    assert page.locator(".msg.assistant .notice").all_inner_texts() == [notice]
    order = page.eval_on_selector_all(".msg.assistant .msg-body > *", "els => els.map(e => e.className)")
    assert order == ["notice", "md", "tool-card status-ok", "md"], order
    assert page.inner_text(".msg.assistant .msg-status") == "phi3:mini · 12 tokens"
    style = page.eval_on_selector(
        ".notice",
        "e => { const s = getComputedStyle(e), m = getComputedStyle(document.querySelector('.md'));"
        " return [parseFloat(s.fontSize) < parseFloat(m.fontSize), parseFloat(s.opacity) < 1]; }",
    )
    assert style == [True, True]  # smaller and muted, set apart from the answer
    page.locator(".msg.assistant").screenshot(path=str(ARTIFACTS / "panel-notice.png"))
    assert page.errors == []
    assert page.evaluate("window.__violations") == []


def test_summary_shows_the_share_of_the_context_window(page: Any, tmp_path: Path) -> None:
    """A result whose usage knows the model's window (3,359 of 8,192 tokens) ends its summary line
    with `context 41%`, the figures in its tooltip; nothing when the window is unknown; marked from
    90%."""
    open_panel(page, tmp_path)
    page.evaluate(
        """() => {
          const turn = (id, done) => {
            __send({type: 'userMessage', requestId: id, text: 'hi', context: []});
            __send({type: 'start', requestId: id, sessionId: 's', model: 'qwen3:4b'});
            __send({type: 'content', requestId: id, text: 'Hello.'});
            __send({type: 'done', requestId: id, stopReason: 'stop', model: 'qwen3:4b', sessionId: 's',
                    summary: 'qwen3:4b · 31 tokens · 17.4 tok/s', ...done});
          };
          turn('known', {context: {used: 3359, window: 8192}});
          turn('unknown', {});
          turn('full', {context: {used: 7800, window: 8192}});
        }"""
    )
    page.wait_for_selector(".msg.assistant.done >> nth=2")
    status = page.locator(".msg.assistant .msg-status")
    assert status.all_inner_texts() == [
        "qwen3:4b · 31 tokens · 17.4 tok/s · context 41%",
        "qwen3:4b · 31 tokens · 17.4 tok/s",
        "qwen3:4b · 31 tokens · 17.4 tok/s · context 95%",
    ]
    meter = status.nth(0).locator(".context-meter")
    assert meter.get_attribute("title") == (
        "3,359 of 8,192 tokens of the model's context window: the last request and its answer"
    )
    assert meter.get_attribute("class") == "context-meter"
    assert status.nth(1).locator(".context-meter").count() == 0
    assert status.nth(2).locator(".context-meter").get_attribute("class") == "context-meter full"
    colors = page.eval_on_selector_all(".context-meter", "els => els.map(e => getComputedStyle(e).color)")
    assert colors[0] != colors[1], colors  # the nearly full one stands out
    page.locator(".msg.assistant").first.screenshot(path=str(ARTIFACTS / "panel-context.png"))
    assert page.errors == []
    assert page.evaluate("window.__violations") == []


def test_controls_tool_cards_errors_and_state(page: Any, tmp_path: Path) -> None:
    open_panel(page, tmp_path)
    page.evaluate(
        """() => {
          __send({type: 'models', models: ['llama3.2:3b', 'qwen3:4b'], current: 'qwen3:4b'});
          __send({type: 'context', items: [{label: 'src/app.ts:3-9'}]});
          __send({type: 'busy', busy: true});
          __send({type: 'userMessage', requestId: 'r', text: 'Fix the bug',
                  context: [{label: 'src/app.ts:3-9'}]});
          __send({type: 'start', requestId: 'r', sessionId: 'sess-1', model: 'qwen3:4b'});
          __send({type: 'thinking', requestId: 'r', text: 'The user wants a fix. '});
          __send({type: 'thinking', requestId: 'r', text: 'Read the file first.'});
          __send({type: 'toolCall', requestId: 'r', callId: 'c1', name: 'read_file',
                  arguments: {path: 'src/app.ts'}});
        }"""
    )
    card = page.locator(".tool-card")
    assert card.locator(".tool-name").inner_text() == "read_file"
    assert card.locator(".tool-path").inner_text() == "src/app.ts"
    assert card.locator(".tool-status").inner_text() == "running…"
    page.evaluate(
        """() => {
          __send({type: 'toolResult', requestId: 'r', callId: 'c1', name: 'read_file', status: 'ok',
                  output: '1: const x = 1;'});
          __send({type: 'content', requestId: 'r', text: 'Change it to:\\n\\n```ts\\nconst x = 2;\\n```\\n'});
        }"""
    )
    assert card.locator(".tool-status").inner_text() == "done"
    card.locator("summary").click()
    assert "const x = 1;" in card.locator(".tool-output").inner_text()
    assert (
        page.locator(".thinking .thinking-text").text_content()
        == "The user wants a fix. Read the file first."
    )
    page.wait_for_selector(".code-block")

    # Stop while busy.
    assert page.inner_text("button.send") == "Stop"
    page.click("button.send")
    assert page.evaluate("window.__posted.at(-1)") == {"type": "stop"}
    page.evaluate(
        "() => { __send({type: 'cancelled', requestId: 'r'}); __send({type: 'busy', busy: false}); }"
    )
    assert page.inner_text(".msg.assistant .msg-status") == "Stopped."
    page.click(".code-block [data-action=copy]")
    page.click(".code-block [data-action=insert]")
    posted = page.evaluate("window.__posted.slice(-2)")
    assert posted == [
        {"type": "copy", "text": "const x = 2;\n"},
        {"type": "insert", "text": "const x = 2;\n"},
    ]

    # Ask with Enter; the model picker; the error banner with the server's words.
    page.fill("textarea.input", "and now?")
    page.press("textarea.input", "Enter")
    assert page.evaluate("window.__posted.at(-1)") == {"type": "ask", "prompt": "and now?"}
    page.select_option("select.model-select", "llama3.2:3b")
    assert page.evaluate("window.__posted.at(-1)") == {"type": "pickModel", "model": "llama3.2:3b"}
    msg = (
        "Cannot connect to Ollama at http://127.0.0.1:11434 (connection refused). Is 'ollama serve' running?"
    )
    page.evaluate(
        "(msg) => __send({type: 'error', requestId: 'r2',"
        " error: {code: -32001, title: 'Cannot reach the model server', message: msg}})",
        msg,
    )
    assert msg in page.inner_text(".banner.error")
    page.screenshot(path=str(ARTIFACTS / "panel-controls.png"))

    # History list and a stored session redrawn; the session survives a reload through setState.
    page.click("text=History")
    assert page.evaluate("window.__posted.at(-1)") == {"type": "requestSessions"}
    page.evaluate(
        """() => __send({type: 'sessions', sessions: [
             {sessionId: 'old', title: 'Earlier chat', model: 'qwen3:4b',
             createdAt: '2026-01-01', updatedAt: '2026-01-02', messageCount: 4}]})"""
    )
    page.click(".session-item")
    assert page.evaluate("window.__posted.at(-1)") == {"type": "openSession", "sessionId": "old"}
    session = {
        "sessionId": "old",
        "title": "Earlier chat",
        "messages": [
            {"role": "user", "content": "What is in main.py?", "status": "complete"},
            {
                "role": "assistant",
                "content": "",
                "status": "complete",
                "toolCalls": [
                    {"callId": "t1", "name": "read_file", "arguments": {"path": "main.py"}, "status": "ok"}
                ],
            },
            {
                "role": "tool",
                "content": "1: print('hi')",
                "toolName": "read_file",
                "toolCallId": "t1",
                "status": "ok",
            },
            {"role": "assistant", "content": "It prints **hi**.", "status": "complete"},
        ],
    }
    page.evaluate("(s) => __send({type: 'session', session: s})", session)
    assert page.locator(".msg.user").count() == 1
    assert page.inner_text(".msg.assistant .md strong") == "hi"
    assert "print('hi')" in page.locator(".tool-card .tool-output").text_content()
    assert page.evaluate("window.__state.sessionId") == "old"
    page.reload()
    page.wait_for_function("window.__posted.some(m => m.type === 'ready')")
    assert page.evaluate("window.__posted.find(m => m.type === 'ready')") == {
        "type": "ready",
        "sessionId": "old",
    }
    assert page.errors == []
    assert page.evaluate("window.__violations") == []


def test_render_cost_per_delta_does_not_grow(browser: Any, tmp_path: Path) -> None:
    """Every delta rendered in its own frame (the worst case): the last thousand may not cost much more
    than the first. The benchmark (bench/panel_render.py) reports the numbers; this guards the trend."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
    from panel_render import measure

    result = measure(browser, tmp_path, repeats=3)
    (ARTIFACTS / "panel_render.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    # Loose bound: the machine is shared; the benchmark's target is 1.5.
    assert result["ratio_last_to_first"] < 2.5, result


def test_mcp_servers_have_a_line_each(page: Any, tmp_path: Path) -> None:
    """`ryan/status`'s MCP servers under the header: name, state and number of tools on each line;
    a failed server's error below its line and on hover; none at all without servers."""
    open_panel(page, tmp_path)
    assert page.locator(".mcp-server").count() == 0
    assert not page.locator(".mcp-servers").is_visible()
    page.evaluate(
        """() => __send({type: 'mcp', servers: [
             {name: 'demo', state: 'ready', tools: ['add', 'slow', 'fail']},
             {name: 'tracker', state: 'failed', tools: [],
              error: "could not start: boom: cannot start <img src=x onerror=window.__pwned=1>"},
           ]})"""
    )
    lines = page.locator(".mcp-server")
    assert lines.count() == 2
    assert [lines.nth(i).locator(".mcp-head").inner_text().split() for i in range(2)] == [
        ["demo", "ready", "3", "tools"],
        ["tracker", "failed", "0", "tools"],
    ]
    assert lines.nth(0).get_attribute("title") == "demo: add, slow, fail"
    assert lines.nth(0).locator(".mcp-error").count() == 0
    error = "could not start: boom: cannot start <img src=x onerror=window.__pwned=1>"
    assert lines.nth(1).locator(".mcp-error").inner_text() == error  # as text
    assert lines.nth(1).get_attribute("title") == f"tracker: {error}"
    page.locator(".mcp-servers").screenshot(path=str(ARTIFACTS / "panel-mcp-servers.png"))
    # A later status replaces the lines; an empty list removes them.
    page.evaluate("() => __send({type: 'mcp', servers: [{name: 'demo', state: 'crashed', tools: ['add']}]})")
    assert page.locator(".mcp-server").count() == 1
    assert page.locator(".mcp-server.state-crashed .mcp-tools").inner_text() == "1 tool"
    page.evaluate("() => __send({type: 'mcp', servers: []})")
    assert page.locator(".mcp-server").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []
    assert page.evaluate("window.__violations") == []


def test_an_mcp_tool_card_names_its_server(page: Any, tmp_path: Path) -> None:
    """A toolCall with `server`/`tool` shows "demo › add" (the full name on hover); a stored session,
    which keeps the `mcp__demo__add` name only, shows the same; built-in tools keep their name."""
    open_panel(page, tmp_path)
    page.evaluate(
        """() => {
          __send({type: 'userMessage', requestId: 'm', text: 'add 2 and 3', context: []});
          __send({type: 'toolCall', requestId: 'm', callId: 'c1', name: 'mcp__demo__add',
                  arguments: {a: 2, b: 3}, server: 'demo', tool: 'add'});
          __send({type: 'toolResult', requestId: 'm', callId: 'c1', name: 'mcp__demo__add', status: 'ok',
                  output: '5', server: 'demo', tool: 'add'});
          __send({type: 'toolCall', requestId: 'm', callId: 'c2', name: 'read_file', arguments: {path: 'a.py'}});
          __send({type: 'done', requestId: 'm', stopReason: 'stop', model: 'm', sessionId: 's', summary: 'm'});
        }"""
    )
    names = page.locator(".tool-card .tool-name")
    assert names.all_inner_texts() == ["demo › add", "read_file"]
    assert names.nth(0).get_attribute("title") == "mcp__demo__add"
    page.locator(".msg.assistant").screenshot(path=str(ARTIFACTS / "panel-mcp-tool.png"))

    session = {
        "sessionId": "s",
        "title": "add",
        "messages": [
            {"role": "user", "content": "add 2 and 3", "status": "complete"},
            {
                "role": "assistant",
                "content": "",
                "status": "complete",
                "toolCalls": [
                    {"callId": "c1", "name": "mcp__demo__add", "arguments": {"a": 2, "b": 3}, "status": "ok"}
                ],
            },
            {"role": "tool", "content": "5", "toolName": "mcp__demo__add", "toolCallId": "c1", "status": "ok"},
            {"role": "assistant", "content": "5.", "status": "complete"},
        ],
    }
    page.evaluate("(s) => __send({type: 'session', session: s})", session)
    assert page.locator(".tool-card .tool-name").all_inner_texts() == ["demo › add"]
    assert page.locator(".tool-card .tool-output").text_content() == "5"
    assert page.errors == []


def test_a_session_is_deleted_from_the_history_list(page: Any, tmp_path: Path) -> None:
    """Each session in History has a delete button: it asks the extension (which confirms first)."""
    open_panel(page, tmp_path)
    page.click("text=History")
    page.evaluate(
        """() => __send({type: 'sessions', sessions: [
             {sessionId: 'a', title: 'First chat', model: 'm', createdAt: 0, updatedAt: 0, messageCount: 2},
             {sessionId: 'b', title: 'Second chat', model: 'm', createdAt: 0, updatedAt: 0, messageCount: 4}]})"""
    )
    page.locator(".session-row").nth(1).hover()
    page.locator(".session-row").nth(1).locator(".session-delete").click()
    assert page.evaluate("window.__posted.at(-1)") == {
        "type": "deleteSession",
        "sessionId": "b",
        "title": "Second chat",
    }
    # Deleting is not opening: the list stays, and no openSession went out.
    assert page.locator(".sessions").is_visible()
    assert not page.evaluate("window.__posted.some(m => m.type === 'openSession')")
    page.locator(".sessions").screenshot(path=str(ARTIFACTS / "panel-sessions-delete.png"))
    assert page.errors == []


def test_command_output_streams_live_into_its_card(page: Any, tmp_path: Path) -> None:
    """`toolOutput` pieces of a run_command show in its card as they come, in order, as text, with ANSI
    escape sequences removed (also one cut in two by the pieces); the header shows the command; the
    result keeps the output and says how the command ended (`exit code 1`, `stopped`)."""
    open_panel(page, tmp_path)
    page.evaluate(
        """() => {
          __send({type: 'busy', busy: true});
          __send({type: 'userMessage', requestId: 'r', text: 'Run the tests', context: []});
          __send({type: 'start', requestId: 'r', sessionId: 's', model: 'm'});
          __send({type: 'toolCall', requestId: 'r', callId: 'c1', name: 'run_command',
                  arguments: {command: 'pytest -q tests/unit'}});
        }"""
    )
    card = page.locator(".tool-card[data-call-id='c1']")
    assert card.locator(".tool-name").inner_text() == "run_command"
    assert card.locator(".tool-path").inner_text() == "pytest -q tests/unit"
    assert card.locator(".tool-path").get_attribute("title") == "pytest -q tests/unit"
    assert card.locator(".tool-status").inner_text() == "running…"
    esc = "\x1b"
    pieces = [
        "collected 3 items\n\n",
        f"tests/unit/test_a.py {esc}[32m.{esc}[0m{esc}[3",  # a colour cut in two
        f"1mF{esc}[0m <img src=x onerror=window.__pwned=1>\n",
        "=== 1 failed, 1 passed in 0.02s ===\n",
    ]
    shown = [
        "collected 3 items\n\n",
        "collected 3 items\n\ntests/unit/test_a.py .",
        "collected 3 items\n\ntests/unit/test_a.py .F <img src=x onerror=window.__pwned=1>\n",
        "collected 3 items\n\ntests/unit/test_a.py .F <img src=x onerror=window.__pwned=1>\n"
        "=== 1 failed, 1 passed in 0.02s ===\n",
    ]
    for piece, expected in zip(pieces, shown, strict=True):
        page.evaluate(
            "(t) => __send({type: 'toolOutput', requestId: 'r', callId: 'c1', text: t})", piece
        )
        # Live: in the card before the result, opened so it can be seen.
        assert card.locator(".tool-live").text_content() == expected
        assert card.locator(".tool-status").inner_text() == "running…"
        assert card.evaluate("e => e.open") is True
    live = card.locator(".tool-live")
    assert live.is_visible()
    font = live.evaluate("e => getComputedStyle(e).fontFamily")
    assert "Mono" in font or "monospace" in font, font
    assert card.locator(".tool-live-cut").is_hidden()
    page.locator(".msg.assistant").screenshot(path=str(ARTIFACTS / "panel-command-running.png"))

    result = "$ pytest -q tests/unit\n" + stripped(shown[-1]) + "\n[exit code 1]"
    page.evaluate(
        """(output) => {
          __send({type: 'toolResult', requestId: 'r', callId: 'c1', name: 'run_command', status: 'ok', output});
          __send({type: 'toolCall', requestId: 'r', callId: 'c2', name: 'run_command',
                  arguments: {command: 'sleep 600'}});
          __send({type: 'toolResult', requestId: 'r', callId: 'c2', name: 'run_command', status: 'ok',
                  output: '$ sleep 600\\n\\n[stopped: still running after 5 s (the time limit)]'});
          __send({type: 'toolCall', requestId: 'r', callId: 'c3', name: 'run_command', arguments: {command: 'true'}});
          __send({type: 'toolOutput', requestId: 'r', callId: 'c3', text: 'fine\\n'});
          __send({type: 'toolResult', requestId: 'r', callId: 'c3', name: 'run_command', status: 'ok',
                  output: '$ true\\nfine\\n[exit code 0]'});
          __send({type: 'content', requestId: 'r', text: 'One test fails.'});
          __send({type: 'done', requestId: 'r', stopReason: 'stop', model: 'm', sessionId: 's', summary: 'm'});
        }""",
        result,
    )
    # The output stays; the status says how it ended; the result does not repeat the output.
    assert live.text_content() == shown[-1]
    assert card.locator(".tool-status").inner_text() == "exit code 1"
    assert "exit-failed" in (card.get_attribute("class") or "")
    assert card.locator(".tool-output").text_content() == ""
    stopped = page.locator(".tool-card[data-call-id='c2']")
    assert stopped.locator(".tool-status").inner_text() == "stopped"
    assert stopped.locator(".tool-status").get_attribute("title") == (
        "stopped: still running after 5 s (the time limit)"
    )
    ok = page.locator(".tool-card[data-call-id='c3']")
    assert ok.locator(".tool-status").inner_text() == "exit code 0"
    assert "exit-failed" not in (ok.get_attribute("class") or "")
    colors = [
        c.locator(".tool-status").evaluate("e => getComputedStyle(e).backgroundColor") for c in (card, ok)
    ]
    assert colors[0] != colors[1], colors
    page.locator(".msg.assistant").screenshot(path=str(ARTIFACTS / "panel-command-done.png"))
    assert page.locator("#app img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []
    assert page.evaluate("window.__violations") == []


def stripped(text: str) -> str:
    return text.rstrip("\n")


def test_command_output_follows_the_end_and_keeps_the_last_200_kb(page: Any, tmp_path: Path) -> None:
    """The live block scrolls to its end as output comes, unless the user scrolled up; 1 MB of output
    leaves only the last ~200 KB in the DOM, with a note that earlier output was cut."""
    open_panel(page, tmp_path)
    page.evaluate(
        """async () => {
          __send({type: 'userMessage', requestId: 'r', text: 'Build', context: []});
          __send({type: 'toolCall', requestId: 'r', callId: 'c', name: 'run_command', arguments: {command: 'make'}});
          for (let i = 0; i < 200; i++) {
            __send({type: 'toolOutput', requestId: 'r', callId: 'c', text: `compiling unit ${i}\\n`});
          }
          await new Promise(requestAnimationFrame);
          await new Promise(requestAnimationFrame);
        }"""
    )
    live = page.locator(".tool-live")
    gap = "e => e.scrollHeight - e.scrollTop - e.clientHeight"
    assert live.evaluate("e => e.scrollHeight > e.clientHeight * 2")  # it does scroll
    assert live.evaluate(gap) < 5  # at the end
    # The user scrolls up to read: new output no longer moves the view.
    live.evaluate("e => { e.scrollTop = 0; e.dispatchEvent(new Event('scroll')); }")
    page.evaluate(
        """async () => {
          for (let i = 0; i < 20; i++) __send({type: 'toolOutput', requestId: 'r', callId: 'c', text: `late ${i}\\n`});
          await new Promise(requestAnimationFrame);
          await new Promise(requestAnimationFrame);
        }"""
    )
    assert live.evaluate("e => e.scrollTop") == 0
    assert live.text_content().endswith("late 19\n")
    # Back at the end: it follows again.
    live.evaluate("e => { e.scrollTop = e.scrollHeight; e.dispatchEvent(new Event('scroll')); }")
    page.evaluate(
        """async () => {
          for (let i = 0; i < 20; i++) __send({type: 'toolOutput', requestId: 'r', callId: 'c', text: `more ${i}\\n`});
          await new Promise(requestAnimationFrame);
          await new Promise(requestAnimationFrame);
        }"""
    )
    assert live.evaluate(gap) < 5

    # 1 MB more, in 4 KB pieces: the DOM keeps the last ~200 KB, the newest line included.
    elapsed = page.evaluate(
        """async () => {
          const line = 'x'.repeat(99) + '\\n';
          const t0 = performance.now();
          for (let i = 0; i < 256; i++) {
            __send({type: 'toolOutput', requestId: 'r', callId: 'c', text: line.repeat(40) + `piece ${i}\\n`});
            if (i % 16 === 15) await new Promise(requestAnimationFrame);
          }
          return performance.now() - t0;
        }"""
    )
    text = live.text_content()
    assert 150_000 < len(text) <= 200_000, len(text)
    assert text.endswith("piece 255\n")
    assert text.startswith("x") or text.startswith("piece"), text[:40]  # cut at a line start
    note = page.locator(".tool-live-cut")
    assert note.is_visible()
    assert re.fullmatch(
        r"Earlier output was cut: \d+ KB not shown \(the panel keeps the last 200 KB\)\.", note.inner_text()
    ), note.inner_text()
    nodes = live.evaluate("e => e.childNodes.length")
    assert nodes < 300, nodes
    page.locator(".msg.assistant").screenshot(path=str(ARTIFACTS / "panel-command-cut.png"))
    print(f"1 MB of command output in 256 pieces: {elapsed:.0f} ms")
    assert page.errors == []


def test_waiting_status_shows_until_the_answer_starts(page: Any, tmp_path: Path) -> None:
    """The chat's work-done reports (`waiting for the model… 3 s`) show in the turn, the latest replacing
    the one before, until the answer's text arrives; a later one shows again, and none stays after the end."""
    open_panel(page, tmp_path)
    page.evaluate(
        """() => {
          __send({type: 'busy', busy: true});
          __send({type: 'userMessage', requestId: 'w', text: 'hi', context: []});
          __send({type: 'progress', requestId: 'w', text: 'waiting for the model… 2 s'});
          __send({type: 'progress', requestId: 'w', text: 'waiting for the model… 3 s'});
        }"""
    )
    progress = page.locator(".msg.assistant .msg-progress")
    assert progress.is_visible()
    assert progress.inner_text() == "waiting for the model… 3 s"
    assert page.locator(".msg-progress:visible").count() == 1
    page.locator(".msg.assistant").screenshot(path=str(ARTIFACTS / "panel-waiting.png"))
    page.evaluate("() => __send({type: 'content', requestId: 'w', text: 'Hello'})")
    assert progress.is_hidden()
    # The text renders on the next animation frame.
    # (a locator waits without eval, which the panel's CSP forbids)
    page.locator(".msg.assistant .md", has_text="Hello").wait_for()
    assert page.locator(".msg.assistant .md").inner_text() == "Hello"
    page.evaluate(
        """() => {
          __send({type: 'progress', requestId: 'w', text: '<b>running</b> edit_file…'});
        }"""
    )
    assert progress.is_visible()
    assert progress.inner_text() == "<b>running</b> edit_file…"  # text, not markup
    page.evaluate(
        "() => __send({type: 'done', requestId: 'w', stopReason: 'stop', model: 'm', sessionId: 's', summary: 'm'})"
    )
    assert progress.is_hidden()
    assert page.locator(".msg.assistant .msg-status").inner_text() == "m"
    # The end of the chat clears it too when no text came (a failed or stopped chat).
    page.evaluate(
        """() => {
          __send({type: 'userMessage', requestId: 'x', text: 'again', context: []});
          __send({type: 'progress', requestId: 'x', text: 'waiting for the model… 9 s'});
        }"""
    )
    assert page.locator(".msg-progress:visible").count() == 1
    page.evaluate("() => __send({type: 'cancelled', requestId: 'x'})")
    assert page.locator(".msg-progress:visible").count() == 0
    assert page.locator(".msg-progress b").count() == 0
    assert page.errors == []
    assert page.evaluate("window.__violations") == []


APPROVAL_DIFF = (
    "--- a/src/app.py\n+++ b/src/app.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n"
    "-    return a - b\n+    return a + b <img src=x onerror=\"window.__pwned = 1\">"
)


def rgb(color: str) -> tuple[int, ...]:
    match = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, [\d.]+)?\)", color)
    assert match, color
    return tuple(int(v) for v in match.groups())


def test_an_approval_shows_as_a_card_with_its_diff_and_answers(page: Any, tmp_path: Path) -> None:
    """An approval question with a diff becomes a card in the running turn: the question, the diff as
    text with + lines green, - lines red and @@ cyan, and a button per action; a click posts the chosen
    action and disables the card. A request the server drops (the chat was stopped) disables its card."""
    open_panel(page, tmp_path)
    page.evaluate(
        """(diff) => {
          __send({type: 'busy', busy: true});
          __send({type: 'userMessage', requestId: 'a', text: 'fix it', context: []});
          __send({type: 'content', requestId: 'a', text: 'Editing.'});
          __send({type: 'toolCall', requestId: 'a', callId: 'c', name: 'edit_file', arguments: {path: 'src/app.py'}});
          __send({type: 'approval', requestId: 'a', approvalId: 'q1',
                  question: 'edit_file: Ryan wants to edit src/app.py (+1 \\u22121 lines)', diff,
                  actions: ['Allow', 'Allow for session', 'Deny']});
        }""",
        APPROVAL_DIFF,
    )
    card = page.locator(".msg.assistant .approval-card")
    assert card.count() == 1
    assert card.locator(".approval-question").inner_text() == "edit_file: Ryan wants to edit src/app.py (+1 −1 lines)"
    diff = card.locator(".approval-diff")
    assert diff.text_content() == APPROVAL_DIFF + "\n"  # text, never markup
    assert diff.locator("img").count() == 0
    lines = diff.locator(".diff-line")
    kinds = lines.evaluate_all("els => els.map(e => e.className.replace('diff-line ', ''))")
    assert kinds == ["diff-file", "diff-file", "diff-hunk", "diff-context", "diff-del", "diff-add"]
    colour = {k: rgb(lines.nth(i).evaluate("e => getComputedStyle(e).color")) for i, k in enumerate(kinds)}
    r, g, b = colour["diff-add"]
    assert g > r and g > b, colour  # green
    r, g, b = colour["diff-del"]
    assert r > g and r > b, colour  # red
    r, g, b = colour["diff-hunk"]
    assert g > r + 60 and b > r + 60, colour  # cyan
    assert colour["diff-context"] == rgb(page.evaluate("getComputedStyle(document.body).color"))
    buttons = card.locator("button")
    assert buttons.all_inner_texts() == ["Allow", "Allow for session", "Deny"]
    card.screenshot(path=str(ARTIFACTS / "panel-approval.png"))

    buttons.nth(1).click()
    assert page.evaluate("window.__posted.filter(m => m.type === 'approve')") == [
        {"type": "approve", "approvalId": "q1", "action": "Allow for session"}
    ]
    assert all(buttons.nth(i).is_disabled() for i in range(3))
    assert card.locator(".approval-outcome").inner_text() == "Answered: Allow for session"
    buttons.nth(2).click(force=True)  # answered once only
    assert page.evaluate("window.__posted.filter(m => m.type === 'approve').length") == 1

    # A second question, dropped by the server (the chat was stopped): its card is disabled, unanswered.
    page.evaluate(
        """() => {
          __send({type: 'approval', requestId: 'a', approvalId: 'q2', question: 'run_command: Ryan wants to run `make`',
                  diff: '', actions: ['Allow', 'Allow for session', 'Deny']});
        }"""
    )
    second = page.locator(".approval-card").nth(1)
    assert second.locator(".approval-diff").count() == 0
    assert second.locator("button").first.is_enabled()
    page.evaluate("() => __send({type: 'approvalDone', approvalId: 'q2'})")
    assert second.locator("button").first.is_disabled()
    assert "abandoned" in (second.get_attribute("class") or "")
    assert page.evaluate("window.__posted.filter(m => m.type === 'approve').length") == 1
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []
    assert page.evaluate("window.__violations") == []
