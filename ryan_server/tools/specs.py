"""The one table of built-in tools: each one's name, description, argument model and plan.

The registry offers the tools to the model in this order (keep it fixed: the tool list is part of
every request's prefix, which the backends cache).
"""

from __future__ import annotations

from dataclasses import dataclass

from .args import (
    DeleteFileArgs,
    EditFileArgs,
    ListFilesArgs,
    ReadFileArgs,
    RunCommandArgs,
    SearchFilesArgs,
    ToolArgs,
    WriteFileArgs,
)
from .delete_file import DeleteFile
from .edit_file import EditFile
from .list_files import ListFiles
from .plan import Plan
from .read_file import ReadFile
from .run_command import RunCommand
from .search_files import SearchFiles
from .write_file import WriteFile


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool as the model is offered it, and the plan that prepares and runs a call of it."""

    name: str
    description: str
    args: type[ToolArgs]
    plan: type[Plan]

    @property
    def writes(self) -> bool:
        """Whether the tool changes files (such calls ask first and never run beside others)."""
        return self.plan.writes

    @property
    def settings_may_approve(self) -> bool:
        """Whether `tools.autoApprove` may let it run unasked (not run_command: see tools.allowCommands)."""
        return self.plan.settings_may_approve


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "list_files",
        "List the files in a workspace folder and its subfolders (skipping files ignored by .gitignore). "
        "Use it to find out which files exist before reading them.",
        ListFilesArgs,
        ListFiles,
    ),
    ToolSpec(
        "read_file",
        "Read a text file from the workspace. Returns its lines prefixed with line numbers ('  12| text'); "
        "the numbers are not part of the file. For large files, read a range with startLine/endLine.",
        ReadFileArgs,
        ReadFile,
    ),
    ToolSpec(
        "search_files",
        "Search the contents of workspace files for a regular expression, like grep. "
        "Returns matching lines as 'path:line: text'. Use it to find where something is defined or used.",
        SearchFilesArgs,
        SearchFiles,
    ),
    ToolSpec(
        "write_file",
        "Create a new file, or replace the entire content of an existing file. To change part of an existing "
        "file, use edit_file instead.",
        WriteFileArgs,
        WriteFile,
    ),
    ToolSpec(
        "edit_file",
        "Change part of an existing file: replace oldText, which must occur in the file exactly once "
        "(unless replaceAll is true), with newText. Read the file first and copy oldText exactly.",
        EditFileArgs,
        EditFile,
    ),
    ToolSpec(
        "delete_file",
        "Delete a file from the workspace (not a folder). The user is asked first.",
        DeleteFileArgs,
        DeleteFile,
    ),
    ToolSpec(
        "run_command",
        "Run a shell command in the workspace (tests, a build, git) and get its output and exit code. "
        "The user is asked first. Use it to check your changes, e.g. run the tests.",
        RunCommandArgs,
        RunCommand,
    ),
)
