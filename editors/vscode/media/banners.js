// @ts-check
/**
 * The error banner above the transcript: what failed, why, and for a missing model the ones the
 * backend has as buttons that pick it. One banner at a time; text only.
 */

import { el } from './dom.js';
import { post } from './host.js';
import { banners } from './layout.js';

/** @typedef {import('../src/protocol').ErrorInfo} ErrorInfo */

export function showError(/** @type {ErrorInfo} */ error) {
  const b = el('div', 'banner error');
  const text = el('div', 'banner-text');
  text.append(el('strong', undefined, error.title), el('div', 'banner-message', error.message));
  if (error.available && error.available.length) {
    const pick = el('div', 'banner-models', 'Available: ');
    for (const name of error.available) {
      const btn = el('button', 'link-button', name);
      btn.addEventListener('click', () => {
        post({ type: 'pickModel', model: name });
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

export function clearErrors() {
  banners.replaceChildren();
}
