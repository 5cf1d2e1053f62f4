"""What every tool is built on: the context it works in and the `Plan` it prepares.

Each tool is prepared first (arguments validated, paths checked against the sandbox, the size of a
change measured for the approval question) and run later, after approval; running re-resolves and
re-reads everything, so what lands on disk is decided at run time, never from a stale check.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import anyio

from ..ports import Editor
from .ripgrep import find_rg
from .workspace import ToolError, Workspace

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CommandLimits:
    """What `run_command` may do: the allow-list (`tools.allowCommands`), its time limit, how much of
    its output the model gets, and the secrets kept out of its environment."""

    allow: tuple[str, ...] = ()
    timeout: float = 120.0
    max_output_bytes: int = 50_000
    secrets: tuple[str, ...] = ()


class WriteJournal(Protocol):
    """Where a chat notes its writes (its checkpoint): the file's text before the write and after it
    (None: the file does not exist). `before_write` is awaited before anything is written."""

    async def before_write(self, path: Path, text: str | None) -> None: ...

    async def after_write(self, path: Path, text: str | None) -> None: ...


class ToolContext:
    """What the tools work with: the sandboxed workspace, the editor port, the limits, and the
    journal that notes writes (set by the engine for a chat; None: writes are not noted)."""

    def __init__(
        self,
        workspace: Workspace,
        editor: Editor,
        *,
        max_read_bytes: int,
        search_backend: str = "auto",
        commands: CommandLimits | None = None,
    ) -> None:
        if search_backend not in ("auto", "rg", "python"):
            raise ValueError(f"search_backend must be 'auto', 'rg' or 'python', not {search_backend!r}")
        self.workspace = workspace
        self.editor = editor
        self.max_read_bytes = max_read_bytes
        self.search_backend = search_backend
        self.commands = commands or CommandLimits()
        self.journal: WriteJournal | None = None

    def rg(self) -> str | None:
        if self.search_backend == "python":
            return None
        found = find_rg()
        if found is None and self.search_backend == "rg":
            raise ToolError("ripgrep (rg) is not installed")
        return found


class Plan(ABC):
    """A prepared tool call: what to ask the user, and the work to do once allowed.

    `auto_approved`: the call may run without asking (a plan that knows, like an allowed command);
    `approval_key`: what "Allow for session" remembers (the tool's name unless the plan says);
    `output`: where a plan that produces output as it runs sends it (set by the engine)."""

    writes: ClassVar[bool] = False
    settings_may_approve: ClassVar[bool] = True  # tools.autoApprove can let it run unasked
    auto_approved: bool = False
    approval_key: str | None = None
    output: Callable[[str], None] | None = None

    @abstractmethod
    def __init__(self, ctx: ToolContext, args: Any) -> None:
        """Validate the call against the workspace (raise ToolError); do nothing yet."""

    async def load(self) -> None:  # noqa: B027  (optional: most plans need nothing more)
        """Read what the question needs (the editor's text of a file, say); may raise ToolError."""

    @abstractmethod
    def approval_message(self) -> str: ...

    def approval_detail(self) -> str:
        """What to show under the question (a write's diff); empty for most tools."""
        return ""

    @abstractmethod
    async def run(self) -> str: ...


async def in_thread(fn: Callable[[threading.Event], T]) -> T:
    """Run `fn(cancel)` in a worker thread; if this task is cancelled, tell `fn` to stop (and do not
    wait for it: a long search must not hold up a cancelled chat)."""
    cancel = threading.Event()
    try:
        return await anyio.to_thread.run_sync(fn, cancel, abandon_on_cancel=True)
    finally:
        cancel.set()
