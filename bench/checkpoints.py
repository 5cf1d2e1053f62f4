"""Checkpoints: what noting a chat's writes costs each write, and how long a restore and a redo take.

    python bench/checkpoints.py [--files 200] [--kb 10]

In this process, on a history file in a temporary folder and the disk (no editor): `write_file` runs
`--files` times with the chat's journal and again without it (so the difference is the checkpoint's
cost per write), then the chat's checkpoint is restored and the restore redone. Prints milliseconds
per write with and without, and the restore's and the redo's total and per-file times.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ryan_server.chat.checkpoints import ChatJournal, Checkpoints  # noqa: E402
from ryan_server.store import BackgroundStore, MessageRecord  # noqa: E402
from ryan_server.store.sqlite import SqliteStore  # noqa: E402
from ryan_server.tools import ToolRegistry, Workspace  # noqa: E402


class NoEditor:
    async def request_approval(self, message: str, actions: object) -> str | None:
        return "Overwrite"

    async def apply_edit(self, path: Path, old_text: str | None, new_text: str | None) -> bool:
        return False

    async def open_text(self, path: Path) -> str | None:
        return None


async def write_all(registry: ToolRegistry, files: int, text: str) -> list[float]:
    times = []
    for i in range(files):
        call = await registry.prepare("write_file", {"path": f"src/f{i:04}.txt", "content": text})
        started = time.perf_counter()
        await call.run()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def main(files: int, kb: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp, "ws")
        root.mkdir()
        root = root.resolve()
        store = BackgroundStore(SqliteStore(Path(tmp, "history.sqlite3")))
        session = await store.create_session(workspace=str(root), title="bench", model="m")
        user = MessageRecord(role="user", content="rewrite everything")
        store.append_message(session.session_id, user)
        editor = NoEditor()

        def tools(_: object) -> ToolRegistry:
            return ToolRegistry(Workspace([root]), editor)

        plain = await write_all(tools(None), files, "a" * (kb * 1024))
        registry = tools(None)
        journal = ChatJournal(store, session.session_id, user)
        registry.context.journal = journal
        noted = await write_all(registry, files, "b" * (kb * 1024))

        checkpoints = Checkpoints(lambda: store, tools, set())
        assert journal.checkpoint_id is not None
        started = time.perf_counter()
        restored = await checkpoints.restore(journal.checkpoint_id, None, editor)
        restore_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        redone = await checkpoints.redo(session.session_id, None, editor)
        redo_ms = (time.perf_counter() - started) * 1000
        assert len(restored.restored) == len(redone.restored) == files
        await store.aclose()

    print(f"{files} files of {kb} KB, on disk:")
    print(f"  write_file without a checkpoint: median {statistics.median(plain):.2f} ms per write")
    print(f"  write_file noting its checkpoint: median {statistics.median(noted):.2f} ms per write")
    print(f"  restore: {restore_ms:.0f} ms ({restore_ms / files:.2f} ms per file)")
    print(f"  redo:    {redo_ms:.0f} ms ({redo_ms / files:.2f} ms per file)")


if __name__ == "__main__":
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--kb", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.files, args.kb))
