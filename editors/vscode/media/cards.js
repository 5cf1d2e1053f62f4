// @ts-check
/**
 * The cards inside a turn: a tool call (its arguments, result and a command's live output) and an
 * approval question with its buttons. Text only: model output never becomes markup here.
 */

import { el } from './dom.js';
import { diffLineKind, toolArgsText, toolLabel, toolTarget } from '../src/messages';
import { AnsiStripper, OUTPUT_LIMIT, OutputTail, commandEnd, sizeText, stripAnsi } from '../src/output';

/** @typedef {import('../src/protocol').FromWebview} FromWebview */

/**
 * @typedef {object} LiveOutput a running command's output in its tool card
 * @property {HTMLElement} pre the output, a text node per piece (as `tail` keeps them)
 * @property {HTMLElement} note says how much earlier output was cut
 * @property {AnsiStripper} ansi
 * @property {OutputTail} tail
 * @property {boolean} stick whether it follows new output (the user has not scrolled up)
 * @property {number} lastTop its scrollTop at the last scroll event, to tell the user scrolling up
 * @property {boolean} queued a scroll to the bottom is queued for the next frame
 */

/**
 * What the cards need of the transcript: posting to the extension, scrolling to the end, and following
 * the end again (an approval must be seen).
 * @type {{post: (m: FromWebview) => void, scrollToEnd: () => void, follow: () => void}}
 */
let hooks = { post: () => undefined, scrollToEnd: () => undefined, follow: () => undefined };
export function initCards(/** @type {typeof hooks} */ h) {
  hooks = h;
}

export const STATUS_LABEL = /** @type {Record<string, string>} */ ({ running: 'running…', ok: 'done', error: 'failed', denied: 'denied' });

/**
 * @param {HTMLElement} parent
 * @param {{callId: string, name: string, arguments: unknown, status: string, output?: string, server?: string, tool?: string}} call
 */
export function toolCard(parent, call) {
  const card = el('details', `tool-card status-${call.status}`);
  card.dataset.callId = call.callId;
  card.dataset.name = call.name;
  const summary = el('summary');
  // An MCP server's tool shows as "server › tool"; its full name (mcp__server__tool) on hover.
  const name = el('span', 'tool-name', toolLabel(call));
  name.title = call.name;
  // The file, pattern or command (run_command) it works on; the whole of it on hover.
  const target = el('span', 'tool-path', toolTarget(call.name, call.arguments));
  target.title = target.textContent || '';
  summary.append(name, target, el('span', 'tool-status', STATUS_LABEL[call.status] || call.status));
  const args = el('pre', 'tool-args', toolArgsText(call.name, call.arguments));
  const out = el('pre', 'tool-output', call.output || '');
  card.append(summary, args, out);
  parent.append(card);
  hooks.scrollToEnd();
  return card;
}

/**
 * A tool's result in its card. A command's card says how it ended (`exit code 1`, `stopped`) from its
 * result's last line; its live output stays, and the result (the same output) is not repeated below it.
 */
export function setToolResult(/** @type {HTMLElement} */ card, /** @type {string} */ status, /** @type {string} */ output) {
  const command = card.dataset.name === 'run_command';
  const end = command && status === 'ok' ? commandEnd(output) : undefined;
  card.className = `tool-card status-${status}${end && !end.success ? ' exit-failed' : ''}`;
  const s = /** @type {HTMLElement | null} */ (card.querySelector('.tool-status'));
  if (s) {
    s.textContent = end ? end.label : STATUS_LABEL[status] || status;
    s.title = end ? end.detail : '';
  }
  const o = card.querySelector('.tool-output');
  const live = card.querySelector('.tool-live');
  if (o) o.textContent = live && status === 'ok' ? '' : command ? stripAnsi(output) : output;
}

