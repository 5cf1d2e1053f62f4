"""Checkpoints of a chat's writes, and going back to them: list, diff, restore (undo) and redo.

`ChatJournal` is the tools' `WriteJournal` for one chat: the first time the chat's tools write a file,
its content before is stored (awaited, so it is in history before the file changes), and after each
write what Ryan left. `Checkpoints` answers the requests about them. A restore stores what it replaces
before it writes (so it can be redone), writes each file atomically through the editor or the disk
(tools/write.py), and asks before overwriting a file that changed since Ryan last wrote it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CheckpointNotFound, SessionBusy
from ..ports import Editor
from ..store import MessageRecord
from ..store import checkpoints as sql
from ..tools.text import line_delta, unified_diff
from ..tools.workspace import ToolError, Workspace
from ..tools.write import put_text, read_current
from .context import title_of
from .types import ChangedFile, Checkpoint, FileDiff, RestoreResult, Skipped

if TYPE_CHECKING:
    from ..store import BackgroundStore
    from ..tools import ToolRegistry

OVERWRITE, KEEP = "Overwrite", "Keep my changes"


class ChatJournal:
    """Notes one chat's writes in its checkpoint (its own: a regenerated answer gets another one)."""

    def __init__(self, store: BackgroundStore, session_id: str, user_message: MessageRecord) -> None:
        self._store = store
        self._session_id = session_id
        self._message = user_message
        self.checkpoint_id: int | None = None

    async def before_write(self, path: Path, text: str | None) -> None:
        if self._message.id is None:
            await self._store.flush()  # the user message's append sets its id
        message_id, checkpoint_id = self._message.id, self.checkpoint_id
        assert message_id is not None
        self.checkpoint_id = await self._store.run(
            lambda conn: sql.record_before(conn, checkpoint_id, self._session_id, message_id, str(path), text)
        )

    async def checkpoint(self, workspace: Workspace) -> Checkpoint | None:
        """The chat's checkpoint, once it wrote files; None when it wrote none."""
        checkpoint_id = self.checkpoint_id
        if checkpoint_id is None:
            return None
        record = await self._store.run(lambda conn: sql.checkpoint(conn, checkpoint_id))
        return describe(record, workspace) if record else None

    async def after_write(self, path: Path, text: str | None) -> None:
        checkpoint_id = self.checkpoint_id
        assert checkpoint_id is not None
        await self._store.run(
            lambda conn: sql.record_after(conn, checkpoint_id, self._session_id, str(path), text)
        )


class Checkpoints:
    """The requests about checkpoints. `store` and `tools` are the engine's (history may be reopened);
    `busy` is the engine's set of busy sessions: a restore waits for no chat, and keeps chats out."""

    def __init__(
        self,
        store: Callable[[], BackgroundStore],
        tools: Callable[[Editor], ToolRegistry | None],
        busy: set[str],
    ) -> None:
        self._store = store
        self._tools = tools
        self._busy = busy

    async def of_session(self, session_id: str, editor: Editor) -> list[Checkpoint]:
        records = await self._store().run(lambda conn: sql.checkpoints(conn, session_id))
        workspace = self._workspace(editor)
        return [describe(record, workspace) for record in records]

    async def diff(self, checkpoint_id: int, path: str | None, editor: Editor) -> list[FileDiff]:
        record = await self._record(checkpoint_id)
        registry = self._registry(editor)
        ws = registry.workspace
        diffs: list[FileDiff] = []
        for file in record.files:
            real = Path(file.path)
            shown = ws.display(real)
            if path is not None and path not in (shown, file.path, real.as_uri()):
                continue
            try:
                current = await read_current(registry.context, real)
            except ToolError:
                current = None
            diffs.append(
                FileDiff(shown, real.as_uri(), file.before, current, _diff(shown, file.before, current))
            )
        return diffs

    async def restore(self, checkpoint_id: int, overwrite: bool | None, editor: Editor) -> RestoreResult:
        """Put the files of the checkpoint and the later ones back as they were before its chat."""
        record = await self._record(checkpoint_id)
        with self._claim(record.session_id):
            store = self._store()
            targets = await store.run(lambda conn: sql.targets(conn, record))
            plan = await _Plan.make(self._registry(editor), store, record.session_id, targets)
            if not await plan.settle(overwrite, editor):
                return plan.result
            files = {path: (plan.current[path], targets[path]) for path in plan.writes}
            await store.run(lambda conn: sql.begin_restore(conn, record, files))
            await plan.write()
            return plan.result

    async def redo(self, session_id: str, overwrite: bool | None, editor: Editor) -> RestoreResult:
        """Undo the session's latest restore that was not redone."""
        with self._claim(session_id):
            store = self._store()
            restore = await store.run(lambda conn: sql.redoable(conn, session_id))
            if restore is None:
                raise CheckpointNotFound("There is nothing to redo in this session.")
            targets = {path: replaced for path, (replaced, _) in restore.files.items()}
            plan = await _Plan.make(self._registry(editor), store, session_id, targets)
            if not await plan.settle(overwrite, editor):
                return plan.result
            await store.run(lambda conn: sql.mark_redone(conn, restore.restore_id))
            await plan.write()
            return plan.result

    async def _record(self, checkpoint_id: int) -> sql.CheckpointRecord:
        record = await self._store().run(lambda conn: sql.checkpoint(conn, checkpoint_id))
        if record is None:
            raise CheckpointNotFound(f"There is no checkpoint {checkpoint_id}; see ryan/checkpoints.")
        return record

    def _registry(self, editor: Editor) -> ToolRegistry:
        registry = self._tools(editor)
        if registry is None:
            raise CheckpointNotFound("Ryan has no workspace folder open, so it cannot touch files.")
        return registry

    def _workspace(self, editor: Editor) -> Workspace | None:
        registry = self._tools(editor)
        return registry.workspace if registry is not None else None

    def _claim(self, session_id: str) -> _Claim:
        if session_id in self._busy:
            raise SessionBusy(f"Session {session_id} has a chat running; wait for it or stop it first.")
        return _Claim(self._busy, session_id)


