// @ts-check
/**
 * The chat panel's script (bundled by esbuild into dist/webview.js).
 *
 * It only renders and forwards the user's actions: the extension owns the conversation. Messages
 * both ways are `{type}`-tagged; their types are in src/protocol.ts. Model output only ever
 * reaches the DOM as markdown-it output (raw HTML escaped) or as text.
 */

import { IncrementalMarkdown, createMarkdown, domSink } from './render.js';
import { contextMeter, diffLineKind, toolArgsText, toolCount, toolLabel, toolTarget } from '../src/messages';
import { AnsiStripper, OUTPUT_LIMIT, OutputTail, commandEnd, sizeText, stripAnsi } from '../src/output';

/** @typedef {import('../src/protocol').ToWebview} ToWebview */
/** @typedef {import('../src/protocol').FromWebview} FromWebview */
/** @typedef {import('../src/protocol').PanelState} PanelState */
/** @typedef {import('../src/protocol').ErrorInfo} ErrorInfo */
/** @typedef {import('../src/protocol').SessionResult} SessionResult */
/** @typedef {import('../src/protocol').SessionSummary} SessionSummary */
/** @typedef {import('../src/protocol').ContextUse} ContextUse */
/** @typedef {import('../src/protocol').McpServerStatus} McpServerStatus */

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

/** @type {PanelState} */
let state = vscode.getState() || {};
function saveState(/** @type {Partial<PanelState>} */ patch) {
  state = { ...state, ...patch };
  vscode.setState(state);
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
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
 * @property {Map<string, LiveOutput>} outputs the live output blocks of running commands, by callId
 * @property {HTMLElement} progress the server's status (`waiting for the model… 3 s`) until text arrives
 */

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

const STATUS_LABEL = /** @type {Record<string, string>} */ ({ running: 'running…', ok: 'done', error: 'failed', denied: 'denied' });

/**
 * @param {HTMLElement} parent
 * @param {{callId: string, name: string, arguments: unknown, status: string, output?: string, server?: string, tool?: string}} call
 */
function toolCard(parent, call) {
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
  scrollToEnd();
  return card;
}

/**
 * A tool's result in its card. A command's card says how it ended (`exit code 1`, `stopped`) from its
 * result's last line; its live output stays, and the result (the same output) is not repeated below it.
 */
function setToolResult(/** @type {HTMLElement} */ card, /** @type {string} */ status, /** @type {string} */ output) {
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
function liveOutput(/** @type {Turn} */ turn, /** @type {HTMLElement} */ card, /** @type {string} */ callId) {
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
function appendOutput(/** @type {LiveOutput} */ live, /** @type {string} */ piece) {
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
  scrollToEnd();
}

/**
 * An approval card: the server's question, a write's diff (text only, a line each, coloured by
 * kind) and a button per action. A click answers at once; `settleApproval` disables it.
 * @param {HTMLElement} parent
 * @param {{approvalId: string, question: string, diff: string, actions: string[]}} a
 */
function approvalCard(parent, a) {
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
      vscode.postMessage({ type: 'approve', approvalId: a.approvalId, action });
      settleApproval(card, action);
    });
    row.append(b);
  }
  card.append(row, el('div', 'approval-outcome'));
  parent.append(card);
  stickToBottom = true;
  scrollToEnd();
  return card;
}

/** Marks an approval card answered (`choice`) or no longer asked, and disables its buttons. */
function settleApproval(/** @type {HTMLElement} */ card, /** @type {string | undefined} */ choice) {
  if (!card.classList.contains('pending')) return;
  card.classList.remove('pending');
  card.classList.add(choice ? 'answered' : 'abandoned');
  for (const b of card.querySelectorAll('button')) b.disabled = true;
  const outcome = card.querySelector('.approval-outcome');
  if (outcome) outcome.textContent = choice ? `Answered: ${choice}` : 'No longer asked: the chat stopped.';
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
function showSession(/** @type {SessionResult} */ session) {
  clearTranscript();
  saveState({ sessionId: session.sessionId });
  /** @type {Map<string, HTMLElement>} */
  const cards = new Map();
  /** @type {HTMLElement[]} */
  const unmatched = [];
  /** @type {HTMLElement | undefined} */
  let body;
  for (const m of session.messages || []) {
    if (m.role === 'user') {
      addUser(m.content || '', []);
      body = undefined;
    } else if (m.role === 'assistant') {
      if (!body) {
        empty.remove();
        const root = el('div', `msg assistant${m.status === 'interrupted' ? ' interrupted' : ''}`);
        body = el('div', 'msg-body');
        root.append(body);
        messages.append(root);
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
  stickToBottom = true;
  scrollToEnd();
}

// ---- input --------------------------------------------------------------------------------------

function setBusy(/** @type {boolean} */ b) {
  busy = b;
  sendButton.textContent = b ? 'Stop' : 'Send';
  sendButton.classList.toggle('stop', b);
  sendButton.title = b ? 'Stop the answer' : 'Send';
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
      saveState({ sessionId: m.sessionId });
      break;
    }
    case 'cancelled':
      endTurn(turnFor(m.requestId), 'Stopped.', 'cancelled');
      break;
    case 'error':
      if (m.requestId) endTurn(turnFor(m.requestId), 'Failed.', 'failed');
      showError(m.error);
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
      showSession(m.session);
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
