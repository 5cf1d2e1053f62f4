"""Who is writing a streaming answer, and crash recovery for the answers whose writer is gone.

A streaming answer is stored with status "streaming" and its owner: the pid and, on Linux, an identity
of the writing process (boot id and start time) that a later process reusing the pid will not share.
On open, `recover` marks "interrupted" the streaming rows whose owner is gone (crashed or killed),
keeping the last checkpointed text; a live owner's rows (another editor window) are left alone.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from .schema import INTERRUPTED, STREAMING, write_transaction


def _linux_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) of `pid` from /proc, or None where unavailable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; the fields after it do not.
    rest = raw[raw.rfind(")") + 2 :].split()
    if len(rest) < 20:
        return None
    return rest[0], rest[19]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_started(pid: int) -> str | None:
    """An identity for the process `pid` that a later process reusing the pid will not share."""
    stat = _linux_stat(pid)
    return f"{_boot_id()}:{stat[1]}" if stat else None


if sys.platform == "win32":

    def _pid_alive(pid: int) -> bool:
        # os.kill(pid, 0) would send CTRL_C_EVENT on Windows; ask the kernel instead.
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(ctypes.GetLastError() == 5)  # ERROR_ACCESS_DENIED: it exists
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)

else:

    def _pid_alive(pid: int) -> bool:
        if pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # exists, owned by someone else
        except OSError:
            return False
        stat = _linux_stat(pid)
        return not (stat and stat[0] in ("Z", "X"))  # a killed but not yet reaped process is gone


def owner_alive(pid: int | None, started: str | None) -> bool:
    """Whether the process that wrote a row (`owner_pid`, `owner_started`) still runs."""
    if pid is None or not _pid_alive(pid):
        return False
    if started is not None:
        current = process_started(pid)
        if current is not None and current != started:
            return False  # the pid now belongs to another process
    return True


def recover(conn: sqlite3.Connection) -> None:
    """Mark interrupted the streaming answers whose writing process is gone (crashed or killed)."""
    owners = conn.execute(
        "SELECT DISTINCT owner_pid, owner_started FROM messages WHERE status = ?", (STREAMING,)
    ).fetchall()
    dead = [(pid, started) for pid, started in owners if not owner_alive(pid, started)]
    if not dead:
        return
    with write_transaction(conn):
        for pid, started in dead:
            conn.execute(
                "UPDATE messages SET status = ? WHERE status = ? AND owner_pid IS ? AND owner_started IS ?",
                (INTERRUPTED, STREAMING, pid, started),
            )
