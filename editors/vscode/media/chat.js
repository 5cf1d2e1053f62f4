// @ts-check
/**
 * The chat panel's script (bundled by esbuild into dist/webview.js).
 *
 * It only renders and forwards the user's actions: the extension owns the conversation. Messages
 * both ways are `{type}`-tagged; their types are in src/protocol.ts. Model output only ever
 * reaches the DOM as markdown-it output (raw HTML escaped) or as text.
 */

import { el } from './dom.js';
import { IncrementalMarkdown, createMarkdown, domSink } from './render.js';
import { contextMeter, toolCount } from '../src/messages';
import { STATUS_LABEL, appendOutput, approvalCard, initCards, liveOutput, setToolResult, settleApproval, toolCard } from './cards.js';
import { branchOf } from '../src/review';
import {
  branchNav, initReview, markLastAnswer, restoreDone, reviewBlock, reviewFor, setActionsBusy, setCheckpointStates, turnActions,
} from './review.js';

/** @typedef {import('../src/protocol').ToWebview} ToWebview */
/** @typedef {import('../src/protocol').FromWebview} FromWebview */
/** @typedef {import('../src/protocol').PanelState} PanelState */
/** @typedef {import('../src/protocol').ErrorInfo} ErrorInfo */
/** @typedef {import('../src/protocol').SessionResult} SessionResult */
/** @typedef {import('../src/protocol').SessionSummary} SessionSummary */
/** @typedef {import('../src/protocol').ContextUse} ContextUse */
/** @typedef {import('../src/protocol').McpServerStatus} McpServerStatus */
/** @typedef {import('../src/protocol').TurnReview} TurnReview */
/** @typedef {import('../src/protocol').Branch} Branch */

/**
 * @typedef {object} VsCodeApi
 * @property {(msg: FromWebview) => void} postMessage
 * @property {() => PanelState | undefined} getState
 * @property {(s: PanelState) => void} setState
 */

/** @type {VsCodeApi} */
// @ts-expect-error -- provided by the webview host
const vscode = acquireVsCodeApi();
const md = createMarkdown();
initReview((m) => vscode.postMessage(m), () => busy);

/** @type {PanelState} */
let state = vscode.getState() || {};
function saveState(/** @type {Partial<PanelState>} */ patch) {
  state = { ...state, ...patch };
  vscode.setState(state);
}

// ---- layout -------------------------------------------------------------------------------------

const app = /** @type {HTMLElement} */ (document.getElementById('app'));
const header = el('div', 'header');
const modelSelect = el('select', 'model-select');
modelSelect.title = 'Model';
modelSelect.setAttribute('aria-label', 'Model');
const historyButton = el('button', 'icon-button', 'History');
historyButton.title = 'Earlier sessions';
const newButton = el('button', 'icon-button', 'New');
newButton.title = 'New session';
const serverDot = el('span', 'server-dot');
serverDot.title = 'Server';
header.append(modelSelect, historyButton, newButton, serverDot);

// The MCP servers of `ryan/status`: a line each (empty, and so hidden, when there are none).
const mcpList = el('div', 'mcp-servers');
mcpList.setAttribute('aria-label', 'MCP servers');

const banners = el('div', 'banners');
banners.setAttribute('role', 'alert');
const sessionsPanel = el('div', 'sessions hidden');
const messages = el('div', 'messages');
messages.setAttribute('role', 'log');
messages.setAttribute('aria-live', 'polite');
const empty = el('div', 'empty', 'Ask about your code. Ryan can list, read and search the workspace, and edit files with your approval.');
messages.append(empty);

const footer = el('div', 'footer');
const chips = el('div', 'chips');
const inputRow = el('div', 'input-row');
const input = el('textarea', 'input');
input.rows = 3;
input.placeholder = 'Ask Ryan… (Enter to send, Shift+Enter for a new line)';
input.setAttribute('aria-label', 'Message');
input.value = state.draft || '';
const sendButton = el('button', 'send', 'Send');
inputRow.append(input, sendButton);
footer.append(chips, inputRow);
app.append(header, mcpList, banners, sessionsPanel, messages, footer);

// ---- transcript ---------------------------------------------------------------------------------

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
const turns = new Map();
let busy = false;

function nearBottom() {
  return messages.scrollHeight - messages.scrollTop - messages.clientHeight < 80;
}
let stickToBottom = true;
messages.addEventListener('scroll', () => {
  stickToBottom = nearBottom();
});
let scrollQueued = false;
function scrollToEnd() {
  if (!stickToBottom || scrollQueued) return;
  scrollQueued = true;
  requestAnimationFrame(() => {
    scrollQueued = false;
    messages.scrollTop = messages.scrollHeight;
  });
}
initCards({
  post: (m) => vscode.postMessage(m),
  scrollToEnd,
  follow: () => {
    stickToBottom = true;
    scrollToEnd();
  },
});

