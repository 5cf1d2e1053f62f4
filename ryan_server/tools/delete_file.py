"""delete_file: delete a file (the approval shows what is removed; a checkpoint keeps its text)."""

from __future__ import annotations

from .args import DeleteFileArgs
from .plan import ToolContext
from .text import count_lines, plural
from .workspace import ToolError
from .write import WritePlan


class DeleteFile(WritePlan):
    def __init__(self, ctx: ToolContext, args: DeleteFileArgs) -> None:
        self.args = args
        super().__init__(ctx, args.path)

    def compute(self, base: str | None) -> tuple[str | None, int]:
        if base is None:
            raise ToolError(f"{self.ctx.workspace.display(self.target)!r} does not exist; nothing to delete")
        return None, 1

    def approval_message(self) -> str:
        shown = self.ctx.workspace.display(self.target)
        return f"Ryan wants to delete {shown} ({plural(count_lines(self.base or ''), 'line')})"

    def result(
        self, shown: str, base: str | None, new_text: str | None, replaced: int, delta: tuple[int, int]
    ) -> str:
        return f"Deleted {shown} ({plural(count_lines(base or ''), 'line')})"
