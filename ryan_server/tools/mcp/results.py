"""An MCP tool's result as the text the model reads.

Text content is joined; structured content comes as JSON when there is no text; images, audio and
other binary content become a short placeholder saying what was left out (the models Ryan drives read
text); embedded resources give their text; the whole is capped like the built-in tools' output.
"""

from __future__ import annotations

import json
from typing import Any

from ..text import cap_output

__all__ = ["result_text"]


def result_text(result: Any, limit: int) -> str:
    """The text of a `CallToolResult` (read by attribute, so this module needs no SDK import)."""
    parts: list[str] = []
    for item in getattr(result, "content", None) or []:
        parts.append(_content_text(item))
    structured = getattr(result, "structured_content", None)
    if structured is not None and not any(p.strip() for p in parts):
        parts.append(json.dumps(structured, ensure_ascii=False, indent=1))
    text = "\n".join(p for p in parts if p) or "(the tool returned no content)"
    return cap_output(text, limit)


def _content_text(item: Any) -> str:
    kind = getattr(item, "type", "")
    if kind == "text":
        return str(getattr(item, "text", ""))
    if kind in ("image", "audio"):
        mime = getattr(item, "mime_type", None) or kind
        size = len(getattr(item, "data", "") or "") * 3 // 4
        return f"[{kind} left out: {mime}, about {size} bytes; Ryan passes only text to the model]"
    if kind == "resource":
        resource = getattr(item, "resource", None)
        text = getattr(resource, "text", None)
        uri = getattr(resource, "uri", "")
        if text is not None:
            return f"[resource {uri}]\n{text}"
        mime = getattr(resource, "mime_type", None) or "binary"
        return f"[resource {uri} left out: {mime} content]"
    if kind == "resource_link":
        return f"[resource link: {getattr(item, 'uri', '')} {getattr(item, 'name', '')}]".rstrip("]") + "]"
    return f"[{kind or 'unknown'} content left out]"
