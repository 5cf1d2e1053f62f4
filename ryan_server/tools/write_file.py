"""write_file: create a file, or replace the whole content of one."""

from __future__ import annotations

from .args import WriteFileArgs
from .plan import ToolContext
from .text import count_lines, delta_text, plural
from .write import WritePlan


class WriteFile(WritePlan):
    def __init__(self, ctx: ToolContext, args: WriteFileArgs) -> None:
        self.args = args
        super().__init__(ctx, args.path)

    def compute(self, base: str | None) -> tuple[str | None, int]:
        return self.args.content, 1

    def approval_message(self) -> str:
        shown = self.ctx.workspace.display(self.target)
        if self.base is None:
            return f"Ryan wants to create {shown} ({plural(count_lines(self.new_text or ''), 'line')})"
        return f"Ryan wants to overwrite {shown} ({delta_text(self.delta)})"

    def result(
        self, shown: str, base: str | None, new_text: str | None, replaced: int, delta: tuple[int, int]
    ) -> str:
        lines = plural(count_lines(new_text or ""), "line")
        if base is None:
            return f"Wrote {lines} to {shown} (created)"
        return f"Wrote {lines} to {shown} (replaced its content: {delta_text(delta)})"
