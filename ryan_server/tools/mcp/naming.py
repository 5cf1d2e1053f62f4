"""The name the model is offered for an MCP server's tool: `mcp__<server>__<tool>`.

Characters outside `[A-Za-z0-9_-]` become `_`; a name longer than 64 characters (the limit several
backends enforce) is cut and ends in a short hash of the full name, so two long names stay apart.
"""

from __future__ import annotations

import hashlib
import re

PREFIX = "mcp__"
MAX_LENGTH = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def offered_name(server: str, tool: str) -> str:
    name = f"{PREFIX}{_UNSAFE.sub('_', server)}__{_UNSAFE.sub('_', tool)}"
    if len(name) <= MAX_LENGTH:
        return name
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return f"{name[: MAX_LENGTH - len(digest) - 1]}_{digest}"
