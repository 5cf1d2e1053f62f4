"""The engine's ports over LSP: `LspSink` writes a chat's events as `$/progress` on the
partialResultToken and standard begin/report/end on the workDoneToken; `LspEditor` asks for approval
with `window/showMessageRequest`, edits through `workspace/applyEdit` and reads open documents."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from ..ports import EditRejected
from ..protocol import Event, Start
from .shapes import event_value
from .textedit import minimal_edit

if TYPE_CHECKING:
    from .server import RyanServer

log = logging.getLogger(__name__)


class LspSink:
    def __init__(self, ls: RyanServer, partial_token: Any, work_token: Any) -> None:
        self._ls = ls
        self._partial = partial_token
        self._work = work_token
        self._began = False

    def event(self, event: Event) -> None:
        if event.__class__ is Start and self._work is not None:
            self._began = True
            self._ls.work_done_progress.begin(
                self._work,
                types.WorkDoneProgressBegin(title=f"Ryan: {event.model}", message="starting…"),
            )
        if self._partial is not None:
            self._ls.send_progress(self._partial, event_value(event))

    def status(self, message: str) -> None:
        if self._began:
            self._ls.work_done_progress.report(self._work, types.WorkDoneProgressReport(message=message))

    def end(self, message: str) -> None:
        if self._began:
            self._began = False
            self._ls.work_done_progress.end(self._work, types.WorkDoneProgressEnd(message=message))
            self._ls.work_done_progress.tokens.pop(self._work, None)


class LspEditor:
    """The engine's view of the editor: approvals, edits through `workspace/applyEdit`, open buffers."""

    def __init__(self, ls: RyanServer) -> None:
        self._ls = ls

    async def request_approval(self, message: str, actions: Sequence[str]) -> str | None:
        try:
            choice = await self._ls.window_show_message_request_async(
                types.ShowMessageRequestParams(
                    type=types.MessageType.Info,
                    message=message,
                    actions=[types.MessageActionItem(title=a) for a in actions],
                )
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a client that cannot ask has not said yes
            log.warning("approval request failed, treating it as a denial: %s", error)
            return None
        return getattr(choice, "title", None) if choice is not None else None

    def _capabilities(self) -> tuple[bool, bool, bool]:
        """Whether the editor applies edits, and creates and deletes files in them."""
        workspace = self._ls.client_capabilities.workspace
        if not workspace or not workspace.apply_edit:
            return False, False, False
        edit = workspace.workspace_edit
        operations = (edit.resource_operations or []) if edit and edit.document_changes else []
        kinds = types.ResourceOperationKind
        return True, kinds.Create in operations, kinds.Delete in operations

    async def apply_edit(self, path: Path, old_text: str | None, new_text: str | None) -> bool:
        can_edit, can_create, can_delete = self._capabilities()
        if new_text is None:
            return can_delete and await self._delete(path)
        if not can_edit or (old_text is None and not can_create):
            return False
        uri = self._uri(path)
        change = minimal_edit(old_text or "", new_text)
        text_edit = types.TextEdit(
            range=types.Range(
                start=types.Position(line=change.start_line, character=change.start_character),
                end=types.Position(line=change.end_line, character=change.end_character),
            ),
            new_text=change.text,
        )
        workspace_edit = self._workspace_edit(uri, text_edit, create=old_text is None)
        result = await self._ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=workspace_edit, label="Ryan")
        )
        if not result.applied:
            raise EditRejected(result.failure_reason or "the editor did not apply the edit")
        return True

    async def _delete(self, path: Path) -> bool:
        options = types.DeleteFileOptions(ignore_if_not_exists=True)
        delete = types.DeleteFile(uri=self._uri(path), options=options)
        result = await self._ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=types.WorkspaceEdit(document_changes=[delete]), label="Ryan")
        )
        if not result.applied:
            raise EditRejected(result.failure_reason or "the editor did not delete the file")
        return True

    def _workspace_edit(self, uri: str, edit: types.TextEdit, *, create: bool) -> types.WorkspaceEdit:
        workspace = self._ls.client_capabilities.workspace
        edit_caps = workspace.workspace_edit if workspace else None
        if not (edit_caps and edit_caps.document_changes):
            return types.WorkspaceEdit(changes={uri: [edit]})
        document = self._ls.workspace.text_documents.get(uri)
        identifier = types.OptionalVersionedTextDocumentIdentifier(
            uri=uri, version=document.version if document is not None else None
        )
        changes: list[Any] = []
        if create:
            changes.append(types.CreateFile(uri=uri, options=types.CreateFileOptions(ignore_if_exists=True)))
        changes.append(types.TextDocumentEdit(text_document=identifier, edits=[edit]))
        return types.WorkspaceEdit(document_changes=changes)

    def _uri(self, path: Path) -> str:
        """The uri under which the editor has `path` open (it may name it through a symlink)."""
        uri = path.as_uri()
        documents = self._ls.workspace.text_documents
        if uri in documents:
            return uri
        for open_uri in documents:
            fs_path = to_fs_path(open_uri)
            if fs_path and os.path.realpath(fs_path) == str(path):
                return str(open_uri)
        return uri

    async def open_text(self, path: Path) -> str | None:
        document = self._ls.workspace.text_documents.get(self._uri(path))
        return str(document.source) if document is not None else None
