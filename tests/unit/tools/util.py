"""Helpers shared by the tool tests."""

from __future__ import annotations

from pathlib import Path

from ryan_server.tools import ToolRegistry


async def call(registry: ToolRegistry, name: str, **arguments: object) -> str:
    return await (await registry.prepare(name, dict(arguments))).run()


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, newline="")
