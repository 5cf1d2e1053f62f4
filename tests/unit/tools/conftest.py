"""Fixtures for the tool tests: a workspace folder, a folder outside it, and a fake editor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ryan_server.ports import EditRejected
from ryan_server.tools import ToolRegistry, Workspace


@dataclass
class FakeEditor:
    """Records every call; `open` holds unsaved buffers; `applies` says whether it takes edits."""

    open: dict[Path, str] = field(default_factory=dict)
    applies: bool = False
    reject: str | None = None
    edits: list[tuple[Path, str | None, str]] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)

    async def request_approval(self, message: str, actions: Sequence[str]) -> str | None:
        self.approvals.append(message)
        return actions[0] if actions else None

    async def apply_edit(self, path: Path, old_text: str | None, new_text: str | None) -> bool:
        self.edits.append((path, old_text, new_text))
        if self.reject is not None:
            raise EditRejected(self.reject)
        if self.applies:
            self.open[path] = new_text
        return self.applies

    async def open_text(self, path: Path) -> str | None:
        return self.open.get(path)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws.resolve()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret.txt").write_text("TOP SECRET needle\n")
    return out.resolve()


@pytest.fixture
def editor() -> FakeEditor:
    return FakeEditor()


@pytest.fixture
def make_registry(root: Path, editor: FakeEditor) -> Callable[..., ToolRegistry]:
    def make(**kwargs: object) -> ToolRegistry:
        return ToolRegistry(Workspace([root]), editor, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def registry(make_registry: Callable[..., ToolRegistry]) -> ToolRegistry:
    return make_registry()
