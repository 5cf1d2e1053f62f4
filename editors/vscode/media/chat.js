// @ts-check
/**
 * The chat panel's script (bundled by esbuild into dist/webview.js): the entry point, which hands each
 * message from the extension to the module that draws it.
 *
 * It only renders and forwards the user's actions: the extension owns the conversation. Messages
 * both ways are `{type}`-tagged; their types are in src/protocol.ts. Model output only ever
 * reaches the DOM as markdown-it output (raw HTML escaped) or as text. The editors/vscode README
 * says which module draws which part.
 */

import { el } from './dom.js';
import { appendOutput, approvalCard, liveOutput, setToolResult, settleApproval, toolCard } from './cards.js';
import { initReview, markLastAnswer, restoreDone, reviewBlock, reviewFor, setCheckpointStates, turnActions } from './review.js';
import { panelState, post, saveState } from './host.js';
import { messages } from './layout.js';
import {
  addTurn, addUser, appendContent, appendThinking, clearTranscript, closeSegments, endTurn, scrollToEnd, setBranchNav,
  setProgress, showContext, stickToEnd, turnFor, turns, userBefore,
} from './transcript.js';
import { clearErrors, showError } from './banners.js';
import { showModels, showServer } from './header.js';
import { showMcpServers } from './mcpServers.js';
import { showSession, showSessions } from './sessions.js';
import { focusInput, isBusy, setBusy, showAttached } from './composer.js';
import './clicks.js';

/** @typedef {import('../src/protocol').ToWebview} ToWebview */

initReview(post, isBusy);

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
      stickToEnd();
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
    case 'models':
      showModels(m);
      break;
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
      showAttached(m.items);
      break;
    case 'focusInput':
      focusInput(m.text);
      break;
    case 'mcp':
      showMcpServers(m.servers);
      break;
    case 'server':
      showServer(m);
      break;
  }
}

window.addEventListener('message', (event) => {
  const m = event.data;
  if (m && typeof m === 'object' && typeof m.type === 'string') handle(/** @type {ToWebview} */ (m));
});

setBusy(false);
post({ type: 'ready', sessionId: panelState().sessionId });
