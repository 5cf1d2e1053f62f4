// @ts-check
/**
 * The transcript while it is written: the user's messages, the answers streaming into their turns
 * (markdown, thinking, progress, the end line with the context meter), and keeping the end in view
 * unless the user has scrolled up.
 */

import { el } from './dom.js';
import { IncrementalMarkdown, createMarkdown, domSink } from './render.js';
import { contextMeter } from '../src/messages';
import { initCards, setToolResult, settleApproval } from './cards.js';
import { branchNav } from './review.js';
import { post } from './host.js';
import { empty, messages } from './layout.js';

/** @typedef {import('../src/protocol').ContextUse} ContextUse */
/** @typedef {import('../src/protocol').Branch} Branch */

/** The panel's markdown-it, for streamed answers and stored ones alike. */
export const md = createMarkdown();

/**
 * @typedef {object} Turn one assistant answer being streamed
 * @property {HTMLElement} root
 * @property {HTMLElement} body
 * @property {HTMLElement} status
 * @property {IncrementalMarkdown | undefined} markdown the open markdown segment
 * @property {HTMLElement | undefined} thinking the open thinking text
 * @property {Map<string, HTMLElement>} cards tool cards by callId
 * @property {Map<string, import('./cards.js').LiveOutput>} outputs the live output blocks of running commands, by callId
 * @property {HTMLElement} progress the server's status (`waiting for the model… 3 s`) until text arrives
 */

/** @type {Map<string, Turn>} */
export const turns = new Map();

function nearBottom() {
  return messages.scrollHeight - messages.scrollTop - messages.clientHeight < 80;
}
let stickToBottom = true;
messages.addEventListener('scroll', () => {
  stickToBottom = nearBottom();
});
let scrollQueued = false;
export function scrollToEnd() {
  if (!stickToBottom || scrollQueued) return;
  scrollQueued = true;
  requestAnimationFrame(() => {
    scrollQueued = false;
    messages.scrollTop = messages.scrollHeight;
  });
}
/** Follows the end again from the next scroll on (without scrolling now). */
export function stickToEnd() {
  stickToBottom = true;
}
/** Follows the end again and scrolls to it. */
export function follow() {
  stickToBottom = true;
  scrollToEnd();
}
initCards({ post, scrollToEnd, follow });

export function addUser(/** @type {string} */ text, /** @type {{label: string}[]} */ context) {
  empty.remove();
  const m = el('div', 'msg user');
  if (context.length) {
    const c = el('div', 'msg-context');
    for (const item of context) c.append(el('span', 'chip', item.label));
    m.append(c);
  }
  m.append(el('div', 'msg-text', text));
  messages.append(m);
  follow();
  return m;
}

/** The question an answer's element answers (the element just before it), if any. */
export function userBefore(/** @type {HTMLElement} */ answer) {
  const p = /** @type {HTMLElement | null} */ (answer.previousElementSibling);
  return p && p.classList.contains('user') ? p : undefined;
}

/**
 * Shows a message's `‹ 2/3 ›` switcher in `container` when it has other versions (replacing any there).
 * @param {HTMLElement} container @param {Branch | undefined} branch @param {string} what @param {boolean} [first]
 */
export function setBranchNav(container, branch, what, first = false) {
  container.querySelector(':scope > .branch-nav')?.remove();
  if (!branch || branch.siblings.length < 2) return;
  const nav = branchNav(branch, what);
  if (first) container.prepend(nav);
  else container.append(nav);
}

/** @returns {Turn} */
export function addTurn(/** @type {string} */ requestId) {
  empty.remove();
  const root = el('div', 'msg assistant streaming');
  const body = el('div', 'msg-body');
  const progress = el('div', 'msg-progress');
  progress.setAttribute('role', 'status');
  progress.hidden = true;
  const status = el('div', 'msg-status');
  root.append(body, progress, status);
  messages.append(root);
  /** @type {Turn} */
  const turn = {
    root, body, status, progress, markdown: undefined, thinking: undefined, cards: new Map(), outputs: new Map(),
  };
  turns.set(requestId, turn);
  scrollToEnd();
  return turn;
}

export function turnFor(/** @type {string} */ requestId) {
  return turns.get(requestId) || addTurn(requestId);
}

/** A markdown segment in `parent`; returns its renderer. */
function markdownSegment(/** @type {HTMLElement} */ parent) {
  const box = el('div', 'md');
  const frozen = el('div', 'md-frozen');
  const live = el('div', 'md-live');
  box.append(frozen, live);
  parent.append(box);
  const sink = domSink(frozen, live);
  return new IncrementalMarkdown(md, {
    freeze: (html) => {
      sink.freeze(html);
      scrollToEnd();
    },
    live: (html) => {
      sink.live(html);
      scrollToEnd();
    },
  });
}

export function closeSegments(/** @type {Turn} */ turn) {
  turn.markdown?.finish();
  turn.markdown = undefined;
  turn.thinking = undefined;
}

/** Shows the server's latest status in the turn (text only); '' removes it. */
export function setProgress(/** @type {Turn} */ turn, /** @type {string} */ text) {
  turn.progress.textContent = text;
  turn.progress.hidden = !text;
  if (text) scrollToEnd();
}

export function appendContent(/** @type {Turn} */ turn, /** @type {string} */ text) {
  setProgress(turn, '');
  turn.thinking = undefined;
  if (!turn.markdown) turn.markdown = markdownSegment(turn.body);
  turn.markdown.append(text);
}

export function appendThinking(/** @type {Turn} */ turn, /** @type {string} */ text) {
  setProgress(turn, '');
  if (!turn.thinking) {
    closeSegments(turn);
    const d = el('details', 'thinking');
    d.append(el('summary', undefined, 'Thinking'));
    const pre = el('div', 'thinking-text');
    d.append(pre);
    turn.body.append(d);
    turn.thinking = pre;
  }
  // Text nodes only: reasoning is shown verbatim and cannot become markup.
  turn.thinking.append(document.createTextNode(text));
  scrollToEnd();
}

export function endTurn(/** @type {Turn} */ turn, /** @type {string} */ meta, /** @type {string} */ cls) {
  for (const card of turn.root.querySelectorAll('.approval-card.pending')) settleApproval(/** @type {HTMLElement} */ (card), undefined);
  closeSegments(turn);
  setProgress(turn, '');
  turn.root.classList.remove('streaming');
  if (cls) turn.root.classList.add(cls);
  turn.status.textContent = meta;
  for (const [, card] of turn.cards) {
    if (card.classList.contains('status-running')) setToolResult(card, 'error', 'Stopped.');
  }
}

/** `· context 41%` after a finished answer's summary, with the token figures as its tooltip. */
export function showContext(/** @type {Turn} */ turn, /** @type {ContextUse} */ use) {
  const meter = contextMeter(use);
  const span = el('span', meter.full ? 'context-meter full' : 'context-meter', meter.text);
  span.title = meter.title;
  if (turn.status.textContent) turn.status.append(' · ');
  turn.status.append(span);
}

export function clearTranscript() {
  for (const [, t] of turns) closeSegments(t);
  turns.clear();
  messages.replaceChildren(empty);
  stickToBottom = true;
}
