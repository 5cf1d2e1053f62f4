"""The chat engine's entry point to the tools: their schemas for the model, and prepare → approve → run.

`ToolRegistry.prepare` turns a model's tool call (arguments as an object, or as the JSON string
OpenAI-compatible servers send) into a `PreparedCall`, or raises `ToolError` with a message the model
can act on: an unknown tool, malformed JSON, arguments that fail validation (naming the field), a
path the sandbox refuses, an edit whose `oldText` does not occur exactly once. The engine asks for
approval with `approval_message()` where needed, then awaits `run()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..ports import Editor
from ..settings import Settings
from .plan import CommandLimits, Plan, ToolContext
from .specs import SPECS, ToolSpec
from .workspace import ToolError, Workspace

if TYPE_CHECKING:
    from .mcp import McpHub, McpTool

__all__ = ["PreparedCall", "ToolError", "ToolRegistry"]


def _clean_schema(node: Any) -> Any:
    """Drop pydantic's `title` noise and turn `X | None` into plain `X`, which small models handle better."""
    if isinstance(node, list):
        return [_clean_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _clean_schema(prop) for name, prop in value.items()}
        else:
            out[key] = _clean_schema(value)
    any_of = out.get("anyOf")
    if isinstance(any_of, list):
        kept = [s for s in any_of if s != {"type": "null"}]
        if len(kept) == 1 and len(kept) < len(any_of):
            del out["anyOf"]
            out = {**kept[0], **out}
            if out.get("default", 0) is None:
                del out["default"]
    return out


def _validation_message(name: str, spec: ToolSpec, exc: ValidationError) -> str:
    fields = ", ".join(
        (info.alias or field) + ("" if info.is_required() else "?")
        for field, info in spec.args.model_fields.items()
    )
    problems: list[str] = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in err["loc"])
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown argument {loc!r}")
        elif err["type"] == "missing":
            problems.append(f"missing required argument {loc!r}")
        elif loc:
            problems.append(f"{loc}: {err['msg']}")
        else:
            problems.append(str(err["msg"]).removeprefix("Value error, "))
    return f"invalid arguments for {name}: " + "; ".join(problems) + f" ({name} takes {fields})"


class PreparedCall:
    """A validated, sandbox-checked tool call, ready to be approved and run.

    `auto_approved`: the settings allow it without asking; `server` and `tool` name an MCP tool's
    server and its own name (None for the built-in tools)."""

    def __init__(
        self,
        name: str,
        arguments: dict[str, Any],
        writes: bool,
        plan: Plan,
        *,
        auto_approved: bool = False,
        server: str | None = None,
        tool: str | None = None,
    ) -> None:
        self.name = name
        self.arguments = arguments
        self.writes = writes
        self.auto_approved = auto_approved or plan.auto_approved
        self.approval_key = plan.approval_key or name  # what "Allow for session" remembers
        self.server = server
        self.tool = tool
        self._plan = plan

    def stream_output(self, send: Callable[[str], None]) -> None:
        """Send output to `send` as the call produces it (for the tools that do: run_command)."""
        self._plan.output = send

    def approval_message(self) -> str:
        """What to ask the user, naming the tool's target and the size of the change."""
        return self._plan.approval_message()

    def question(self) -> str:
        """The approval question as the user sees it, naming the tool (and an MCP tool's server)."""
        message = self._plan.approval_message()
        question = message if self.server else f"{self.name}: {message}"
        detail = self._plan.approval_detail()
        return f"{question}\n\n{detail}" if detail else question

    async def run(self) -> str:
        """Do it, re-checking paths and re-reading files first; the output is for the model."""
        return await self._plan.run()

    def __repr__(self) -> str:
        return f"PreparedCall({self.name!r}, {self.arguments!r})"


