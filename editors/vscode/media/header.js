// @ts-check
/** The header: the model picker, History and New, and the server's dot. */

import { el } from './dom.js';
import { panelState, post, saveState } from './host.js';
import { historyButton, modelSelect, newButton, serverDot, sessionsPanel } from './layout.js';
import { showError } from './banners.js';

/** @typedef {import('../src/protocol').ToWebview} ToWebview */

newButton.addEventListener('click', () => post({ type: 'newSession' }));
historyButton.addEventListener('click', () => {
  if (!sessionsPanel.classList.contains('hidden')) sessionsPanel.classList.add('hidden');
  else post({ type: 'requestSessions' });
});
modelSelect.addEventListener('change', () => {
  saveState({ model: modelSelect.value });
  post({ type: 'pickModel', model: modelSelect.value });
});
modelSelect.addEventListener('focus', () => post({ type: 'requestModels' }));

/** The backend's models in the picker, the current one (or the last picked) selected. */
export function showModels(/** @type {Extract<ToWebview, {type: 'models'}>} */ m) {
  modelSelect.replaceChildren();
  const names = m.models.slice();
  const current = m.current || panelState().model || '';
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
}

/** The server's state as the dot's colour; why it stopped as a banner. */
export function showServer(/** @type {Extract<ToWebview, {type: 'server'}>} */ m) {
  serverDot.className = `server-dot ${m.state}`;
  serverDot.title = `Server: ${m.state}`;
  if (m.state === 'stopped' && m.message) showError({ title: 'Ryan server', message: m.message });
}
