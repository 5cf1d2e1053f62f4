// @ts-check
/**
 * The panel's link to the webview host: posting to the extension, and the state VS Code keeps for the
 * panel while it is hidden (the draft, the model, the session).
 */

/** @typedef {import('../src/protocol').FromWebview} FromWebview */
/** @typedef {import('../src/protocol').PanelState} PanelState */

/**
 * @typedef {object} VsCodeApi
 * @property {(msg: FromWebview) => void} postMessage
 * @property {() => PanelState | undefined} getState
 * @property {(s: PanelState) => void} setState
 */

/** @type {VsCodeApi} */
// @ts-expect-error -- provided by the webview host
const vscode = acquireVsCodeApi();

/** Sends a `{type}`-tagged message to the extension. */
export function post(/** @type {FromWebview} */ m) {
  vscode.postMessage(m);
}

/** @type {PanelState} */
let state = vscode.getState() || {};

/** The panel's kept state as it is now. */
export function panelState() {
  return state;
}

export function saveState(/** @type {Partial<PanelState>} */ patch) {
  state = { ...state, ...patch };
  vscode.setState(state);
}
