"""A second process for the history store tests: run as `python store_child.py COMMAND DB ARGS...`.

Commands:
  stream DB               create a session with a user prompt and a streaming answer checkpointed as
                          "checkpointed text", print the session id, then wait to be killed
  append DB SESSION TAG N GO
                          create the file GO.TAG, wait for the file GO to exist, then append N
                          messages "TAG-i" to SESSION
  fill DB                 append until the file size limit (RLIMIT_FSIZE) makes a write fail; print a
                          JSON report of what the store did
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from pathlib import Path

from ryan_server.store import MessageRecord
from ryan_server.store.sqlite import SqliteStore


def stream(db: Path) -> None:
    store = SqliteStore(db)
    session = store.create_session(workspace="/ws", title="killed", model="m")
    store.append_message(session.session_id, MessageRecord("user", "tell me"))
    answer = MessageRecord("assistant", "partial", status="streaming")
    store.append_message(session.session_id, answer)
    answer.content = "checkpointed text"
    answer.thinking = "hmm"
    store.update_message(answer)
    print(session.session_id, flush=True)
    time.sleep(600)


def append(db: Path, session_id: str, tag: str, count: int, go: Path) -> None:
    store = SqliteStore(db)
    Path(f"{go}.{tag}").touch()  # ready
    deadline = time.monotonic() + 30
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("no go")
        time.sleep(0.001)
    for i in range(count):
        store.append_message(session_id, MessageRecord("user", f"{tag}-{i}"))
        time.sleep(0.0005)  # let the other writer in, so the two interleave
    assert store.persistent, store.take_warning()
    store.close()


def fill(db: Path) -> None:
    store = SqliteStore(db)
    session = store.create_session(workspace="/ws", title="live", model="m")
    ids = [store.append_message(session.session_id, MessageRecord("user", f"before-{i}")) for i in range(3)]
    # Files may not grow past their current size: the next big write fails as on a full disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = max(os.path.getsize(db), os.path.getsize(f"{db}-wal")) + 4096
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    errors: list[str] = []
    try:
        big = MessageRecord("assistant", "x" * 200_000)
        store.append_message(session.session_id, big)
        store.update_message(MessageRecord("assistant", "y" * 200_000, id=big.id))
        store.append_message(session.session_id, MessageRecord("user", "after"))
    except Exception as exc:  # the test fails on any
        errors.append(repr(exc))
    report = {
        "errors": errors,
        "persistent": store.persistent,
        "warning": store.take_warning(),
        "warning_again": store.take_warning(),
        "messages": [m.content[:8] for m in store.messages(session.session_id)],
        "ids": ids,
        "sessions": [s.title for s in store.list_sessions("/ws")],
    }
    store.close()
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    command, db = sys.argv[1], Path(sys.argv[2])
    if command == "stream":
        stream(db)
    elif command == "append":
        append(db, sys.argv[3], sys.argv[4], int(sys.argv[5]), Path(sys.argv[6]))
    elif command == "fill":
        fill(db)
    else:
        sys.exit(f"unknown command {command}")
