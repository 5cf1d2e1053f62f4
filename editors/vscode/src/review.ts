/**
 * Pure logic of reviewing a turn's changes and of branches: which checkpoint belongs to which turn of a
 * redrawn session, what Undo/Redo did in words, a message's place among its versions (`‹ 2/3 ›`), and
 * the `ryan-checkpoint:` documents' query.
 *
 * No `vscode` import: the unit tests run this under plain Node, and the panel script uses it too.
 */

import {
  Branch, Checkpoint, CheckpointFile, ConflictAction, MessageId, RestoreResult, SessionResult, StoredMessage, TurnReview,
} from './protocol';

/** The scheme of the documents that hold a file as it was before a turn (the diff editor's left side). */
export const CHECKPOINT_SCHEME = 'ryan-checkpoint';

/** Ids compare as text: the server sends integers, the webview may hand them back as strings. */
export function sameId(a: MessageId | null | undefined, b: MessageId | null | undefined): boolean {
  return a !== undefined && a !== null && b !== undefined && b !== null && String(a) === String(b);
}

/** True for the question a restore asks about files changed by hand: `Overwrite` / `Keep my changes`. */
export function isConflictQuestion(actions: readonly string[]): boolean {
  return actions.includes(ConflictAction.overwrite) && actions.includes(ConflictAction.keep);
}

/** `+3 −1` for a changed file's line. */
export function lineCounts(file: Pick<CheckpointFile, 'added' | 'removed'>): string {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return `+${n(file.added)} −${n(file.removed)}`;
}

/** The last part of a path as the tools name it (`src/app.py` → `app.py`). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

/**
 * The diff editor's title: `app.py (before Ryan's turn) ↔ app.py`, and `(deleted)` on the right when
 * the file does not exist now.
 */
export function diffTitle(path: string, existsNow = true): string {
  const name = baseName(path);
  return `${name} (before Ryan's turn) ↔ ${name}${existsNow ? '' : ' (deleted)'}`;
}

/** The query of a `ryan-checkpoint:` document: which checkpoint (its id as the server sent it), which file. */
export function checkpointQuery(checkpointId: number | string, path: string): string {
  return new URLSearchParams({ checkpoint: JSON.stringify(checkpointId), path }).toString();
}

/** The checkpoint and path of a `ryan-checkpoint:` document's query; undefined for an empty side. */
export function parseCheckpointQuery(query: string): { checkpointId: number | string; path: string } | undefined {
  const q = new URLSearchParams(query);
  const raw = q.get('checkpoint');
  const path = q.get('path');
  if (!raw || !path) return undefined;
  try {
    const id: unknown = JSON.parse(raw);
    return typeof id === 'number' || typeof id === 'string' ? { checkpointId: id, path } : undefined;
  } catch {
    return undefined;
  }
}

function list(paths: string[]): string {
  return paths.join(', ');
}

/** What a turn shows after Undo this turn (`restore`) or Redo (`redo`), in one line. */
export function restoreSummary(result: Partial<RestoreResult>, action: 'restore' | 'redo'): string {
  if (result.cancelled) return action === 'restore' ? 'Undo cancelled: nothing was changed.' : 'Redo cancelled: nothing was changed.';
  const restored = Array.isArray(result.restored) ? result.restored : [];
  const skipped = Array.isArray(result.skipped) ? result.skipped : [];
  const conflicts = Array.isArray(result.conflicts) ? result.conflicts : [];
  const parts: string[] = [];
  if (restored.length) parts.push(`${action === 'restore' ? 'Restored' : 'Redone'}: ${list(restored)}`);
  const overwritten = conflicts.filter((p) => restored.includes(p));
  const kept = conflicts.filter((p) => !restored.includes(p));
  if (overwritten.length) parts.push(`overwrote your changes in ${list(overwritten)}`);
  if (kept.length) parts.push(`kept your changes in ${list(kept)}`);
  // A kept file may be listed as skipped too: "kept your changes" says it already.
  for (const s of skipped) if (!kept.includes(s.path)) parts.push(`skipped ${s.path}${s.reason ? ` (${s.reason})` : ''}`);
  if (!parts.length) return action === 'restore' ? 'Nothing to restore: the files are as they were.' : 'Nothing to redo.';
  return parts.join(' · ');
}

function timeOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v; // seconds or ms
  if (typeof v === 'string' && v) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** The turns of a session's active branch: each user message and the messages that answer it. */
export function sessionTurns(messages: readonly StoredMessage[]): { user: StoredMessage; answer: StoredMessage[] }[] {
  const turns: { user: StoredMessage; answer: StoredMessage[] }[] = [];
  for (const m of messages) {
    if (m.role === 'user') turns.push({ user: m, answer: [] });
    else if (turns.length) turns[turns.length - 1].answer.push(m);
  }
  return turns;
}

/**
 * The checkpoint of each turn of a redrawn session: the one whose `messageId` is the turn's user
 * message. Should several chats on one message (regenerated answers) have one each, the one made
 * while the answer in view ran (its messages' time span), else the latest.
 */
export function assignCheckpoints(messages: readonly StoredMessage[], checkpoints: readonly Checkpoint[]): TurnReview[] {
  const out: TurnReview[] = [];
  for (const { user, answer } of sessionTurns(messages)) {
    const candidates = checkpoints.filter((c) => sameId(c.messageId, user.id));
    if (!candidates.length || user.id === undefined) continue;
    let pick = candidates[candidates.length - 1];
    if (candidates.length > 1) {
      const times = answer.map((m) => timeOf(m.createdAt)).filter((t): t is number => t !== undefined);
      if (times.length) {
        const from = Math.min(...times);
        const to = Math.max(...times);
        const inside = candidates.filter((c) => {
          const t = timeOf(c.createdAt);
          return t !== undefined && t >= from && t <= to;
        });
        if (inside.length) pick = inside[inside.length - 1];
      }
    }
    out.push({ messageId: user.id, checkpoint: pick });
  }
  return out;
}

/** A message's versions when it has more than one (the switcher shows then), else undefined. */
export function branchOf(m: Pick<StoredMessage, 'id' | 'siblings'>): Branch | undefined {
  if (m.id === undefined || !Array.isArray(m.siblings) || m.siblings.length < 2) return undefined;
  return { id: m.id, siblings: m.siblings };
}

/** `‹ 2/3 ›`: the message's 1-based place among its versions, and the versions before and after it. */
export function branchPosition(b: Branch): { index: number; count: number; prev?: MessageId; next?: MessageId } {
  const i = b.siblings.findIndex((s) => sameId(s, b.id));
  const index = i < 0 ? b.siblings.length : i + 1;
  return {
    index,
    count: b.siblings.length,
    prev: i > 0 ? b.siblings[i - 1] : undefined,
    next: i >= 0 && i < b.siblings.length - 1 ? b.siblings[i + 1] : undefined,
  };
}

/**
 * The ids and versions of the last turn of a session: its user message and the first message of its
 * answer (where a regenerated answer branches off). Both present even with one version, so the panel
 * learns the ids; `siblings` says whether a switcher shows.
 */
export function lastTurnBranches(session: Pick<SessionResult, 'messages'>): { user?: Branch; answer?: Branch } {
  const turns = sessionTurns(session.messages ?? []);
  const last = turns[turns.length - 1];
  if (!last) return {};
  const asBranch = (m: StoredMessage | undefined): Branch | undefined =>
    m && m.id !== undefined ? { id: m.id, siblings: Array.isArray(m.siblings) && m.siblings.length ? m.siblings : [m.id] } : undefined;
  return { user: asBranch(last.user), answer: asBranch(last.answer.find((m) => m.role === 'assistant')) };
}
