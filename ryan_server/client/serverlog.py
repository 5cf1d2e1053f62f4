"""The server's stderr log (`common.server_log_path()`): one file for every run, each run's lines under
a `RUN_MARK` line, moved aside to `server.log.1` at a start once it passes `ROTATE_BYTES`, so a server
that dies is quoted with its own last lines, not an earlier run's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import IO

ROTATE_BYTES = 1_000_000
RUN_MARK = "=== ryan-server run"


class RunLog:
    """This run's part of the log: opened (rotated, marked) at start, its tail read after a crash."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[bytes] | None = None
        self._start = 0

    def open(self, what: str) -> IO[bytes] | None:
        """Append to the log (several `ryan`s may run at once), after a line marking this run."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size > ROTATE_BYTES:
                self.path.replace(self.path.with_name(self.path.name + ".1"))
            # readable too: the tail is read through this file, also if another run rotates the log
            log = self.path.open("a+b")
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"{RUN_MARK} {stamp}: ryan (pid {os.getpid()}) {what}\n".encode(errors="replace"))
            log.flush()
            self._start = log.tell()
        except OSError:
            return None
        self.file = log
        return log

    def tail(self, lines: int = 5) -> str:
        """The last `lines` lines the server wrote in this run, indented; "" when none."""
        if self.file is None:
            return ""
        try:
            self.file.flush()
            fd = self.file.fileno()
            text = os.pread(fd, os.fstat(fd).st_size - self._start, self._start).decode(errors="replace")
        except (OSError, ValueError):
            return ""
        # only this run's lines: a `ryan` started after this one marks its own
        mine = "" if text.startswith(RUN_MARK) else text.split(f"\n{RUN_MARK} ", 1)[0]
        return "\n".join(f"  {line}" for line in mine.strip().splitlines()[-lines:])

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