class ToolRegistry:
    """The workspace tools offered to the model."""

    def __init__(
        self,
        workspace: Workspace,
        editor: Editor,
        *,
        max_read_bytes: int = 1_000_000,
        search_backend: str = "auto",
        auto_approve: Sequence[str] = (),
        commands: CommandLimits | None = None,
    ) -> None:
        """`search_backend`: "auto" (rg when found, else Python), "rg" or "python" (tests and benchmarks);
        `auto_approve`: the tools that run without asking (`tools.autoApprove`)."""
        self.workspace = workspace
        self.context = ToolContext(
            workspace, editor, max_read_bytes=max_read_bytes, search_backend=search_backend, commands=commands
        )
        self._specs = {spec.name: spec for spec in SPECS}
        self._auto_approve = frozenset(auto_approve)
        self._hub: McpHub | None = None
        self._mcp: dict[str, McpTool] = {}
        self.names: tuple[str, ...] = tuple(self._specs)

    @classmethod
    def for_settings(cls, roots: Sequence[Path], settings: Settings, editor: Editor) -> ToolRegistry:
        """The tools over the workspace folders `roots`, limited and approved as `settings` say (how
        every front end builds them)."""
        tools = settings.tools
        commands = CommandLimits(
            tuple(tools.allow_commands),
            tools.command_timeout,
            tools.max_output_bytes,
            tuple(secret for secret in (settings.api_key_value,) if secret),
        )
        return cls(
            Workspace(roots),
            editor,
            max_read_bytes=tools.max_read_bytes,
            auto_approve=tools.auto_approve,
            commands=commands,
        )

    def add_mcp(self, hub: McpHub, max_tools: int) -> list[str]:
        """Offer the MCP servers' tools too, up to `max_tools` tools in all; returns the names left out."""
        self._hub = hub
        room = max(max_tools - len(self._specs), 0)
        tools = hub.tools()
        self._mcp = {tool.name: tool for tool in tools[:room]}
        self.names = (*self._specs, *self._mcp)
        return [tool.name for tool in tools[room:]]

    def origin(self, name: str) -> tuple[str | None, str | None]:
        """An MCP tool's server and own name; (None, None) for the built-in tools."""
        tool = self._mcp.get(name)
        return (tool.server, tool.tool) if tool is not None else (None, None)

    def schemas(self) -> list[dict[str, Any]]:
        """The tools in the shape Ollama's and OpenAI's chat APIs both accept."""
        built_in = [
            _function(spec.name, spec.description, _clean_schema(spec.args.model_json_schema(by_alias=True)))
            for spec in SPECS
        ]
        return built_in + [_function(t.name, t.description, t.input_schema) for t in self._mcp.values()]

    async def prepare(self, name: str, arguments: dict[str, Any] | str) -> PreparedCall:
        """Validate a call and read what its question needs (`Plan.load`); raises ToolError."""
        spec = self._specs.get(name)
        if spec is None and name not in self._mcp:
            raise ToolError(f"unknown tool {name!r}; available: {', '.join(self.names)}")
        if isinstance(arguments, str):
            if not arguments.strip():
                arguments = {}
            else:
                try:
                    arguments = json.loads(arguments)
                except json.JSONDecodeError as exc:
                    raise ToolError(
                        f"the arguments for {name} are not valid JSON ({exc.msg} at character {exc.pos}); "
                        "send them as a JSON object"
                    ) from exc
        if not isinstance(arguments, dict):
            raise ToolError(f"the arguments for {name} must be a JSON object, not {type(arguments).__name__}")
        if spec is None:
            return self._prepare_mcp(name, arguments)
        try:
            args = spec.args.model_validate(arguments)
        except ValidationError as exc:
            raise ToolError(_validation_message(name, spec, exc)) from exc
        plan = spec.plan(self.context, args)
        await plan.load()
        by_settings = name in self._auto_approve and spec.settings_may_approve
        return PreparedCall(name, arguments, spec.writes, plan, auto_approved=by_settings)

    def _prepare_mcp(self, name: str, arguments: dict[str, Any]) -> PreparedCall:
        from .mcp import McpCall

        tool = self._mcp[name]
        assert self._hub is not None
        connection = self._hub.connection(tool.server)
        if connection is None:
            raise ToolError(f"the MCP server '{tool.server}' was removed from the settings")
        approved = connection.config.approved_tools
        return PreparedCall(
            name,
            arguments,
            True,
            McpCall(connection, tool, arguments, self.context.max_read_bytes),
            auto_approved=tool.tool in approved or name in approved or name in self._auto_approve,
            server=tool.server,
            tool=tool.tool,
        )


def _function(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    function = {"name": name, "description": description, "parameters": parameters}
    return {"type": "function", "function": function}