function addUser(/** @type {string} */ text, /** @type {{label: string}[]} */ context) {
  empty.remove();
  const m = el('div', 'msg user');
  if (context.length) {
    const c = el('div', 'msg-context');
    for (const item of context) c.append(el('span', 'chip', item.label));
    m.append(c);
  }
  m.append(el('div', 'msg-text', text));
  messages.append(m);
  stickToBottom = true;
  scrollToEnd();
  return m;
}

/** The question an answer's element answers (the element just before it), if any. */
function userBefore(/** @type {HTMLElement} */ answer) {
  const p = /** @type {HTMLElement | null} */ (answer.previousElementSibling);
  return p && p.classList.contains('user') ? p : undefined;
}

/**
 * Shows a message's `‹ 2/3 ›` switcher in `container` when it has other versions (replacing any there).
 * @param {HTMLElement} container @param {Branch | undefined} branch @param {string} what @param {boolean} [first]
 */
function setBranchNav(container, branch, what, first = false) {
  container.querySelector(':scope > .branch-nav')?.remove();
  if (!branch || branch.siblings.length < 2) return;
  const nav = branchNav(branch, what);
  if (first) container.prepend(nav);
  else container.append(nav);
}

/** @returns {Turn} */
function addTurn(/** @type {string} */ requestId) {
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

function turnFor(/** @type {string} */ requestId) {
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

function closeSegments(/** @type {Turn} */ turn) {
  turn.markdown?.finish();
  turn.markdown = undefined;
  turn.thinking = undefined;
}

/** Shows the server's latest status in the turn (text only); '' removes it. */
function setProgress(/** @type {Turn} */ turn, /** @type {string} */ text) {
  turn.progress.textContent = text;
  turn.progress.hidden = !text;
  if (text) scrollToEnd();
}

function appendContent(/** @type {Turn} */ turn, /** @type {string} */ text) {
  setProgress(turn, '');
  turn.thinking = undefined;
  if (!turn.markdown) turn.markdown = markdownSegment(turn.body);
  turn.markdown.append(text);
}

function appendThinking(/** @type {Turn} */ turn, /** @type {string} */ text) {
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

function endTurn(/** @type {Turn} */ turn, /** @type {string} */ meta, /** @type {string} */ cls) {
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
function showContext(/** @type {Turn} */ turn, /** @type {ContextUse} */ use) {
  const meter = contextMeter(use);
  const span = el('span', meter.full ? 'context-meter full' : 'context-meter', meter.text);
  span.title = meter.title;
  if (turn.status.textContent) turn.status.append(' · ');
  turn.status.append(span);
}

// ---- banners ------------------------------------------------------------------------------------

function showError(/** @type {ErrorInfo} */ error) {
  const b = el('div', 'banner error');
  const text = el('div', 'banner-text');
  text.append(el('strong', undefined, error.title), el('div', 'banner-message', error.message));
  if (error.available && error.available.length) {
    const pick = el('div', 'banner-models', 'Available: ');
    for (const name of error.available) {
      const btn = el('button', 'link-button', name);
      btn.addEventListener('click', () => {
        vscode.postMessage({ type: 'pickModel', model: name });
        b.remove();
      });
      pick.append(btn);
    }
    text.append(pick);
  }
  const close = el('button', 'icon-button banner-close', '×');
  close.title = 'Dismiss';
  close.addEventListener('click', () => b.remove());
  b.append(text, close);
  banners.replaceChildren(b);
}

function clearErrors() {
  banners.replaceChildren();
}

// ---- MCP servers ----------------------------------------------------------------------------------

const MCP_TROUBLE = new Set(['failed', 'crashed']);

/** A line per MCP server: its name, state and number of tools; why it failed on hover and below it. */
function showMcpServers(/** @type {McpServerStatus[]} */ servers) {
  mcpList.replaceChildren();
  for (const s of servers) {
    const line = el('div', `mcp-server state-${s.state}`);
    line.dataset.name = s.name;
    const head = el('div', 'mcp-head');
    head.append(
      el('span', 'mcp-dot'),
      el('span', 'mcp-name', s.name),
      el('span', 'mcp-state', s.state),
      el('span', 'mcp-tools', toolCount(s.tools.length)),
    );
    line.append(head);
    line.title = s.error ? `${s.name}: ${s.error}` : s.tools.length ? `${s.name}: ${s.tools.join(', ')}` : s.name;
    if (s.error && MCP_TROUBLE.has(s.state)) line.append(el('div', 'mcp-error', s.error));
    mcpList.append(line);
  }
}

// ---- sessions -----------------------------------------------------------------------------------

function clearTranscript() {
  for (const [, t] of turns) closeSegments(t);
  turns.clear();
  messages.replaceChildren(empty);
  stickToBottom = true;
}

function showSessions(/** @type {SessionSummary[]} */ sessions) {
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
    if (s.sessionId === state.sessionId) row.classList.add('current');
    item.addEventListener('click', () => {
      sessionsPanel.classList.add('hidden');
      vscode.postMessage({ type: 'openSession', sessionId: s.sessionId });
    });
    // The extension asks for a confirmation, then sends the list again.
    const del = el('button', 'icon-button session-delete', '×');
    del.title = 'Delete this session';
    del.setAttribute('aria-label', `Delete the session ${s.title || '(untitled)'}`);
    del.addEventListener('click', () => vscode.postMessage({ type: 'deleteSession', sessionId: s.sessionId, title: s.title }));
    row.append(item, del);
    sessionsPanel.append(row);
  }
  sessionsPanel.classList.remove('hidden');
}

/** Redraws a stored session. */
function showSession(/** @type {SessionResult} */ session, /** @type {TurnReview[]} */ reviews = []) {
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
  stickToBottom = true;
  scrollToEnd();
}

// ---- input --------------------------------------------------------------------------------------

function setBusy(/** @type {boolean} */ b) {
  busy = b;
  sendButton.textContent = b ? 'Stop' : 'Send';
  sendButton.classList.toggle('stop', b);
  sendButton.title = b ? 'Stop the answer' : 'Send';
  setActionsBusy(messages, b);
}

function send() {
  if (busy) {
    vscode.postMessage({ type: 'stop' });
    return;
  }
  const prompt = input.value.trim();
  if (!prompt) return;
  clearErrors();
  vscode.postMessage({ type: 'ask', prompt });
  input.value = '';
  saveState({ draft: '' });
}

sendButton.addEventListener('click', send);
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    if (!busy) send();
  } else if (e.key === 'Escape' && busy) {
    vscode.postMessage({ type: 'stop' });
  }
});
input.addEventListener('input', () => saveState({ draft: input.value }));
newButton.addEventListener('click', () => vscode.postMessage({ type: 'newSession' }));
historyButton.addEventListener('click', () => {
  if (!sessionsPanel.classList.contains('hidden')) sessionsPanel.classList.add('hidden');
  else vscode.postMessage({ type: 'requestSessions' });
});
modelSelect.addEventListener('change', () => {
  saveState({ model: modelSelect.value });
  vscode.postMessage({ type: 'pickModel', model: modelSelect.value });
});
modelSelect.addEventListener('focus', () => vscode.postMessage({ type: 'requestModels' }));