/** The live output block of a running command's card, made (and the card opened) on its first output. */
export function liveOutput(/** @type {{outputs: Map<string, LiveOutput>}} */ turn, /** @type {HTMLElement} */ card, /** @type {string} */ callId) {
  const known = turn.outputs.get(callId);
  if (known) return known;
  const note = el('div', 'tool-live-cut');
  note.hidden = true;
  const pre = el('pre', 'tool-live');
  pre.setAttribute('aria-label', 'Output');
  card.insertBefore(note, card.querySelector('.tool-output'));
  card.insertBefore(pre, card.querySelector('.tool-output'));
  /** @type {LiveOutput} */
  const live = { pre, note, ansi: new AnsiStripper(), tail: new OutputTail(), stick: true, lastTop: 0, queued: false };
  // Following stops when the user scrolls up and starts again when they are back at the end. Output
  // that arrived before a scroll event is handled must not count as scrolling up: only a move up does.
  pre.addEventListener('scroll', () => {
    const top = pre.scrollTop;
    if (pre.scrollHeight - top - pre.clientHeight < 24) live.stick = true;
    else if (top < live.lastTop) live.stick = false;
    live.lastTop = top;
  });
  /** @type {HTMLDetailsElement} */ (card).open = true;
  turn.outputs.set(callId, live);
  return live;
}

/**
 * Appends a piece of a command's output, as text: escape sequences removed, only the last
 * OUTPUT_LIMIT characters kept (the note says how much was cut), following the end unless the
 * user scrolled up.
 */
export function appendOutput(/** @type {LiveOutput} */ live, /** @type {string} */ piece) {
  const text = live.ansi.push(piece);
  if (!text) return;
  const change = live.tail.push(text);
  live.pre.append(document.createTextNode(text));
  for (let i = 0; i < change.drop; i++) live.pre.firstChild?.remove();
  const first = /** @type {Text | null} */ (live.pre.firstChild);
  if (change.first !== undefined && first) first.data = change.first;
  if (live.tail.cut) {
    live.note.hidden = false;
    live.note.textContent =
      `Earlier output was cut: ${sizeText(live.tail.cut)} not shown (the panel keeps the last ${sizeText(OUTPUT_LIMIT)}).`;
  }
  if (live.stick && !live.queued) {
    live.queued = true;
    requestAnimationFrame(() => {
      live.queued = false;
      if (!live.stick) return;
      live.pre.scrollTop = live.pre.scrollHeight;
      live.lastTop = live.pre.scrollTop;
    });
  }
  hooks.scrollToEnd();
}

/**
 * An approval card: the server's question, a write's diff (text only, a line each, coloured by
 * kind) and a button per action. A click answers at once; `settleApproval` disables it.
 * @param {HTMLElement} parent
 * @param {{approvalId: string, question: string, diff: string, actions: string[]}} a
 */
export function approvalCard(parent, a) {
  const card = el('div', 'approval-card pending');
  card.dataset.approvalId = a.approvalId;
  card.setAttribute('role', 'group');
  card.setAttribute('aria-label', 'Approval');
  card.append(el('div', 'approval-question', a.question));
  if (a.diff) {
    const pre = el('pre', 'approval-diff');
    for (const line of a.diff.split('\n')) pre.append(el('span', `diff-line diff-${diffLineKind(line)}`, `${line}\n`));
    card.append(pre);
  }
  const row = el('div', 'approval-actions');
  for (const action of a.actions) {
    const b = el('button', `approval-action${action === 'Deny' ? ' deny' : ''}`, action);
    b.type = 'button';
    b.addEventListener('click', () => {
      if (!card.classList.contains('pending')) return;
      hooks.post({ type: 'approve', approvalId: a.approvalId, action });
      settleApproval(card, action);
    });
    row.append(b);
  }
  card.append(row, el('div', 'approval-outcome'));
  parent.append(card);
  hooks.follow();
  return card;
}

/** Marks an approval card answered (`choice`) or no longer asked, and disables its buttons. */
export function settleApproval(/** @type {HTMLElement} */ card, /** @type {string | undefined} */ choice) {
  if (!card.classList.contains('pending')) return;
  card.classList.remove('pending');
  card.classList.add(choice ? 'answered' : 'abandoned');
  for (const b of card.querySelectorAll('button')) b.disabled = true;
  const outcome = card.querySelector('.approval-outcome');
  if (outcome) outcome.textContent = choice ? `Answered: ${choice}` : 'No longer asked: the chat stopped.';
}
