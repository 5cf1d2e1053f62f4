// @ts-check
/**
 * Clicks in rendered answers, by delegation (no inline handlers: the CSP forbids them anyway): a code
 * block's Copy and Insert, and links, which the extension opens (http(s) and mailto only).
 */

import { post } from './host.js';
import { messages } from './layout.js';

messages.addEventListener('click', (e) => {
  const target = /** @type {HTMLElement} */ (e.target);
  const button = target.closest('button[data-action]');
  if (button) {
    const code = button.closest('.code-block')?.querySelector('pre code');
    const text = code ? code.textContent || '' : '';
    const action = button.getAttribute('data-action');
    if (action === 'copy') {
      post({ type: 'copy', text });
      button.textContent = 'Copied';
      setTimeout(() => (button.textContent = 'Copy'), 1200);
    } else if (action === 'insert') {
      post({ type: 'insert', text });
    }
    return;
  }
  const link = target.closest('a');
  if (link) {
    e.preventDefault();
    const href = link.getAttribute('href') || '';
    if (/^(https?:|mailto:)/i.test(href)) post({ type: 'openLink', href });
  }
});
