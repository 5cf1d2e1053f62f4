"""edit_file: replace text that occurs exactly once in a file (or every occurrence, when asked)."""

from __future__ import annotations

from .args import EditFileArgs
from .plan import ToolContext
from .text import delta_text, plural
from .workspace import ToolError
from .write import WritePlan


class EditFile(WritePlan):
    def __init__(self, ctx: ToolContext, args: EditFileArgs) -> None:
        self.args = args
        if args.old_text == "":
            raise ToolError(
                "oldText is empty; give the exact text to replace (to create a file, use write_file)"
            )
        super().__init__(ctx, args.path)

    def compute(self, base: str | None) -> tuple[str | None, int]:
        shown = self.ctx.workspace.display(self.target)
        if base is None:
            raise ToolError(f"{shown!r} does not exist; use write_file to create it")
        old, new = self.args.old_text, self.args.new_text
        count = base.count(old)
        if count == 0 and "\r\n" in base and "\r" not in old and "\n" in old:
            # The model saw the file without its \r (read_file shows lines); match CRLF files too.
            old, new = old.replace("\n", "\r\n"), new.replace("\r\n", "\n").replace("\n", "\r\n")
            count = base.count(old)
        if count == 0:
            raise ToolError(
                f"oldText was not found in {shown}; read the file again and copy the text exactly "
                "(whitespace and indentation included, without line numbers)"
            )
        if count > 1 and not self.args.replace_all:
            raise ToolError(
                f"oldText occurs {count} times in {shown}; give more surrounding context to make it unique, "
                "or set replaceAll to replace them all"
            )
        return base.replace(old, new), count

    def approval_message(self) -> str:
        shown = self.ctx.workspace.display(self.target)
        what = "" if self.replaced == 1 else f": replace {self.replaced} occurrences"
        return f"Ryan wants to edit {shown}{what} ({delta_text(self.delta)})"

    def result(
        self, shown: str, base: str | None, new_text: str | None, replaced: int, delta: tuple[int, int]
    ) -> str:
        return f"Edited {shown}: replaced {plural(replaced, 'occurrence')} ({delta_text(delta)})"
