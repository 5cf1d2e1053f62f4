"""What the docs and messages tell a new user to install works from a clone: ryan-server is not on
PyPI, so no page or message may say `pip install ryan-server`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEOVIM = ROOT / "editors" / "neovim"
VSCODE = ROOT / "editors" / "vscode"
PLACES = [
    ROOT / "README.md",
    NEOVIM / "README.md",
    NEOVIM / "doc" / "ryan.txt",
    *NEOVIM.rglob("*.lua"),
    VSCODE / "README.md",
    VSCODE / "src" / "client.ts",
]
FROM_PYPI = re.compile(r"pipx? install (-U )?ryan-server\b")


def test_no_page_or_message_installs_ryan_server_from_pypi() -> None:
    wrong = [
        f"{p.relative_to(ROOT)}: {hit.group(0)}" for p in PLACES for hit in FROM_PYPI.finditer(p.read_text())
    ]
    assert not wrong, wrong


def test_the_install_from_a_clone_is_spelled_out_where_users_read_first() -> None:
    for page in (ROOT / "README.md", NEOVIM / "README.md", NEOVIM / "doc" / "ryan.txt", VSCODE / "README.md"):
        assert "pipx install /path/to/ryan" in page.read_text() or "pipx install ." in page.read_text(), page
