"""Tool calls that a local model wrote into its answer text instead of the native `tool_calls` field.

Qwen/Hermes write `<tool_call>{"name": …, "arguments": …}</tool_call>` anywhere in the answer (Qwen3
Coder puts `<function=…><parameter=…>` inside the same tags); Llama 3.x answers with nothing but
`{"name": …, "parameters": …}`, sometimes in a ```json fence; Mistral writes `[TOOL_CALLS]` and a JSON
list of calls (newer Mistral models: `[TOOL_CALLS]name[ARGS]{…}`).

`TextCallParser` reads one turn's answer as it streams. `feed` returns what can be shown now and holds
back only what may still turn into a call: a tail that may start a marker, a marked call until it ends,
an answer that opens like a call (`{"name"…`, ```json) until its object closes. What is shown never holds
any part of a call, and neither it nor the calls depend on how the text was split into pieces. What
follows a marker is always a call (with an `error` when it cannot be read); a bare JSON answer is a call
only when it names one of the tools, otherwise it is what the user asked for.

`feed` runs on every streamed delta: ordinary text costs two substring tests, and nothing is re-scanned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

__all__ = ["TextCall", "TextCallParser"]

OPEN = "<tool_call>"
CLOSE = "</tool_call>"
MISTRAL = "[TOOL_CALLS]"
FENCE = "```"

_DECODER = json.JSONDecoder(strict=False)  # models put raw newlines and tabs inside JSON strings
_JSON_SPECIAL = re.compile(r'["\\{}\[\]]')
_NAME = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')
_FUNCTION = re.compile(r"<function=([^>\n]+)>(.*?)(?:</function>|$)", re.S)
_PARAMETER = re.compile(r"<parameter=([^>\n]+)>\n?(.*?)\n?(?:</parameter>|(?=<parameter=)|$)", re.S)
_MISTRAL_NAMED = re.compile(r"\s*([^\s\[\]{}]+)\s*(?:\[CALL_ID\][^\[]*)?\[ARGS\](.*)", re.S)
# The keys a bare Llama-style call may have: an object with any other key is an answer, not a call.
_BARE_KEYS = frozenset({"name", "arguments", "parameters", "type", "id", "function"})
_LONGEST_KEY = max(map(len, _BARE_KEYS))

_Step = Callable[[str, list[str]], str]


@dataclass(frozen=True, slots=True)
class TextCall:
    """A tool call the model wrote as text. `arguments` is a dict, or the raw text when it was not a
    JSON object; `error` (set only for calls inside explicit markers that could not be read) says what
    was wrong."""

    name: str
    arguments: dict[str, Any] | str
    error: str | None = None


class TextCallParser:
    """Splits one model turn's answer text into what is shown and the tool calls written in it: show
    what `feed` returns for each text delta, and what `finish` returns when the turn ends. One per turn.

    A small state machine: `_step`, the current state's method, consumes some text, appends what may be
    shown to `out` and returns the rest (having moved to another state unless it consumed everything).
    """

    __slots__ = tuple("_calls _candidate _depth _escape _fenced _held _in_string _line _names".split())
    __slots__ += tuple("_object_at _plain _step _tail _ticks".split())

    def __init__(self, tool_names: Collection[str]) -> None:
        self._names = frozenset(tool_names)
        self._calls: list[TextCall] = []
        self._step: _Step = self._lead
        self._plain = False  # in prose with nothing held: a piece without "<" or "[" goes straight out
        self._tail = ""  # prose: a possible start of a marker; in a call: the end, for a split "</tool_call>"
        self._held: list[str] = []  # the answer's opening held back, or the text of a marked call
        self._object_at = 0  # where in `_held` the bare object starts
        self._fenced = False
        self._line = ""  # the opening fence's first line so far
        self._ticks = 0  # backticks of the closing fence seen
        self._candidate: TextCall | None = None  # the bare object, when it is a call of a known tool
        self._depth = 0  # the JSON being followed: bracket depth, inside a string, after a backslash
        self._in_string = False
        self._escape = False

    @property
    def calls(self) -> list[TextCall]:
        """The calls recognised so far, in the order written."""
        return list(self._calls)

    def feed(self, text: str) -> str:
        """Take the next piece of the turn's answer text; return what can be shown now (never any part
        of a call)."""
        if self._plain and "<" not in text and "[" not in text:
            return text
        out: list[str] = []
        while text:
            text = self._step(text, out)
        return "".join(out)

    def finish(self) -> str:
        """The turn ended: return the held-back text that turned out not to be a call (and record the
        last calls)."""
        step, held, tail = self._step, "".join(self._held), self._tail
        self._step, self._held, self._tail, self._plain = self._drop, [], "", False
        if step == self._text:
            return tail
        if step == self._tag or step == self._list_lead or step == self._list:
            self._calls += _marked_calls(held, complete=False)
        elif step == self._list_named:
            self._calls += _mistral_named_calls(held)
        elif (step == self._after or step == self._fence_close) and self._candidate is not None:
            self._calls.append(self._candidate)  # a fence cut short by the end of the turn still counts
        elif step != self._drop:
            return held + self._line
        return ""

    # The answer's opening: a bare JSON object or a json fence may be a Llama-style call.

    def _lead(self, text: str, out: list[str]) -> str:
        rest = self._hold_space(text)
        if not rest:
            return ""
        if rest[0] == "{":
            self._object_at = len(self._held)
            self._held.append("{")
            self._step = self._key
            return rest[1:]
        if rest[0] == "`" and not self._fenced:
            self._step = self._fence
            return rest
        return self._release(rest, out)

    def _fence(self, text: str, out: list[str]) -> str:
        line = self._line
        for i, char in enumerate(text):
            if char == "\n" and len(line) >= len(FENCE) and line[3:].strip().lower() in ("", "json"):
                self._held.append(line + char)
                self._line, self._fenced, self._step = "", True, self._lead
                return text[i + 1 :]
            line += char
            if char == "\n" or not _may_open_fence(line):
                self._held.append(line[:-1])
                self._line = ""
                return self._release(text[i:], out)
        self._line = line
        return ""

    def _key(self, text: str, out: list[str]) -> str:
        rest = self._hold_space(text)
        if not rest:
            return ""
        if rest[0] != '"':  # not an object with keys: let the prose out at once
            return self._release(rest, out)
        self._held.append('"')
        self._step = self._first_key
        return rest[1:]

    def _first_key(self, text: str, out: list[str]) -> str:
        """A call's first key is one of `_BARE_KEYS`: any other object (a JSON answer) goes out at once."""
        room = _LONGEST_KEY - len(self._line)
        end = text.find('"', 0, room + 1)
        if end < 0 and len(text) <= room:
            self._line += text
            return ""
        cut = room if end < 0 else end + 1
        key, self._line = self._line + text[:cut], ""
        self._held.append(key)
        if end < 0 or key[:-1] not in _BARE_KEYS:
            return self._release(text[cut:], out)
        self._depth, self._in_string, self._escape = 1, False, False
        self._step = self._object
        return text[cut:]

    def _object(self, text: str, out: list[str]) -> str:
        end = self._scan(text)
        if end < 0:
            self._held.append(text)
            return ""
        self._held.append(text[:end])
        self._candidate = self._bare_call("".join(self._held[self._object_at :]))
        if self._candidate is None:
            return self._release(text[end:], out)
        self._ticks = 0
        self._step = self._fence_close if self._fenced else self._after
        return text[end:]

    def _fence_close(self, text: str, out: list[str]) -> str:
        for i, char in enumerate(text):
            if char == "`":
                self._ticks += 1
                if self._ticks == len(FENCE):
                    self._held.append(text[: i + 1])
                    self._step = self._after
                    return text[i + 1 :]
            elif self._ticks or not char.isspace():
                self._held.append(text[:i])
                return self._release(text[i:], out)
        self._held.append(text)
        return ""

    def _after(self, text: str, out: list[str]) -> str:
        rest = self._hold_space(text)
        return self._release(rest, out) if rest else ""

    def _hold_space(self, text: str) -> str:
        rest = text.lstrip()
        if len(rest) < len(text):
            self._held.append(text[: len(text) - len(rest)])
        return rest

    def _release(self, rest: str, out: list[str]) -> str:
        """What was held is not a call after all: out it goes, and the rest is read as prose."""
        out += self._held
        self._held, self._candidate, self._step = [], None, self._text
        return rest

    def _bare_call(self, text: str) -> TextCall | None:
        try:
            value = _DECODER.decode(text)
        except ValueError:
            return None
        if not isinstance(value, dict) or not value.keys() <= _BARE_KEYS:
            return None
        call = _read_call(value)
        return call if isinstance(call, TextCall) and call.name in self._names else None

    # Prose, and the calls behind explicit markers.

    def _text(self, text: str, out: list[str]) -> str:
        buf = self._tail + text if self._tail else text
        self._tail = ""
        hermes, mistral = buf.find(OPEN), buf.find(MISTRAL)
        if hermes >= 0 or mistral >= 0:
            self._plain = False
            first_mistral = mistral >= 0 and (hermes < 0 or mistral < hermes)
            at, marker, self._step = (
                (mistral, MISTRAL, self._list_lead) if first_mistral else (hermes, OPEN, self._tag)
            )
            out.append(buf[:at])
            return buf[at + len(marker) :]
        cut = _marker_start(buf)
        out.append(buf[:cut])
        self._tail = buf[cut:]
        self._plain = not self._tail
        return ""

    def _tag(self, text: str, out: list[str]) -> str:
        look = self._tail + text
        at = look.find(CLOSE)
        if at < 0:
            self._held.append(text)
            self._tail = look[1 - len(CLOSE) :]
            return ""
        body = "".join(self._held) + text
        end = len(body) - len(look) + at
        self._calls += _marked_calls(body[:end], complete=True)
        self._held, self._tail, self._step = [], "", self._text
        return body[end + len(CLOSE) :]

    def _list_lead(self, text: str, out: list[str]) -> str:
        rest = self._hold_space(text)
        if not rest:
            return ""
        self._depth, self._in_string, self._escape = 0, False, False
        self._step = self._list if rest[0] == "[" or rest[0] == "{" else self._list_named
        return rest

    def _list(self, text: str, out: list[str]) -> str:
        end = self._scan(text)
        if end < 0:
            self._held.append(text)
            return ""
        self._held.append(text[:end])
        self._calls += _marked_calls("".join(self._held), complete=True)
        self._held, self._step = [], self._drop  # what follows Mistral's list is not shown
        return ""

    def _list_named(self, text: str, out: list[str]) -> str:
        self._held.append(text)  # `name[ARGS]{…}` has no end of its own: read when the turn ends
        return ""

    def _drop(self, text: str, out: list[str]) -> str:
        return ""

    def _scan(self, text: str) -> int:
        """Follow the JSON value through `text`: the index just past its end, or -1 when it goes on."""
        skip = 1 if self._escape else 0
        self._escape = False
        depth, in_string = self._depth, self._in_string
        for match in _JSON_SPECIAL.finditer(text):
            at = match.start()
            if at < skip:
                continue
            char = match.group()
            if in_string:
                if char == '"':
                    in_string = False
                elif char == "\\":
                    skip = at + 2
                    self._escape = skip > len(text)
            elif char == '"':
                in_string = True
            elif char == "{" or char == "[":
                depth += 1
            elif char == "}" or char == "]":
                depth -= 1
                if depth == 0:
                    return at + 1
        self._depth, self._in_string = depth, in_string
        return -1


