// @ts-check
/**
 * The panel's parts for going back: under an answer, the files its turn changed (a click opens VS Code's
 * diff editor) with "Undo this turn" / "Redo"; "Regenerate" on the last answer; and the `‹ 2/3 ›`
 * switcher on a message that has other versions. Everything is text and buttons; the extension does
 * the work (messages `openDiff`, `restore`, `redo`, `regenerate`, `switchBranch`).
 */

import { el } from './dom.js';
import { branchPosition, lineCounts } from '../src/review';

/** @typedef {import('../src/protocol').Checkpoint} Checkpoint */
/** @typedef {import('../src/protocol').Branch} Branch */
/** @typedef {import('../src/protocol').FromWebview} FromWebview */

/** @type {(m: FromWebview) => void} */
let post = () => undefined;
/** @type {() => boolean} */
let isBusy = () => false;

/**
 * @param {(m: FromWebview) => void} postMessage
 * @param {() => boolean} busy whether a chat runs (the buttons then do nothing)
 */
export function initReview(postMessage, busy) {
  post = postMessage;
  isBusy = busy;
}

const CHANGE_LABEL = /** @type {Record<string, string>} */ ({ created: 'created', modified: 'modified', deleted: 'deleted' });

/**
 * The changed files of a turn: a line per file (path, created/modified/deleted, +added −removed)
 * opening the diff editor, and Undo this turn (Redo once undone).
 * @param {Checkpoint} checkpoint
 */
export function reviewBlock(checkpoint) {
  const box = el('div', 'turn-review');
  box.dataset.checkpointId = String(checkpoint.checkpointId);
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', 'Changed files');
  const files = checkpoint.files || [];
  const head = el('div', 'review-head');
  const title = el('span', 'review-title', `Changed ${files.length} file${files.length === 1 ? '' : 's'}`);
  title.dataset.text = title.textContent || '';
  const undo = el('button', 'review-undo turn-action');
  undo.type = 'button';
  undo.addEventListener('click', () => {
    if (isBusy() || box.classList.contains('pending')) return;
    const redo = box.classList.contains('undone');
    box.classList.add('pending');
    undo.disabled = true;
    setResult(box, redo ? 'Redoing…' : 'Undoing…', false);
    post({ type: redo ? 'redo' : 'restore', checkpointId: checkpoint.checkpointId });
  });
  head.append(title, undo);
  const list = el('ul', 'review-files');
  for (const f of files) {
    const item = el('li');
    const open = el('button', 'review-file');
    open.type = 'button';
    open.dataset.path = f.path;
    open.title = `Show the changes of ${f.path} (before Ryan's turn ↔ now)`;
    const change = CHANGE_LABEL[f.change] || String(f.change);
    const [added, removed] = lineCounts(f).split(' ');
    open.append(
      el('span', 'file-path', f.path),
      el('span', `file-change change-${change}`, change),
      el('span', 'file-added', added),
      el('span', 'file-removed', removed),
    );
    open.addEventListener('click', () => post({ type: 'openDiff', checkpointId: checkpoint.checkpointId, path: f.path }));
    item.append(open);
    list.append(item);
  }
  const result = el('div', 'review-result');
  result.setAttribute('role', 'status');
  box.append(head, list, result);
  setUndone(box, !!checkpoint.undone);
  return box;
}

/** Shows a turn as undone (its button then redoes) or not. */
function setUndone(/** @type {HTMLElement} */ box, /** @type {boolean} */ undone) {
  box.classList.toggle('undone', undone);
  const title = /** @type {HTMLElement | null} */ (box.querySelector('.review-title'));
  if (title) title.textContent = `${title.dataset.text || ''}${undone ? ' · undone' : ''}`;
  const b = /** @type {HTMLButtonElement | null} */ (box.querySelector('.review-undo'));
  if (!b) return;
  b.textContent = undone ? 'Redo' : 'Undo this turn';
  b.title = undone
    ? "Put back what Undo replaced (the session's latest undo)"
    : "Put this turn's files (and the later turns' files) back as they were before it";
  b.disabled = box.classList.contains('pending') || isBusy();
}

function setResult(/** @type {HTMLElement} */ box, /** @type {string} */ text, /** @type {boolean} */ failed) {
  const r = box.querySelector('.review-result');
  if (r) r.textContent = text;
  box.classList.toggle('failed', failed);
}

