"""The chat engine's entry point to the tools: their schemas for the model, and prepare → approve → run.

`ToolRegistry.prepare` turns a model's tool call (arguments as an object, or as the JSON string
OpenAI-compatible servers send) into a `PreparedCall`, or raises `ToolError` with a message the model
can act on: an unknown tool, malformed JSON, arguments that fail validation (naming the field), a
path the sandbox refuses, an edit whose `oldText` does not occur exactly once. The engine asks for
approval with `approval_message()` where needed, then awaits `run()`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from ..ports import Editor
from .plan import Plan, ToolContext
from .specs import SPECS, ToolSpec
from .workspace import ToolError, Workspace

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
    """A validated, sandbox-checked tool call, ready to be approved and run."""

    def __init__(self, name: str, arguments: dict[str, Any], writes: bool, plan: Plan) -> None:
        self.name = name
        self.arguments = arguments
        self.writes = writes
        self._plan = plan

    def approval_message(self) -> str:
        """What to ask the user, naming the tool's target and the size of the change."""
        return self._plan.approval_message()

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
    ) -> None:
        """`search_backend`: "auto" (rg when found, else Python), "rg" or "python" (tests and benchmarks)."""
        self.workspace = workspace
        self.context = ToolContext(
            workspace, editor, max_read_bytes=max_read_bytes, search_backend=search_backend
        )
        self._specs = {spec.name: spec for spec in SPECS}
        self.names: tuple[str, ...] = tuple(self._specs)

    def schemas(self) -> list[dict[str, Any]]:
        """The tools in the shape Ollama's and OpenAI's chat APIs both accept."""
        return [
            {
                "type": "function",
                "function": {
                    "name": spec.name,
                    "description": spec.description,
                    "parameters": _clean_schema(spec.args.model_json_schema(by_alias=True)),
                },
            }
            for spec in SPECS
        ]

    def prepare(self, name: str, arguments: dict[str, Any] | str) -> PreparedCall:
        spec = self._specs.get(name)
        if spec is None:
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
        try:
            args = spec.args.model_validate(arguments)
        except ValidationError as exc:
            raise ToolError(_validation_message(name, spec, exc)) from exc
        plan = spec.plan(self.context, args)
        return PreparedCall(name, arguments, spec.writes, plan)