// Code block buttons and links, by delegation (no inline handlers: the CSP forbids them anyway).
messages.addEventListener('click', (e) => {
  const target = /** @type {HTMLElement} */ (e.target);
  const button = target.closest('button[data-action]');
  if (button) {
    const code = button.closest('.code-block')?.querySelector('pre code');
    const text = code ? code.textContent || '' : '';
    const action = button.getAttribute('data-action');
    if (action === 'copy') {
      vscode.postMessage({ type: 'copy', text });
      button.textContent = 'Copied';
      setTimeout(() => (button.textContent = 'Copy'), 1200);
    } else if (action === 'insert') {
      vscode.postMessage({ type: 'insert', text });
    }
    return;
  }
  const link = target.closest('a');
  if (link) {
    e.preventDefault();
    const href = link.getAttribute('href') || '';
    if (/^(https?:|mailto:)/i.test(href)) vscode.postMessage({ type: 'openLink', href });
  }
});

// ---- messages from the extension ----------------------------------------------------------------

/** @param {ToWebview} m */
function handle(m) {
  switch (m.type) {
    case 'userMessage':
      addUser(m.text, m.context);
      addTurn(m.requestId);
      break;
    case 'start': {
      const t = turnFor(m.requestId);
      t.root.dataset.model = m.model;
      if (m.sessionId) saveState({ sessionId: m.sessionId });
      break;
    }
    case 'content':
      appendContent(turnFor(m.requestId), m.text);
      break;
    case 'thinking':
      appendThinking(turnFor(m.requestId), m.text);
      break;
    case 'toolCall': {
      const t = turnFor(m.requestId);
      closeSegments(t);
      t.cards.set(m.callId, toolCard(t.body, {
        callId: m.callId, name: m.name, arguments: m.arguments, status: 'running', server: m.server, tool: m.tool,
      }));
      break;
    }
    case 'toolResult': {
      const t = turnFor(m.requestId);
      const card = t.cards.get(m.callId) ||
        toolCard(t.body, { callId: m.callId, name: m.name, arguments: {}, status: m.status, server: m.server, tool: m.tool });
      setToolResult(card, m.status, m.output);
      break;
    }
    case 'toolOutput': {
      const t = turnFor(m.requestId);
      const card = t.cards.get(m.callId);
      if (card) appendOutput(liveOutput(t, card, m.callId), m.text);
      break;
    }
    case 'progress':
      setProgress(turnFor(m.requestId), m.text);
      break;
    case 'status':
      turnFor(m.requestId).status.textContent = m.text;
      break;
    case 'notice': {
      const t = turnFor(m.requestId);
      closeSegments(t);
      // Text only, like the tool cards: a notice may quote the backend's words.
      t.body.append(el('div', 'notice', m.text));
      scrollToEnd();
      break;
    }
    case 'approval': {
      // An Undo's question about files changed by hand goes to the turn whose Undo was pressed.
      const box = m.checkpointId !== undefined ? reviewFor(messages, m.checkpointId) : undefined;
      if (box) {
        approvalCard(box, m);
        break;
      }
      const t = turnFor(m.requestId);
      closeSegments(t);
      approvalCard(t.body, m);
      break;
    }
    case 'approvalDone': {
      const card = [...messages.querySelectorAll('.approval-card')].find(
        (c) => /** @type {HTMLElement} */ (c).dataset.approvalId === m.approvalId,
      );
      if (card) settleApproval(/** @type {HTMLElement} */ (card), m.choice);
      break;
    }
    case 'done': {
      const t = turnFor(m.requestId);
      endTurn(t, m.summary, 'done');
      if (m.context) showContext(t, m.context);
      const user = userBefore(t.root);
      if (user && m.userMessageId !== undefined) user.dataset.messageId = String(m.userMessageId);
      if (m.checkpoint) t.root.insertBefore(reviewBlock(m.checkpoint), t.status);
      markLastAnswer(messages);
      saveState({ sessionId: m.sessionId });
      break;
    }
    case 'cancelled':
      endTurn(turnFor(m.requestId), 'Stopped.', 'cancelled');
      markLastAnswer(messages);
      break;
    case 'error':
      if (m.requestId) {
        endTurn(turnFor(m.requestId), 'Failed.', 'failed');
        markLastAnswer(messages);
      }
      showError(m.error);
      break;
    case 'regenerating': {
      // The new answer takes the last one's place; the earlier one stays a version (‹ 1/2 ›).
      const asked = messages.querySelectorAll('.msg.user');
      const last = asked[asked.length - 1];
      while (last && last.nextSibling) last.nextSibling.remove();
      clearErrors();
      addTurn(m.requestId);
      stickToBottom = true;
      break;
    }
    case 'branches': {
      const t = turns.get(m.requestId);
      if (!t) break;
      const user = userBefore(t.root);
      if (user && m.user) {
        user.dataset.messageId = String(m.user.id);
        setBranchNav(user, m.user, 'message');
      }
      if (m.answer && m.answer.siblings.length > 1) setBranchNav(turnActions(t.root), m.answer, 'answer', true);
      break;
    }
    case 'checkpointState':
      setCheckpointStates(messages, m.checkpoints);
      break;
    case 'restoreDone':
      restoreDone(messages, m);
      break;
    case 'busy':
      setBusy(m.busy);
      break;
    case 'models': {
      modelSelect.replaceChildren();
      const names = m.models.slice();
      const current = m.current || state.model || '';
      if (current && !names.includes(current)) names.unshift(current);
      for (const name of names) {
        const o = el('option', undefined, name);
        o.value = name;
        o.selected = name === current;
        modelSelect.append(o);
      }
      if (!names.length) {
        const none = el('option', undefined, 'no models');
        none.disabled = true;
        none.selected = true;
        modelSelect.append(none);
      }
      break;
    }
    case 'sessions':
      showSessions(m.sessions);
      break;
    case 'session':
      showSession(m.session, m.reviews);
      break;
    case 'clear':
      clearTranscript();
      clearErrors();
      saveState({ sessionId: null });
      break;
    case 'context':
      chips.replaceChildren();
      for (const item of m.items) chips.append(el('span', 'chip', item.label));
      if (m.items.length) {
        const x = el('button', 'icon-button chip-clear', '×');
        x.title = 'Remove the attached context';
        x.addEventListener('click', () => vscode.postMessage({ type: 'clearContext' }));
        chips.append(x);
      }
      break;
    case 'focusInput':
      if (m.text !== undefined) input.value = m.text;
      input.focus();
      break;
    case 'mcp':
      showMcpServers(m.servers);
      break;
    case 'server':
      serverDot.className = `server-dot ${m.state}`;
      serverDot.title = `Server: ${m.state}`;
      if (m.state === 'stopped' && m.message) showError({ title: 'Ryan server', message: m.message });
      break;
  }
}

window.addEventListener('message', (event) => {
  const m = event.data;
  if (m && typeof m === 'object' && typeof m.type === 'string') handle(/** @type {ToWebview} */ (m));
});

setBusy(false);
vscode.postMessage({ type: 'ready', sessionId: state.sessionId });
