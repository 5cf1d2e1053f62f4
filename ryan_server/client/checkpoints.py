"""Going back from the terminal: `ryan diff [last|ID]`, `ryan undo [ID]`, `ryan redo`, and the same for
the interactive chat's `/diff`, `/undo`, `/redo` (docs/protocol.md, "Checkpoints, undo and redo").

A checkpoint is named like a session: `last` (the default; for `undo` the latest one not undone yet),
the whole id, or a unique prefix of it among the session's checkpoints. The session is `--session`'s
(`ID|last`), by default the newest of this folder. A diff goes to stdout exactly as the server gives
it, coloured only on a terminal.

A file changed by hand since Ryan wrote it is a conflict: `--yes` overwrites it, `--keep` keeps it and
restores the rest. Without either, the server asks (approval.py shows its `Overwrite` / `Keep my
changes`); with no terminal to ask on the question is dismissed and nothing is restored (exit 1, with
the two flags named): the same "nothing happens without a yes" as a write with no terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.text import Text

from ryan_server import protocol as wire
from ryan_server.client.approval import make_approver
from ryan_server.client.common import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    error,
    resolve_session,
    run_with_client,
)
from ryan_server.client.rpc import RpcError, RyanClient

CHECKPOINTS, DIFF, RESTORE, REDO = wire.CHECKPOINTS, wire.DIFF, wire.RESTORE, wire.REDO
CHECKPOINT_NOT_FOUND = wire.ErrorCode.CHECKPOINT_NOT_FOUND

_DIFF_STYLES = (("+++ ", "bold"), ("--- ", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def _short_id(value: Any) -> str:
    return str(value or "")[:12]


def _when(stamp: Any) -> str:
    return str(stamp or "").replace("T", " ")[:16]


def describe_checkpoint(checkpoint: dict[str, Any]) -> str:
    """`checkpoint 3f0c… · 2026-12-01 20:11 · “add a test” (undone)`."""
    prompt = " ".join(str(checkpoint.get("prompt") or "").split())
    prompt = prompt if len(prompt) <= 60 else prompt[:59] + "…"
    bits = [f"checkpoint {_short_id(checkpoint.get('checkpointId'))}", _when(checkpoint.get("createdAt"))]
    if prompt:
        bits.append(f"“{prompt}”")
    return " · ".join(b for b in bits if b) + (" (undone)" if checkpoint.get("undone") else "")


async def list_checkpoints(client: RyanClient, session_id: str) -> list[dict[str, Any]]:
    result = await client.request(CHECKPOINTS, {"sessionId": session_id})
    return [c for c in (result or {}).get("checkpoints", []) if isinstance(c, dict)]


async def find_checkpoint(
    client: RyanClient, session_id: str, wanted: str | None, *, for_undo: bool = False
) -> dict[str, Any]:
    """The session's checkpoint named `wanted`: `last`/None is the newest (for an undo, the newest
    not undone), else an exact id or a unique prefix of one (ids are the server's: numbers or text).
    None found raises -32006, as the server would."""
    listed = await list_checkpoints(client, session_id)
    where = f"session {_short_id(session_id)}"
    if not wanted or wanted == "last":
        candidates = [c for c in listed if not (for_undo and c.get("undone"))]
        if candidates:
            return candidates[-1]
        if listed:  # every one undone already
            raise RpcError(
                CHECKPOINT_NOT_FOUND,
                f"Nothing to undo: every change Ryan made in {where} is undone already "
                "(ryan redo puts the last undo back).",
            )
        raise RpcError(
            CHECKPOINT_NOT_FOUND,
            f"Nothing to {'undo' if for_undo else 'show'}: no chat of {where} changed files "
            "through Ryan's tools.",
        )
    exact = [c for c in listed if str(c.get("checkpointId")) == wanted]
    matches = exact or [c for c in listed if str(c.get("checkpointId", "")).startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = "; ".join(describe_checkpoint(c) for c in matches[:5])
        raise RpcError(
            CHECKPOINT_NOT_FOUND,
            f"'{wanted}' is ambiguous: it matches {len(matches)} checkpoints of {where} ({shown}). "
            "Give more of the id.",
        )
    raise RpcError(
        CHECKPOINT_NOT_FOUND,
        f"No checkpoint '{wanted}' in {where} (ryan diff shows the latest one with its id; "
        "--session ID picks another session).",
    )


# ----- showing a diff ------------------------------------------------------------------------------


def print_diff(result: dict[str, Any], console: Console, *, header: str | None = None) -> int:
    """The files' unified diffs: on a terminal coloured (+ green, - red, @@ cyan) under `header`, off
    one exactly as the server gave them; a file equal to its checkpoint is a note on stderr there.
    Returns how many files differ."""
    files = [f for f in result.get("files") or [] if isinstance(f, dict)]
    changed = 0
    if console.is_terminal and header:
        console.print(Text(header, style="dim"))
    for f in files:
        diff = str(f.get("diff") or "")
        if not diff:
            note = f"= {f.get('path', '')}: as it was before that chat"
            if console.is_terminal:
                console.print(Text(note, style="dim"))
            else:
                print(note, file=sys.stderr)
            continue
        changed += 1
        if not console.is_terminal:
            sys.stdout.write(diff if diff.endswith("\n") else diff + "\n")
            continue
        for line in diff.splitlines():
            style = next((s for prefix, s in _DIFF_STYLES if line.startswith(prefix)), "")
            console.print(Text(line, style=style), soft_wrap=True)
    if not files:
        print("no files in that checkpoint", file=sys.stderr)
    sys.stdout.flush()
    return changed


# ----- saying what a restore did -------------------------------------------------------------------


def restore_lines(result: dict[str, Any], *, again: str | None) -> list[tuple[str, str]]:
    """(line, rich style) for a `ryan/restore` or `ryan/redo` result; `again` is the command that
    repeats it with `--yes` (`ryan undo`), named for the conflicts kept (None: they were asked about)."""
    restored = [str(p) for p in result.get("restored") or []]
    conflicts = [str(p) for p in result.get("conflicts") or []]
    skipped = [s for s in result.get("skipped") or [] if isinstance(s, dict)]
    if result.get("cancelled"):
        return [
            (f"nothing restored: {', '.join(conflicts) or 'a file'} changed since Ryan's edits", "yellow")
        ]
    lines = [
        (f"  restored  {path}" + ("  (your changes overwritten)" if path in conflicts else ""), "green")
        for path in restored
    ]
    kept = [path for path in conflicts if path not in restored]
    why = f"; {again} --yes overwrites it" if again else ", kept as you asked"
    lines += [(f"  kept      {path}  (changed since Ryan's edits{why})", "yellow") for path in kept]
    # a kept conflict may be listed as skipped too: say it once, as kept
    lines += [
        (f"  skipped   {s.get('path', '')}  ({s.get('reason', '')})", "yellow")
        for s in skipped
        if str(s.get("path")) not in kept
    ]
    if not lines:
        lines.append(("nothing to restore: the files are as they were", "dim"))
    return lines


def print_restore(
    result: dict[str, Any], console: Console, *, title: str, again: str | None, then: str
) -> bool:
    """A restore's result under `title`, and `then` (what takes it back) when something was restored.
    False when it was cancelled (nothing done)."""
    lines = restore_lines(result, again=again)
    if not result.get("cancelled"):
        console.print(Text(title, style="bold"), soft_wrap=True)
    for line, style in lines:
        console.print(Text(line, style=style), soft_wrap=True)
    if result.get("restored"):
        console.print(Text(then, style="dim"))
    return not result.get("cancelled")


def overwrite_param(args: argparse.Namespace) -> dict[str, Any]:
    """`--yes` overwrites files changed by hand, `--keep` keeps them; neither: the server asks."""
    if args.yes:
        return {"overwrite": True}
    if args.keep:
        return {"overwrite": False}
    return {}


def cancelled_hint(command: str) -> str:
    return (
        f"to go on, run {command} --yes to overwrite those changes, "
        f"or {command} --keep to keep them and restore the other files"
    )


# ----- the commands --------------------------------------------------------------------------------


def _console() -> Console:
    console = Console(highlight=False)
    console.soft_wrap = not console.is_terminal
    return console


def _no_questions(client: RyanClient, args: argparse.Namespace) -> None:
    """Questions (a conflict's Overwrite?) on stderr, answered on the terminal; dismissed off one."""
    client.approver = make_approver(
        yes=args.yes,
        status=lambda line: print(line, file=sys.stderr, flush=True),
        before_prompt=lambda: None,
        cancel=lambda: None,
    )


async def cmd_diff(args: argparse.Namespace) -> int:
    async def body(client: RyanClient) -> int:
        session_id = await resolve_session(client, args.session or "last")
        assert session_id is not None
        checkpoint = await find_checkpoint(client, session_id, args.checkpoint)
        result = await client.request(DIFF, {"checkpointId": checkpoint["checkpointId"]})
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
            return EXIT_OK
        header = describe_checkpoint(checkpoint) if "files" in checkpoint else None
        print_diff(result or {}, _console(), header=header)
        return EXIT_OK

    return await run_with_client(args, body)


async def cmd_undo(args: argparse.Namespace) -> int:
    if args.yes and args.keep:
        error("--yes and --keep contradict each other: give one")
        return EXIT_USAGE

    async def body(client: RyanClient) -> int:
        session_id = await resolve_session(client, args.session or "last")
        assert session_id is not None
        checkpoint = await find_checkpoint(client, session_id, args.checkpoint, for_undo=True)
        _no_questions(client, args)
        params = {"checkpointId": checkpoint["checkpointId"], **overwrite_param(args)}
        result = (await client.request(RESTORE, params)) or {}
        return _report(
            args,
            result,
            title=f"undid {describe_checkpoint(checkpoint)}",
            command="ryan undo",
            then="ryan redo puts them back",
        )

    return await run_with_client(args, body)


async def cmd_redo(args: argparse.Namespace) -> int:
    if args.yes and args.keep:
        error("--yes and --keep contradict each other: give one")
        return EXIT_USAGE

    async def body(client: RyanClient) -> int:
        session_id = await resolve_session(client, args.session or "last")
        _no_questions(client, args)
        result = (await client.request(REDO, {"sessionId": session_id, **overwrite_param(args)})) or {}
        return _report(
            args,
            result,
            title="redid the last undo",
            command="ryan redo",
            then="ryan undo takes them back again",
        )

    return await run_with_client(args, body)


def _report(args: argparse.Namespace, result: dict[str, Any], *, title: str, command: str, then: str) -> int:
    """Print a restore's result (or its JSON); a cancelled one is an error naming the flags."""
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    if result.get("cancelled"):
        error(
            f"{restore_lines(result, again=command)[0][0]} (neither Overwrite nor Keep my changes was chosen)"
        )
        error(cancelled_hint(command))
        return EXIT_ERROR
    if not args.json:
        print_restore(result, _console(), title=title, again=command, then=then)
    return EXIT_OK
