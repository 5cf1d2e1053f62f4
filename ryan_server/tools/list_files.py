"""list_files: the files in a workspace folder and below, .gitignore applied, filtered by an optional glob."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from .args import ListFilesArgs
from .globs import GlobFilter
from .plan import Plan, ToolContext, in_thread

LIST_COUNT_LIMIT = 100_000  # past this many extra files, list_files stops counting


class ListFiles(Plan):
    def __init__(self, ctx: ToolContext, args: ListFilesArgs) -> None:
        self.ctx, self.args = ctx, args
        self.target = ctx.workspace.resolve(args.path)
        self.glob = GlobFilter.parse(args.glob) if args.glob else None

    def approval_message(self) -> str:
        where = self.ctx.workspace.display(self.target)
        return "Ryan wants to list files" + ("" if where == "." else f" in {where}")

    async def run(self) -> str:
        return await in_thread(self._list)

    def _list(self, cancel: threading.Event) -> str:
        ws = self.ctx.workspace
        target = ws.resolve(self.args.path)
        root = ws.root_of(target)
        assert root is not None
        files: Iterator[Path] = iter([target]) if target.is_file() else ws.walk_files(target, cancel)
        shown: list[str] = []
        more = 0
        for path in files:
            if self.glob is not None and not self.glob.matches(path.relative_to(root).as_posix()):
                continue
            if len(shown) < self.args.max_results:
                shown.append(ws.display(path))
            else:
                more += 1
                if more >= LIST_COUNT_LIMIT:
                    break
        where = ws.display(target)
        if not shown:
            return f"No files in {where}" + (f" match {self.args.glob!r}" if self.glob else "") + "."
        if more:
            count = f"{more}+" if more >= LIST_COUNT_LIMIT else str(more)
            shown.append(f"… {count} more (narrow with path or glob)")
        return "\n".join(shown)
