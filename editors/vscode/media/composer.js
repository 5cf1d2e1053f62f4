// @ts-check
/**
 * The footer: the message box (its draft kept across reloads), Send that turns into Stop while a chat
 * runs, and the chips of the context attached to the next message.
 */

import { el } from './dom.js';
import { setActionsBusy } from './review.js';
import { panelState, post, saveState } from './host.js';
import { chips, input, messages, sendButton } from './layout.js';
import { clearErrors } from './banners.js';

input.value = panelState().draft || '';

let busy = false;

/** Whether a chat runs. */
export function isBusy() {
  return busy;
}

export function setBusy(/** @type {boolean} */ b) {
  busy = b;
  sendButton.textContent = b ? 'Stop' : 'Send';
  sendButton.classList.toggle('stop', b);
  sendButton.title = b ? 'Stop the answer' : 'Send';
  setActionsBusy(messages, b);
}

function send() {
  if (busy) {
    post({ type: 'stop' });
    return;
  }
  const prompt = input.value.trim();
  if (!prompt) return;
  clearErrors();
  post({ type: 'ask', prompt });
  input.value = '';
  saveState({ draft: '' });
}

sendButton.addEventListener('click', send);
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    if (!busy) send();
  } else if (e.key === 'Escape' && busy) {
    post({ type: 'stop' });
  }
});
input.addEventListener('input', () => saveState({ draft: input.value }));

/** The context attached to the next message, as chips with a button that removes them. */
export function showAttached(/** @type {{label: string}[]} */ items) {
  chips.replaceChildren();
  for (const item of items) chips.append(el('span', 'chip', item.label));
  if (items.length) {
    const x = el('button', 'icon-button chip-clear', '×');
    x.title = 'Remove the attached context';
    x.addEventListener('click', () => post({ type: 'clearContext' }));
    chips.append(x);
  }
}

/** Puts the cursor in the message box, with `text` in it when given. */
export function focusInput(/** @type {string | undefined} */ text) {
  if (text !== undefined) input.value = text;
  input.focus();
}