class _Claim:
    """Marks a session busy while a restore writes its files, so no chat starts in it meanwhile."""

    def __init__(self, busy: set[str], session_id: str) -> None:
        self._busy, self._session_id = busy, session_id

    def __enter__(self) -> None:
        self._busy.add(self._session_id)

    def __exit__(self, *exc: object) -> None:
        self._busy.discard(self._session_id)


class _Plan:
    """One restore or redo: which files it writes, which changed by hand, and the result so far."""

    def __init__(self, registry: ToolRegistry, store: BackgroundStore, session_id: str) -> None:
        self.registry = registry
        self.store = store
        self.session_id = session_id
        self.current: dict[str, str | None] = {}
        self.targets: dict[str, str | None] = {}
        self.writes: list[str] = []
        self.result = RestoreResult()

    @classmethod
    async def make(
        cls, registry: ToolRegistry, store: BackgroundStore, session_id: str, targets: dict[str, str | None]
    ) -> _Plan:
        plan = cls(registry, store, session_id)
        ws = registry.workspace
        written = await store.run(lambda conn: sql.last_written(conn, session_id))
        for path, target in sorted(targets.items()):
            real = Path(path)
            shown = ws.display(real)
            try:
                if ws.resolve(path, must_exist=False, allow_dir=False) != real:
                    raise ToolError("it now leads somewhere else")
                current = await read_current(registry.context, real)
            except ToolError as error:
                plan.result.skipped.append(Skipped(shown, str(error)))
                continue
            plan.current[path] = current
            plan.targets[path] = target
            if path in written and current != written[path] and current != target:
                plan.result.conflicts.append(shown)
            plan.writes.append(path)
        return plan

    async def settle(self, overwrite: bool | None, editor: Editor) -> bool:
        """Decide about the files changed by hand (asking when `overwrite` is None); False: cancelled."""
        conflicts = self.result.conflicts
        if not conflicts:
            return True
        if overwrite is None:
            names = ", ".join(f"`{name}`" for name in conflicts)
            choice = await editor.request_approval(
                f"Ryan: these files changed since Ryan's edits: {names}. Overwrite them?", [OVERWRITE, KEEP]
            )
            if choice is None:
                self.result.cancelled = True
                return False
            overwrite = choice == OVERWRITE
        if not overwrite:
            ws = self.registry.workspace
            kept = {path for path in self.writes if ws.display(Path(path)) in conflicts}
            self.writes = [path for path in self.writes if path not in kept]
            self.result.skipped += [
                Skipped(ws.display(Path(p)), "changed since Ryan's edits; kept") for p in kept
            ]
        return True

    async def write(self) -> None:
        ws = self.registry.workspace
        for path in self.writes:
            real, target, current = Path(path), self.targets[path], self.current[path]
            try:
                if current != target:
                    await put_text(self.registry.context, real, current, target)
            except ToolError as error:
                self.result.skipped.append(Skipped(ws.display(real), str(error)))
                continue
            await self.store.run(
                functools.partial(sql.wrote, session_id=self.session_id, path=path, text=target)
            )
            self.result.restored.append(ws.display(real))


def describe(record: sql.CheckpointRecord, workspace: Workspace | None) -> Checkpoint:
    """A stored checkpoint as the requests show it: paths as the tools name them, lines changed."""
    files = []
    for file in record.files:
        real = Path(file.path)
        shown = workspace.display(real) if workspace is not None else file.path
        if file.before is None:
            change = "created"
        elif file.after is None:
            change = "deleted"
        else:
            change = "modified"
        added, removed = line_delta(file.before or "", file.after or "")
        files.append(ChangedFile(shown, real.as_uri(), change, added, removed))
    return Checkpoint(
        record.checkpoint_id,
        record.message_id,
        title_of(record.prompt),
        record.created_at,
        files,
        record.undone,
    )


def _diff(shown: str, before: str | None, current: str | None) -> str:
    return unified_diff(shown, before, current, limit=None) if before != current else ""
