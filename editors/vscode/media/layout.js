// @ts-check
/**
 * The panel's fixed elements, made once in their order: the header, the MCP servers' lines, the
 * banners, the sessions list, the transcript and the footer with the input. The other modules fill
 * and wire them.
 */

import { el } from './dom.js';

const app = /** @type {HTMLElement} */ (document.getElementById('app'));
const header = el('div', 'header');
export const modelSelect = el('select', 'model-select');
modelSelect.title = 'Model';
modelSelect.setAttribute('aria-label', 'Model');
export const historyButton = el('button', 'icon-button', 'History');
historyButton.title = 'Earlier sessions';
export const newButton = el('button', 'icon-button', 'New');
newButton.title = 'New session';
export const serverDot = el('span', 'server-dot');
serverDot.title = 'Server';
header.append(modelSelect, historyButton, newButton, serverDot);

// The MCP servers of `ryan/status`: a line each (empty, and so hidden, when there are none).
export const mcpList = el('div', 'mcp-servers');
mcpList.setAttribute('aria-label', 'MCP servers');

export const banners = el('div', 'banners');
banners.setAttribute('role', 'alert');
export const sessionsPanel = el('div', 'sessions hidden');
export const messages = el('div', 'messages');
messages.setAttribute('role', 'log');
messages.setAttribute('aria-live', 'polite');
export const empty = el('div', 'empty', 'Ask about your code. Ryan can list, read and search the workspace, and edit files with your approval.');
messages.append(empty);

const footer = el('div', 'footer');
export const chips = el('div', 'chips');
const inputRow = el('div', 'input-row');
export const input = el('textarea', 'input');
input.rows = 3;
input.placeholder = 'Ask Ryan… (Enter to send, Shift+Enter for a new line)';
input.setAttribute('aria-label', 'Message');
export const sendButton = el('button', 'send', 'Send');
inputRow.append(input, sendButton);
footer.append(chips, inputRow);
app.append(header, mcpList, banners, sessionsPanel, messages, footer);
