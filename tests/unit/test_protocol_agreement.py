"""The contract is defined once per language (house style 5): `ryan_server/protocol.py`,
`editors/neovim/lua/ryan/protocol.lua` and `editors/vscode/src/protocol.ts`. This checks that the three
agree on the method names, event kinds, error codes, tool statuses, stop reasons and the protocol
version, and that the VS Code settings offer exactly the server's tools.

The Lua and TypeScript files are read as text: each constant table is a flat `key = value` (Lua) or
`key: value` (TypeScript) list, which the regexes below take apart. Names are compared too, loosely
(`DELETE_SESSION`, `delete_session` and `deleteSession` are one name), so a renamed entry is caught
as well as a changed value.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ryan_server import protocol
from ryan_server.tools.specs import SPECS

ROOT = Path(__file__).resolve().parents[2]
LUA = ROOT / "editors" / "neovim" / "lua" / "ryan" / "protocol.lua"
TS = ROOT / "editors" / "vscode" / "src" / "protocol.ts"
PACKAGE_JSON = ROOT / "editors" / "vscode" / "package.json"

Table = dict[str, str | int]

_VALUE = r"""("[^"]*"|'[^']*'|-?\d+)"""


def _value(token: str) -> str | int:
    return token[1:-1] if token[0] in "\"'" else int(token)


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def _entries(body: str, separator: str) -> Table:
    """`{normalized name: value}` of a table body, comments removed."""
    body = re.sub(r"--[^\n]*|//[^\n]*|/\*.*?\*/", "", body, flags=re.S)
    pairs = re.findall(rf"""\b([A-Za-z_]\w*)\s*{separator}\s*{_VALUE}\s*,?""", body)
    return {_norm(name): _value(value) for name, value in pairs}


def lua_table(source: str, name: str) -> Table:
    match = re.search(rf"^M\.{name}\s*=\s*\{{(.*?)^\}}", source, flags=re.M | re.S)
    assert match, f"{LUA.name}: no table M.{name}"
    return _entries(match.group(1), "=")


def ts_object(source: str, name: str) -> Table:
    match = re.search(rf"^export const {name}\s*=\s*\{{(.*?)^\}}\s*as const;", source, flags=re.M | re.S)
    assert match, f"{TS.name}: no `export const {name} = {{...}} as const`"
    return _entries(match.group(1), ":")


def ts_union(source: str, name: str) -> set[str]:
    match = re.search(rf"^export type {name}\s*=\s*([^;]*);", source, flags=re.M)
    assert match, f"{TS.name}: no `export type {name} = ...`"
    return {str(_value(v)) for v in re.findall(_VALUE, match.group(1))}


def lua_scalar(source: str, name: str) -> int:
    match = re.search(rf"^M\.{name}\s*=\s*(\d+)", source, flags=re.M)
    assert match, f"{LUA.name}: no M.{name}"
    return int(match.group(1))


def ts_scalar(source: str, name: str) -> int:
    match = re.search(rf"^export const {name}\s*=\s*(\d+)\s*;", source, flags=re.M)
    assert match, f"{TS.name}: no `export const {name} = <number>;`"
    return int(match.group(1))


def python_class(cls: type) -> Table:
    return {_norm(k): v for k, v in vars(cls).items() if k.isupper()}


PY_METHODS: Table = {
    _norm(name): getattr(protocol, name)
    for name in (
        "CHAT",
        "MODELS",
        "STATUS",
        "SESSIONS",
        "SESSION",
        "DELETE_SESSION",
        "SWITCH_BRANCH",
        "CHECKPOINTS",
        "DIFF",
        "RESTORE",
        "REDO",
    )
}


@pytest.fixture(scope="module")
def lua() -> str:
    return LUA.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ts() -> str:
    return TS.read_text(encoding="utf-8")


def test_the_parsers_see_whole_tables(lua: str, ts: str) -> None:
    """A guard for the regexes: a table they cut short would make the comparisons below vacuous."""
    assert len(lua_table(lua, "method")) == len(re.findall(r'"(?:ryan|\$|window|workspace)/', lua))
    assert len(ts_object(ts, "Method")) == len(PY_METHODS)


def test_protocol_version(lua: str, ts: str) -> None:
    versions = {
        "protocol.py": protocol.PROTOCOL_VERSION,
        "protocol.lua": lua_scalar(lua, "VERSION"),
        "protocol.ts": ts_scalar(ts, "PROTOCOL_VERSION"),
    }
    assert len(set(versions.values())) == 1, versions


def test_method_names(lua: str, ts: str) -> None:
    # protocol.lua also names the LSP methods the plugin handles itself ($/progress, window/...).
    lua_methods = {k: v for k, v in lua_table(lua, "method").items() if str(v).startswith("ryan/")}
    assert lua_methods == PY_METHODS
    assert ts_object(ts, "Method") == PY_METHODS


def test_event_kinds(lua: str, ts: str) -> None:
    expected = python_class(protocol.EventKind)
    assert lua_table(lua, "event") == expected
    assert ts_object(ts, "EventKind") == expected


def test_error_codes(lua: str, ts: str) -> None:
    expected = python_class(protocol.ErrorCode)
    assert lua_table(lua, "error") == expected
    assert ts_object(ts, "ErrorCode") == expected


def test_tool_statuses_and_stop_reasons(lua: str, ts: str) -> None:
    assert lua_table(lua, "tool_status") == python_class(protocol.ToolStatus)
    assert ts_union(ts, "ToolStatus") == set(python_class(protocol.ToolStatus).values())
    assert lua_table(lua, "stop_reason") == python_class(protocol.StopReason)


def test_vscode_settings_offer_the_servers_tools() -> None:
    settings = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["contributes"]["configuration"]
    auto_approve = settings["properties"]["ryan.tools.autoApprove"]
    approvable = tuple(spec.name for spec in SPECS if spec.settings_may_approve)  # not run_command
    assert tuple(auto_approve["items"]["enum"]) == approvable
    assert set(auto_approve["default"]) <= set(protocol.TOOL_NAMES)
