"""A `session/prompt`'s content blocks as the engine's `ChatInput`.

Text blocks make the prompt. Embedded resources (text) and resource links become the turn's context,
as `ryan/chat`'s `context` does, and are named in the prompt where they stood (`[@name](uri)`). A
link's text is read through the client when it offers `fs/read_text_file` (it sees unsaved buffers),
else from disk; a link that cannot be read stays a link the model may open with its tools.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import anyio
from acp.schema import (
    EmbeddedResourceContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
)

from ..chat.types import ChatInput, ContextItem
from .editor import AcpEditor

log = logging.getLogger(__name__)


async def chat_input(
    blocks: list[Any], session_id: str, model: str | None, editor: AcpEditor, max_bytes: int
) -> ChatInput:
    parts: list[str] = []
    context: list[ContextItem] = []
    for block in blocks:
        if isinstance(block, TextContentBlock):
            parts.append(block.text)
        elif isinstance(block, EmbeddedResourceContentBlock):
            resource = block.resource
            parts.append(f"[@{_name(resource.uri)}]({resource.uri})")
            if isinstance(resource, TextResourceContents):
                context.append(ContextItem(text=resource.text, uri=resource.uri))
            else:
                parts.append(" (binary content, not shown to the model)")
        elif isinstance(block, ResourceContentBlock):
            parts.append(f"[@{block.name}]({block.uri})")
            linked = await _read_link(block.uri, editor, max_bytes)
            if linked is not None:
                context.append(ContextItem(text=linked, uri=block.uri))
        else:  # images and audio: not offered in the prompt capabilities, so not expected
            parts.append(f"({getattr(block, 'type', 'content')} attached; Ryan cannot read it)")
    return ChatInput(
        prompt="".join(parts).strip(), session_id=session_id, context=tuple(context), model=model
    )


def _name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1] or uri


def _path(uri: str) -> Path | None:
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return None
    return Path(url2pathname(parts.path))


async def _read_link(uri: str, editor: AcpEditor, max_bytes: int) -> str | None:
    path = _path(uri)
    if path is None:
        return None
    text = await editor.open_text(path)
    if text is not None:
        return text if len(text.encode("utf-8", "surrogatepass")) <= max_bytes else None
    try:
        return await anyio.to_thread.run_sync(_read_disk, path, max_bytes)
    except (OSError, UnicodeDecodeError) as error:
        log.info("the linked %s was not read: %s", uri, error)
        return None


def _read_disk(path: Path, max_bytes: int) -> str | None:
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes or b"\0" in data[:8192]:
        return None  # too large for context, or binary: the model can read a range with its tools
    return data.decode("utf-8")
