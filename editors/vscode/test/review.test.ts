/** Unit tests: checkpoints ↔ turns, Undo/Redo results in words, branches, the checkpoint documents' query. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Checkpoint, StoredMessage } from '../src/protocol';
import {
  assignCheckpoints, baseName, branchOf, branchPosition, checkpointQuery, diffTitle, isConflictQuestion, lastTurnBranches,
  lineCounts, parseCheckpointQuery, restoreSummary, sameId, sessionTurns,
} from '../src/review';

const cp = (checkpointId: number, messageId: number, createdAt?: string): Checkpoint => ({
  checkpointId, messageId, createdAt, files: [{ path: 'a.py', uri: 'file:///w/a.py', change: 'modified', added: 1, removed: 1 }],
  undone: false,
});

describe('checkpoints of a redrawn session', () => {
  const messages: StoredMessage[] = [
    { id: 1, role: 'user', content: 'make a', createdAt: '2026-01-01T10:00:00.000Z', siblings: [1] },
    { id: 2, role: 'assistant', content: '', createdAt: '2026-01-01T10:00:01.000Z', siblings: [2] },
    { id: 3, role: 'tool', content: 'ok', createdAt: '2026-01-01T10:00:02.000Z', siblings: [3] },
    { id: 4, role: 'assistant', content: 'done', createdAt: '2026-01-01T10:00:03.000Z', siblings: [4] },
    { id: 5, role: 'user', content: 'explain', createdAt: '2026-01-01T10:01:00.000Z', siblings: [5] },
    { id: 9, role: 'assistant', content: 'v2', createdAt: '2026-01-01T10:05:00.000Z', siblings: [6, 9] },
    { id: 10, role: 'tool', content: 'ok', createdAt: '2026-01-01T10:05:02.000Z', siblings: [10] },
  ];
  it('splits the active branch into turns', () => {
    const turns = sessionTurns(messages);
    assert.deepEqual(turns.map((t) => [t.user.id, t.answer.map((m) => m.id)]), [[1, [2, 3, 4]], [5, [9, 10]]]);
  });
  it('matches a checkpoint to its user message, ids as text or numbers', () => {
    const c1 = { ...cp(7, 1), messageId: '1' };
    assert.deepEqual(assignCheckpoints(messages, [c1]), [{ messageId: 1, checkpoint: c1 }]);
    assert.deepEqual(assignCheckpoints(messages, [cp(8, 42)]), []);
  });
  it('picks the checkpoint made while the answer in view ran when a message has several', () => {
    const old = cp(11, 5, '2026-01-01T10:02:00.500Z'); // the earlier answer (id 6), not in view
    const now = cp(12, 5, '2026-01-01T10:05:01.000Z');
    assert.equal(assignCheckpoints(messages, [old, now])[0].checkpoint, now);
    const later = cp(13, 5, '2026-01-01T11:00:00.000Z');
    assert.equal(assignCheckpoints(messages, [old, now, later])[0].checkpoint, now);
    // No time to go by: the latest.
    assert.equal(assignCheckpoints(messages, [cp(1, 5), cp(2, 5)])[0].checkpoint.checkpointId, 2);
  });
});

describe('branches', () => {
  it('shows a switcher only for a message with versions', () => {
    assert.equal(branchOf({ id: 3, siblings: [3] }), undefined);
    assert.equal(branchOf({ id: 3 }), undefined);
    assert.deepEqual(branchOf({ id: 3, siblings: [1, 3] }), { id: 3, siblings: [1, 3] });
  });
  it('says where a message is among its versions', () => {
    assert.deepEqual(branchPosition({ id: 4, siblings: [2, 4, 9] }), { index: 2, count: 3, prev: 2, next: 9 });
    assert.deepEqual(branchPosition({ id: 2, siblings: [2, 4] }), { index: 1, count: 2, prev: undefined, next: 4 });
    assert.deepEqual(branchPosition({ id: '4', siblings: [2, 4] }), { index: 2, count: 2, prev: 2, next: undefined });
  });
  it('finds the last turn\'s user message and the start of its answer', () => {
    const session = {
      messages: [
        { id: 1, role: 'user', content: 'a', siblings: [1] },
        { id: 2, role: 'assistant', content: 'b', siblings: [2] },
        { id: 3, role: 'user', content: 'c' },
        { id: 8, role: 'assistant', content: 'd', siblings: [4, 8] },
        { id: 9, role: 'tool', content: 'e', siblings: [9] },
      ] as StoredMessage[],
    };
    assert.deepEqual(lastTurnBranches(session), { user: { id: 3, siblings: [3] }, answer: { id: 8, siblings: [4, 8] } });
    assert.deepEqual(lastTurnBranches({ messages: [] }), {});
  });
  it('compares ids as text', () => {
    assert.ok(sameId(3, '3'));
    assert.ok(!sameId(3, undefined));
    assert.ok(!sameId(null, null));
  });
});

describe('Undo and Redo in words', () => {
  it('lists what was restored, skipped and kept', () => {
    assert.equal(restoreSummary({ restored: ['a.py', 'src/b.py'], skipped: [], conflicts: [], cancelled: false }, 'restore'),
      'Restored: a.py, src/b.py');
    assert.equal(
      restoreSummary({
        restored: ['a.py', 'c.py'], skipped: [{ path: '../x', reason: 'outside the workspace' }], conflicts: ['c.py', 'd.py'],
        cancelled: false,
      }, 'restore'),
      'Restored: a.py, c.py · overwrote your changes in c.py · kept your changes in d.py · skipped ../x (outside the workspace)');
    assert.equal(restoreSummary({ restored: ['a.py'], skipped: [], conflicts: [], cancelled: false }, 'redo'), 'Redone: a.py');
    // A kept file the server also lists as skipped is named once.
    assert.equal(
      restoreSummary({
        restored: ['b.py'], skipped: [{ path: 'a.py', reason: "changed since Ryan's edits; kept" }], conflicts: ['a.py'], cancelled: false,
      }, 'restore'),
      'Restored: b.py · kept your changes in a.py');
  });
  it('says when nothing happened', () => {
    assert.equal(restoreSummary({ restored: [], skipped: [], conflicts: ['a.py'], cancelled: true }, 'restore'),
      'Undo cancelled: nothing was changed.');
    assert.equal(restoreSummary({ restored: [], skipped: [], conflicts: [], cancelled: false }, 'restore'),
      'Nothing to restore: the files are as they were.');
    assert.equal(restoreSummary({}, 'redo'), 'Nothing to redo.');
  });
  it('recognises the question about files changed by hand', () => {
    assert.ok(isConflictQuestion(['Overwrite', 'Keep my changes']));
    assert.ok(!isConflictQuestion(['Allow', 'Deny']));
  });
});

describe('the diff editor', () => {
  it('names both sides', () => {
    assert.equal(diffTitle('src/a.py'), "a.py (before Ryan's turn) ↔ a.py");
    assert.equal(diffTitle('old.txt', false), "old.txt (before Ryan's turn) ↔ old.txt (deleted)");
    assert.equal(baseName('/abs/dir/x.ts'), 'x.ts');
    assert.equal(lineCounts({ added: 3, removed: 0 }), '+3 −0');
  });
  it('keeps the checkpoint id\'s type through the document query', () => {
    assert.deepEqual(parseCheckpointQuery(checkpointQuery(12, 'src/a b.py')), { checkpointId: 12, path: 'src/a b.py' });
    assert.deepEqual(parseCheckpointQuery(checkpointQuery('c-1', 'x&y=z.py')), { checkpointId: 'c-1', path: 'x&y=z.py' });
    assert.equal(parseCheckpointQuery(''), undefined);
    assert.equal(parseCheckpointQuery('checkpoint=%7Bbad&path=a'), undefined);
  });
});