def _marker_start(text: str) -> int:
    """Where the tail of `text` that may still become a marker begins (`len(text)` when none may)."""
    for at in range(max(0, len(text) - len(MISTRAL) + 1), len(text)):
        char = text[at]
        if (char == "<" and OPEN.startswith(text[at:])) or (char == "[" and MISTRAL.startswith(text[at:])):
            return at
    return len(text)


def _may_open_fence(line: str) -> bool:
    if len(line) <= len(FENCE):
        return FENCE.startswith(line)
    return line.startswith(FENCE) and "json".startswith(line[3:].strip().lower())


def _marked_calls(body: str, complete: bool) -> list[TextCall]:
    """The calls in the text of an explicit marker: one JSON object, a JSON list of them, or Qwen3
    Coder's `<function=…>`. `complete`: the call ended; otherwise the turn did, and what follows a
    complete JSON value is dropped."""
    raw = body.strip()
    if raw.startswith("<function="):
        return [_function_call(raw)]
    try:
        value = _DECODER.decode(raw) if complete else _DECODER.raw_decode(raw)[0]
    except json.JSONDecodeError as error:
        problem = f"the tool call is not valid JSON ({error.msg} at character {error.pos})"
        return [_failed(raw, problem if complete else problem + "; the answer ended inside it")]
    items = value if isinstance(value, list) else [value]
    if not items:
        return [_failed(raw, "the tool call is empty")]
    return [_checked(item, raw if len(items) == 1 else json.dumps(item)) for item in items]


