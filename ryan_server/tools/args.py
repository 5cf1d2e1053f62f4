"""The tools' argument models: validation of what the model sends, and the JSON schemas it is offered.

Arguments are camelCase on the wire (snake_case is accepted too), unknown keys are refused, and the
`null`s and empty strings small models send for "not given" are dropped before validation.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel


class ToolArgs(BaseModel):
    """Common configuration: camelCase on the wire, snake_case accepted, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        # Small models often send `"glob": null` or `"startLine": ""` for "not given".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None and not (v == "" and k not in _KEEP_EMPTY)}
        return data


_KEEP_EMPTY = frozenset({"content", "newText", "new_text", "oldText", "old_text", "pattern", "path"})


def _clamp(value: int, high: int) -> int:
    return max(1, min(value, high))


class ListFilesArgs(ToolArgs):
    path: str = Field(
        ".", description="Folder to list, relative to the workspace root. Default: the whole workspace."
    )
    glob: str | None = Field(
        None,
        description="Only list files matching this glob, e.g. '*.py' (matches file names anywhere) "
        "or 'src/**/*.ts' (matches paths from the workspace root).",
    )
    max_results: int = Field(200, description="Most files to return.")

    @field_validator("max_results")
    @classmethod
    def _cap(cls, value: int) -> int:
        return _clamp(value, 5000)


class ReadFileArgs(ToolArgs):
    path: str = Field(description="File to read, relative to the workspace root, e.g. 'src/main.py'.")
    start_line: int | None = Field(None, ge=1, description="First line to read (1-based). Default: 1.")
    end_line: int | None = Field(None, ge=1, description="Last line to read (inclusive). Default: the end.")

    @model_validator(mode="after")
    def _order(self) -> ReadFileArgs:
        if self.start_line is not None and self.end_line is not None and self.end_line < self.start_line:
            raise ValueError(f"endLine ({self.end_line}) is before startLine ({self.start_line})")
        return self


class SearchFilesArgs(ToolArgs):
    pattern: str = Field(
        min_length=1,
        description="Regular expression to search file contents for, e.g. 'def load_config' or 'TODO|FIXME'.",
    )
    path: str = Field(
        ".", description="Folder (or file) to search in, relative to the workspace root. Default: everything."
    )
    glob: str | None = Field(
        None, description="Only search files matching this glob, e.g. '*.py' or 'src/**/*.ts'."
    )
    case_sensitive: bool = Field(
        False, description="Match letter case exactly. Default: false (ignore case)."
    )
    max_results: int = Field(100, description="Most matching lines to return.")

    @field_validator("max_results")
    @classmethod
    def _cap(cls, value: int) -> int:
        return _clamp(value, 2000)


class WriteFileArgs(ToolArgs):
    path: str = Field(
        description="File to create or replace, relative to the workspace root. Missing folders are created."
    )
    content: str = Field(description="The complete new content of the file.")


class DeleteFileArgs(ToolArgs):
    path: str = Field(description="File to delete, relative to the workspace root (not a folder).")


class EditFileArgs(ToolArgs):
    path: str = Field(description="Existing file to change, relative to the workspace root.")
    old_text: str = Field(
        description="The exact text to replace, copied from the file (same whitespace and indentation, "
        "without line numbers). Include enough surrounding lines to make it unique."
    )
    new_text: str = Field(description="The text to put in its place.")
    replace_all: bool = Field(False, description="Replace every occurrence instead of requiring exactly one.")


class RunCommandArgs(ToolArgs):
    command: str = Field(description="The shell command to run, e.g. 'pytest -q' or 'git diff --stat'.")
    cwd: str | None = Field(
        None, description="Folder to run it in, relative to the workspace root. Default: the root."
    )
    timeout_seconds: float | None = Field(
        None,
        gt=0,
        le=3600,
        description="Stop the command after this many seconds. Default: the user's setting.",
    )
