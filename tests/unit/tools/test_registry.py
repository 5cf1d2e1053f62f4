"""ToolRegistry: the schemas offered to the model and the errors of prepare()."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ryan_server.tools import ToolError, ToolRegistry

from .util import write

CONTRACT = {
    "list_files": ({"path", "glob", "maxResults"}, set()),
    "read_file": ({"path", "startLine", "endLine"}, {"path"}),
    "search_files": ({"pattern", "path", "glob", "caseSensitive", "maxResults"}, {"pattern"}),
    "write_file": ({"path", "content"}, {"path", "content"}),
    "edit_file": ({"path", "oldText", "newText", "replaceAll"}, {"path", "oldText", "newText"}),
    "delete_file": ({"path"}, {"path"}),
    "run_command": ({"command", "cwd", "timeoutSeconds"}, {"command"}),
}


def walk(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node, *(d for v in node.values() for d in walk(v))]
    if isinstance(node, list):
        return [d for v in node for d in walk(v)]
    return []


def test_schemas_follow_the_contract(registry: ToolRegistry) -> None:
    schemas = registry.schemas()
    json.dumps(schemas)
    assert registry.names == tuple(CONTRACT)
    assert [s["function"]["name"] for s in schemas] == list(CONTRACT)
    for schema in schemas:
        assert schema["type"] == "function"
        fn = schema["function"]
        params = fn["parameters"]
        properties, required = CONTRACT[fn["name"]]
        assert params["type"] == "object"
        assert set(params["properties"]) == properties
        assert set(params.get("required", [])) == required
        assert params["additionalProperties"] is False
        assert len(fn["description"]) > 40
        for prop in params["properties"].values():
            assert prop["description"] and prop["type"] in ("string", "integer", "number", "boolean")
        for node in walk(params):
            assert "title" not in node and "anyOf" not in node and node.get("default", 0) is not None


def test_schemas_are_valid_json_schema(registry: ToolRegistry) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    for schema in registry.schemas():
        jsonschema.Draft202012Validator.check_schema(schema["function"]["parameters"])


async def test_unknown_tool(registry: ToolRegistry) -> None:
    with pytest.raises(
        ToolError, match="unknown tool 'remove_file'; available: list_files, read_file, search_files"
    ):
        await registry.prepare("remove_file", {})


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("read_file", {}, "missing required argument 'path'"),
        (
            "read_file",
            {"path": "a.txt", "startLine": 0},
            "startLine: Input should be greater than or equal to 1",
        ),
        ("read_file", {"path": "a.txt", "startLine": "ten"}, "startLine: Input should be a valid integer"),
        (
            "read_file",
            {"path": "a.txt", "lines": 3},
            "unknown argument 'lines'.*read_file takes path, startLine?",
        ),
        (
            "read_file",
            {"path": "a.txt", "startLine": 5, "endLine": 2},
            "endLine \\(2\\) is before startLine \\(5\\)",
        ),
        ("search_files", {"pattern": ""}, "pattern: String should have at least 1 character"),
        ("edit_file", {"path": "a.txt", "oldText": "a"}, "missing required argument 'newText'"),
        ("read_file", '{"path": "a.txt"', "not valid JSON"),
        ("read_file", "[1, 2]", "must be a JSON object"),
    ],
)
async def test_bad_arguments_name_the_problem(
    root: Path, registry: ToolRegistry, name: str, arguments: Any, message: str
) -> None:
    write(root, {"a.txt": "a\n"})
    with pytest.raises(ToolError, match=message):
        await registry.prepare(name, arguments)


async def test_lenient_arguments(root: Path, registry: ToolRegistry) -> None:
    write(root, {"a.txt": "a\nb\n"})
    # a JSON string (OpenAI), nulls and empty strings for "not given", snake_case, numbers as strings
    prepared = await registry.prepare("read_file", '{"path": "a.txt", "startLine": "2", "end_line": null}')
    assert prepared.arguments == {"path": "a.txt", "startLine": "2", "end_line": None}
    assert await prepared.run() == "   2| b\n(lines 2-2 of 2)"
    assert await (await registry.prepare("list_files", "")).run() == "a.txt"
    assert await (await registry.prepare("list_files", {"glob": "", "maxResults": None})).run() == "a.txt"
    assert await (await registry.prepare("list_files", {"maxResults": 10**9})).run() == "a.txt"


async def test_approval_messages_for_reads(root: Path, registry: ToolRegistry) -> None:
    write(root, {"src/a.py": "a\n"})
    assert (await registry.prepare("search_files", {"pattern": "foo"})).approval_message() == (
        "Ryan wants to search files for 'foo'"
    )
    assert (await registry.prepare("search_files", {"pattern": "foo", "path": "src"})).approval_message() == (
        "Ryan wants to search files for 'foo' in src"
    )
    assert (
        await registry.prepare("read_file", {"path": "src/a.py"})
    ).approval_message() == "Ryan wants to read src/a.py"
    assert (
        await registry.prepare("list_files", {"path": "src"})
    ).approval_message() == "Ryan wants to list files in src"
    assert not (await registry.prepare("list_files", {})).writes


async def test_no_workspace() -> None:
    from ryan_server.tools import Workspace

    from .conftest import FakeEditor

    registry = ToolRegistry(Workspace([]), FakeEditor())
    with pytest.raises(ToolError, match="no workspace folder is open"):
        await registry.prepare("list_files", {})