def _mistral_named_calls(body: str) -> list[TextCall]:
    calls = []
    for piece in body.split(MISTRAL):
        match = _MISTRAL_NAMED.fullmatch(piece)
        if match is None:
            calls.append(_failed(piece.strip(), "the tool call is neither a JSON list nor name[ARGS]{…}"))
            continue
        try:
            arguments = _DECODER.raw_decode(match[2].strip())[0]
        except json.JSONDecodeError as error:
            problem = f"the tool call's arguments are not valid JSON ({error.msg} at character {error.pos})"
            calls.append(TextCall(match[1], match[2].strip(), problem))
            continue
        calls.append(_checked({"name": match[1], "arguments": arguments}, piece.strip()))
    return calls


def _function_call(raw: str) -> TextCall:
    function = _FUNCTION.match(raw)
    if function is None:
        return _failed(raw, 'the tool call has no "name"')
    arguments = {p[1].strip(): p[2] for p in _PARAMETER.finditer(function[2])}
    return TextCall(function[1].strip(), arguments)


def _checked(value: Any, raw: str) -> TextCall:
    call = _read_call(value)
    return call if isinstance(call, TextCall) else _failed(raw, call)


def _read_call(value: Any) -> TextCall | str:
    """The call in a decoded JSON value, or what is wrong with it."""
    if isinstance(value, dict) and "name" not in value and isinstance(value.get("function"), dict):
        value = value["function"]  # OpenAI's shape: {"type": "function", "function": {...}}
    if not isinstance(value, dict):
        return "the tool call is not a JSON object"
    name = value.get("name")
    if not isinstance(name, str) or not name:
        return 'the tool call has no "name"'
    arguments = value.get("arguments", value.get("parameters")) or {}
    if not isinstance(arguments, dict | str):
        return 'the tool call\'s "arguments" is not a JSON object'
    return TextCall(name, arguments)


def _failed(raw: str, problem: str) -> TextCall:
    """A call that could not be read, under the name it seems to have."""
    name = "tool_call"
    match = _NAME.search(raw)
    if match is not None:
        try:
            name = _DECODER.decode(f'"{match[1]}"')
        except ValueError:
            name = match[1]
    return TextCall(name, raw, problem)
