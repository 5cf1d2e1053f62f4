// @ts-check
/**
 * Earlier sessions: the list under History (open or delete one) and redrawing a stored session in the
 * transcript, with its tool cards, its turns' changed files and its `‹ 2/3 ›` switchers.
 */

import { el } from './dom.js';
import { STATUS_LABEL, setToolResult, toolCard } from './cards.js';
import { branchOf } from '../src/review';
import { markLastAnswer, reviewBlock, turnActions } from './review.js';
import { panelState, post, saveState } from './host.js';
import { empty, messages, sessionsPanel } from './layout.js';
import { addUser, clearTranscript, follow, md, setBranchNav } from './transcript.js';

/** @typedef {import('../src/protocol').SessionResult} SessionResult */
/** @typedef {import('../src/protocol').SessionSummary} SessionSummary */
/** @typedef {import('../src/protocol').TurnReview} TurnReview */

export function showSessions(/** @type {SessionSummary[]} */ sessions) {
  sessionsPanel.replaceChildren();
  const head = el('div', 'sessions-head', sessions.length ? 'Earlier sessions' : 'No earlier sessions');
  const close = el('button', 'icon-button', '×');
  close.title = 'Close';
  close.addEventListener('click', () => sessionsPanel.classList.add('hidden'));
  head.append(close);
  sessionsPanel.append(head);
  for (const s of sessions) {
    const row = el('div', 'session-row');
    const item = el('button', 'session-item');
    item.append(el('span', 'session-title', s.title || '(untitled)'), el('span', 'session-meta', `${s.messageCount} messages${s.model ? ` · ${s.model}` : ''}`));
    if (s.sessionId === panelState().sessionId) row.classList.add('current');
    item.addEventListener('click', () => {
      sessionsPanel.classList.add('hidden');
      post({ type: 'openSession', sessionId: s.sessionId });
    });
    // The extension asks for a confirmation, then sends the list again.
    const del = el('button', 'icon-button session-delete', '×');
    del.title = 'Delete this session';
    del.setAttribute('aria-label', `Delete the session ${s.title || '(untitled)'}`);
    del.addEventListener('click', () => post({ type: 'deleteSession', sessionId: s.sessionId, title: s.title }));
    row.append(item, del);
    sessionsPanel.append(row);
  }
  sessionsPanel.classList.remove('hidden');
}

/** Redraws a stored session. */
export function showSession(/** @type {SessionResult} */ session, /** @type {TurnReview[]} */ reviews = []) {
  clearTranscript();
  /** @type {Map<string, HTMLElement>} */
  const users = new Map();
  saveState({ sessionId: session.sessionId });
  /** @type {Map<string, HTMLElement>} */
  const cards = new Map();
  /** @type {HTMLElement[]} */
  const unmatched = [];
  /** @type {HTMLElement | undefined} */
  let body;
  for (const m of session.messages || []) {
    if (m.role === 'user') {
      const user = addUser(m.content || '', []);
      if (m.id !== undefined) {
        user.dataset.messageId = String(m.id);
        users.set(String(m.id), user);
      }
      setBranchNav(user, branchOf(m), 'message');
      body = undefined;
    } else if (m.role === 'assistant') {
      if (!body) {
        empty.remove();
        const root = el('div', `msg assistant${m.status === 'interrupted' ? ' interrupted' : ''}`);
        body = el('div', 'msg-body');
        root.append(body);
        messages.append(root);
        // The first message of an answer is where a regenerated answer branches off.
        const branch = branchOf(m);
        if (branch) setBranchNav(turnActions(root), branch, 'answer');
      }
      if (m.thinking) {
        const d = el('details', 'thinking');
        d.append(el('summary', undefined, 'Thinking'), el('div', 'thinking-text', m.thinking));
        body.append(d);
      }
      if (m.content) {
        const box = el('div', 'md');
        const frozen = el('div', 'md-frozen');
        box.append(frozen);
        frozen.innerHTML = md.render(m.content);
        body.append(box);
      }
      for (const call of m.toolCalls || []) {
        const id = call.callId || call.id || '';
        const card = toolCard(body, { callId: id, name: call.name, arguments: call.arguments, status: call.status || 'ok' });
        if (id) cards.set(id, card);
        else unmatched.push(card);
      }
    } else if (m.role === 'tool') {
      const card = (m.toolCallId && cards.get(m.toolCallId)) || unmatched.shift();
      if (card) setToolResult(card, m.status && m.status in STATUS_LABEL ? m.status : 'ok', m.content || '');
    }
  }
  for (const r of reviews) {
    const user = users.get(String(r.messageId));
    if (!user) continue;
    let answer = /** @type {HTMLElement | null} */ (user.nextElementSibling);
    if (!answer || !answer.classList.contains('assistant')) {
      answer = el('div', 'msg assistant');
      user.after(answer);
    }
    answer.insertBefore(reviewBlock(r.checkpoint), answer.querySelector(':scope > .turn-actions'));
  }
  markLastAnswer(messages);
  follow();
}