/** The review blocks of a checkpoint id (as text: ids arrive as numbers or strings). */
function blocks(/** @type {ParentNode} */ root, /** @type {number | string} */ checkpointId) {
  return [...root.querySelectorAll('.turn-review')].filter(
    (b) => /** @type {HTMLElement} */ (b).dataset.checkpointId === String(checkpointId),
  ).map((b) => /** @type {HTMLElement} */ (b));
}

/** The first review block of a checkpoint, if it is shown. */
export function reviewFor(/** @type {ParentNode} */ root, /** @type {number | string} */ checkpointId) {
  return blocks(root, checkpointId)[0];
}

/**
 * Updates the shown turns' undone state.
 * @param {ParentNode} root
 * @param {{checkpointId: number | string, undone: boolean}[]} states
 */
export function setCheckpointStates(root, states) {
  for (const s of states) for (const box of blocks(root, s.checkpointId)) setUndone(box, s.undone);
}

/**
 * An Undo or Redo ended: its outcome in words under the files.
 * @param {ParentNode} root
 * @param {{checkpointId: number | string, text: string, failed?: boolean}} m
 */
export function restoreDone(root, m) {
  for (const box of blocks(root, m.checkpointId)) {
    box.classList.remove('pending');
    setResult(box, m.text, !!m.failed);
    setUndone(box, box.classList.contains('undone'));
  }
}

/**
 * `‹ 2/3 ›`: the message's place among its versions; the arrows show the previous or next one.
 * @param {Branch} branch
 * @param {string} what "answer" or "message", for the buttons' labels
 */
export function branchNav(branch, what) {
  const pos = branchPosition(branch);
  const nav = el('div', 'branch-nav');
  nav.setAttribute('role', 'group');
  nav.setAttribute('aria-label', `Versions of this ${what}`);
  /** @param {string} cls @param {string} label @param {string} text @param {import('../src/protocol').MessageId | undefined} target */
  const arrow = (cls, label, text, target) => {
    const b = el('button', `icon-button turn-action ${cls}`, text);
    b.type = 'button';
    b.title = label;
    b.setAttribute('aria-label', label);
    b.dataset.never = target === undefined ? '1' : '';
    b.disabled = target === undefined || isBusy();
    b.addEventListener('click', () => {
      if (target !== undefined && !isBusy()) post({ type: 'switchBranch', messageId: target });
    });
    return b;
  };
  nav.append(
    arrow('branch-prev', `Previous version of this ${what}`, '‹', pos.prev),
    el('span', 'branch-pos', `${pos.index}/${pos.count}`),
    arrow('branch-next', `Next version of this ${what}`, '›', pos.next),
  );
  return nav;
}

/** The row of an answer's own buttons (versions, Regenerate), made on first use. */
export function turnActions(/** @type {HTMLElement} */ answer) {
  let row = /** @type {HTMLElement | null} */ (answer.querySelector(':scope > .turn-actions'));
  if (!row) {
    row = el('div', 'turn-actions');
    answer.append(row);
  }
  return row;
}

/**
 * Puts "Regenerate" on the last answer of the transcript only (an answer after the last question), and
 * takes it off the others.
 * @param {HTMLElement} messages the transcript
 */
export function markLastAnswer(messages) {
  for (const b of messages.querySelectorAll('.regenerate')) b.remove();
  for (const row of messages.querySelectorAll('.turn-actions')) if (!row.childElementCount) row.remove();
  const last = /** @type {HTMLElement | null} */ (messages.lastElementChild);
  if (!last || !last.classList.contains('assistant') || last.classList.contains('streaming')) return;
  const b = el('button', 'icon-button turn-action regenerate', 'Regenerate');
  b.type = 'button';
  b.title = 'Answer the last message again (this answer stays as another version)';
  b.disabled = isBusy();
  b.addEventListener('click', () => {
    if (!isBusy()) post({ type: 'regenerate' });
  });
  turnActions(last).append(b);
}

/** Enables or disables every turn button while a chat runs (arrows with nowhere to go stay disabled). */
export function setActionsBusy(/** @type {ParentNode} */ root, /** @type {boolean} */ busy) {
  for (const b of root.querySelectorAll('.turn-action')) {
    const button = /** @type {HTMLButtonElement} */ (b);
    const pending = button.closest('.turn-review.pending');
    button.disabled = busy || !!pending || button.dataset.never === '1';
  }
}
