"""Tool calls written as answer text: each format, what is shown and when, and that neither depends on
how the stream is split."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ryan_server.chat.text_calls import TextCall, TextCallParser

TOOLS = ("read_file", "write_file", "search_files")
MARKERS = ("<tool_call>", "</tool_call>", "[TOOL_CALLS]")


def read(pieces: Iterable[str], tools: Iterable[str] = TOOLS) -> tuple[list[str], list[TextCall]]:
    """Feed `pieces`; what each `feed` returned (and `finish` last), and the calls."""
    parser = TextCallParser(tuple(tools))
    shown = [parser.feed(piece) for piece in pieces]
    shown.append(parser.finish())
    return shown, parser.calls


def whole(text: str, tools: Iterable[str] = TOOLS) -> tuple[str, list[TextCall]]:
    shown, calls = read([text], tools)
    return "".join(shown), calls


def hermes(name: str, arguments: Any, key: str = "arguments") -> str:
    return f"<tool_call>\n{json.dumps({'name': name, key: arguments})}\n</tool_call>"


def split(text: str, cuts: Iterable[int]) -> list[str]:
    points = [0, *sorted(set(cuts)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(points)]


def chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


# Each format.


def test_hermes_one_call() -> None:
    assert whole(hermes("read_file", {"path": "a.py"})) == ("", [TextCall("read_file", {"path": "a.py"})])


def test_hermes_several_calls_keep_the_text_around_them_in_order() -> None:
    text = (
        "Let me look.\n"
        + hermes("read_file", {"path": "a.py"})
        + "\nand then\n"
        + '<tool_call>  {"name": "search_files",\n "parameters": {"pattern": "x"}}\n\n</tool_call>'
        + " done."
    )
    shown, calls = whole(text)
    assert shown == "Let me look.\n\nand then\n done."
    assert calls == [TextCall("read_file", {"path": "a.py"}), TextCall("search_files", {"pattern": "x"})]


def test_hermes_arguments_as_a_json_string_pass_through() -> None:
    text = hermes("read_file", json.dumps({"path": "a.py"}))
    assert whole(text)[1] == [TextCall("read_file", '{"path": "a.py"}')]


def test_hermes_unknown_name_is_recorded_without_error() -> None:
    assert whole(hermes("launch_rockets", {}))[1] == [TextCall("launch_rockets", {})]


def test_llama_bare_json_answer() -> None:
    text = '\n  {"name": "read_file", "parameters": {"path": "a.py"}}  \n'
    assert whole(text) == ("", [TextCall("read_file", {"path": "a.py"})])
    typed = '{"type": "function", "name": "read_file", "arguments": {"path": "a.py"}}'
    assert whole(typed) == ("", [TextCall("read_file", {"path": "a.py"})])


def test_llama_fenced_json_answer() -> None:
    call = '{"name": "read_file", "parameters": {"path": "a.py"}}'
    for fence in ("```json\n", "```\n", "```JSON \r\n"):
        assert whole(f"{fence}{call}\n```\n") == ("", [TextCall("read_file", {"path": "a.py"})]), fence


def test_mistral_list_and_what_follows_it_is_dropped() -> None:
    text = (
        '[TOOL_CALLS] [{"name": "read_file", "arguments": {"path": "a.py"}}, '
        '{"name": "search_files", "arguments": {"pattern": "]"}}] trailing words'
    )
    shown, calls = whole(text)
    assert shown == ""
    assert calls == [TextCall("read_file", {"path": "a.py"}), TextCall("search_files", {"pattern": "]"})]


def test_mistral_after_some_text() -> None:
    text = 'Reading it.[TOOL_CALLS][{"name": "read_file", "arguments": {"path": "a.py"}}]'
    assert whole(text) == ("Reading it.", [TextCall("read_file", {"path": "a.py"})])


def test_mistral_name_args_form() -> None:
    text = '[TOOL_CALLS]read_file[ARGS]{"path": "a.py"}[TOOL_CALLS]search_files[ARGS]{"pattern": "x"}'
    assert whole(text) == (
        "",
        [TextCall("read_file", {"path": "a.py"}), TextCall("search_files", {"pattern": "x"})],
    )


def test_qwen3_coder_function_form() -> None:
    text = (
        "<tool_call>\n<function=write_file>\n<parameter=path>\na.py\n</parameter>\n"
        "<parameter=content>\nx = 1\n\ny = 2\n</parameter>\n</function>\n</tool_call>"
    )
    assert whole(text)[1] == [TextCall("write_file", {"path": "a.py", "content": "x = 1\n\ny = 2"})]


# Explicit markers always make a call; a bare object only with a known name.


def test_json_with_an_unknown_name_stays_text() -> None:
    example = '{"name": "Alice", "parameters": {"age": 3}}'
    assert whole(example) == (example, [])
    fenced = f"```json\n{example}\n```"
    assert whole(fenced) == (fenced, [])
    package = '{"name": "read_file", "version": "1.0"}'  # a known name, but not shaped like a call
    assert whole(package) == (package, [])


def test_invalid_json_in_a_tag_is_an_error_call() -> None:
    body = '{"name": "read_file", "arguments": {"path": "a.py"} "x"}'
    shown, calls = whole(f"Sure.<tool_call>{body}</tool_call>")
    assert shown == "Sure."
    problem = "the tool call is not valid JSON (Expecting ',' delimiter at character 52)"
    assert calls == [TextCall("read_file", body, problem)]
    assert whole("<tool_call>not json</tool_call>")[1][0].name == "tool_call"
    assert whole('<tool_call>{"arguments": {}}</tool_call>')[1] == [
        TextCall("tool_call", '{"arguments": {}}', 'the tool call has no "name"')
    ]
    assert whole('[TOOL_CALLS][{"name": "read_file", "arguments": [1]}]')[1][0].error == (
        'the tool call\'s "arguments" is not a JSON object'
    )


def test_unclosed_final_tag() -> None:
    complete = 'Ok <tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_'
    assert whole(complete) == ("Ok ", [TextCall("read_file", {"path": "a.py"})])
    cut = '<tool_call>{"name": "read_file", "arguments": {"pa'
    [call] = whole(cut)[1]
    assert call.name == "read_file" and call.error is not None and "ended inside" in call.error


# What is shown, and when.


def test_ordinary_text_goes_out_at_once() -> None:
    parser = TextCallParser(TOOLS)
    assert [parser.feed(p) for p in ("Hello", " there", ",\nworld")] == ["Hello", " there", ",\nworld"]
    assert parser.finish() == ""


def test_brackets_in_prose_are_held_only_while_they_may_be_a_marker() -> None:
    shown, calls = read(["a <", " b and [", "link](x) and list[", "int] <tool", "s> [TOOL", "S]"])
    assert shown == ["a ", "< b and ", "[link](x) and list", "[int] ", "<tools> ", "[TOOLS]", ""]
    assert calls == []
    assert read(["x <tool_ca"]) == (["x ", "<tool_ca"], [])  # the turn ended: the tail is text


def test_prose_with_brackets_is_never_lost_whatever_the_split() -> None:
    text = "if a < b: x = list[int]() # see [link](x) <b>bold</b> [TOOL] <tool_callx"
    for size in (1, 2, 3, 7):
        assert "".join(read(chunks(text, size))[0]) == text


def test_a_leading_brace_followed_by_prose_is_released_whole() -> None:
    parser = TextCallParser(TOOLS)
    assert parser.feed('{"name": "read_file", "parameters": {"path": "a"}}') == ""
    assert parser.feed("\n") == ""
    assert parser.feed(" is what a call looks like.") == (
        '{"name": "read_file", "parameters": {"path": "a"}}\n is what a call looks like.'
    )
    assert parser.finish() == "" and parser.calls == []


def test_a_leading_brace_that_is_not_a_call_goes_out_when_it_closes_or_cannot_be_json() -> None:
    assert read(['{"name": "x", ', '"a": 1}', " more"])[0] == ["", '{"name": "x", "a": 1}', " more", ""]
    assert read(['{"users": [', "1]}"])[0] == ['{"users": ', "[1]}", ""]  # not a call's first key
    assert read(['{"parame', "terzz", '": 1}'])[0] == ["", '{"parameterzz', '": 1}', ""]  # too long a key
    assert read(["{x", "} is a set"])[0] == ["{x", "} is a set", ""]
    assert read(["{", " ", "<tool_call>"])[0] == ["", "", "{ ", ""]


def test_a_code_fence_that_is_not_json_goes_out_at_once() -> None:
    assert read(["```py", "thon\nprint(1)\n```"])[0] == ["```py", "thon\nprint(1)\n```", ""]
    assert read(["``", "`\n", "{"])[0] == ["", "", "", "```\n{"]


# Split invariance, and nothing of a call ever shown.

FRAGMENTS = [
    *MARKERS,
    "<tool",
    "[TOOL",
    "<",
    "[",
    "]",
    "{",
    "}",
    '"',
    "\\",
    "`",
    "```",
    "```json\n",
    "\n",
    " ",
    "x",
    ":",
    ",",
    '"name": "read_file"',
    '{"name": "read_file", "arguments": {"path": "a"}}',
    '"parameters": {}',
    "[ARGS]",
    "<function=read_file>",
    "<parameter=path>",
    "hello world",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=25), st.data())
def test_any_split_gives_the_same_text_and_calls(fragments: list[str], data: st.DataObject) -> None:
    text = "".join(fragments)
    expected = whole(text)
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=len(text)))
    shown, calls = read(split(text, cuts))
    assert ("".join(shown), calls) == expected
    for size in (1, 2, 3):
        shown, calls = read(chunks(text, size))
        assert ("".join(shown), calls) == expected


# Prose without "t"/"T" can never spell a marker, and keeps `{` and "`" away from the answer's start.
PROSE = st.text(alphabet='ab <>[]{}`"\\\n/_:,.', max_size=15)
VALUES = st.text(alphabet='a<>[]{}`"\\\n/_: tT', max_size=12) | st.integers() | st.booleans()
ARGUMENTS = st.dictionaries(st.sampled_from(["path", "pattern", "content"]), VALUES, max_size=3)


@st.composite
def hermes_calls(draw: st.DrawFn) -> tuple[str, TextCall]:
    name = draw(st.sampled_from([*TOOLS, "unknown_tool"]))
    arguments = draw(ARGUMENTS)
    key = draw(st.sampled_from(["arguments", "parameters"]))
    body = json.dumps({"name": name, key: arguments}, indent=draw(st.sampled_from([None, 2])))
    assume("</tool_call>" not in body)  # a call's text may not hold its own end
    space = draw(st.sampled_from(["", "\n", " \n "]))
    return f"<tool_call>{space}{body}{space}</tool_call>", TextCall(name, arguments)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(PROSE, hermes_calls()), max_size=8),
    st.none() | st.lists(st.tuples(st.sampled_from(TOOLS), ARGUMENTS), min_size=1, max_size=3),
    PROSE,
    st.data(),
)
def test_prose_and_calls_come_apart_whatever_the_split(
    segments: list[str | tuple[str, TextCall]],
    mistral: list[tuple[str, dict[str, Any]]] | None,
    after_mistral: str,
    data: st.DataObject,
) -> None:
    if segments and isinstance(segments[0], str):
        segments[0] = "a" + segments[0]
    parts, prose, expected = [], [], []
    for segment in segments:
        if isinstance(segment, str):
            parts.append(segment)
            prose.append(segment)
        else:
            parts.append(segment[0])
            expected.append(segment[1])
    if mistral is not None:
        calls = [{"name": name, "arguments": arguments} for name, arguments in mistral]
        parts.append("[TOOL_CALLS]" + json.dumps(calls) + after_mistral)
        expected += [TextCall(name, arguments) for name, arguments in mistral]
    text = "".join(parts)
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=len(text)))
    for pieces in (split(text, cuts), chunks(text, 1), [text]):
        shown, calls = read(pieces)
        assert "".join(shown) == "".join(prose)
        assert calls == expected
        for marker in (*MARKERS, '"name"'):  # prose has no "n": a call's JSON would show
            assert all(marker not in piece for piece in shown)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(TOOLS),
    ARGUMENTS,
    st.sampled_from(["", "```json\n", "```\n"]),
    st.sampled_from(["", " ", "\n\n"]),
    st.data(),
)
def test_a_bare_call_whatever_the_split(
    name: str, arguments: dict[str, Any], fence: str, space: str, data: st.DataObject
) -> None:
    body = json.dumps({"name": name, "parameters": arguments})
    text = space + fence + body + ("\n```" if fence else "") + space
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=len(text)))
    shown, calls = read(split(text, cuts))
    assert shown == [""] * len(shown)
    assert calls == [TextCall(name, arguments)]
