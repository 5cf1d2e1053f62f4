/**
 * The chat panel: a webview view in Ryan's activity-bar container, and the chat it drives.
 *
 * The webview only renders; this class owns the conversation (session, model, running request,
 * attached context) and talks to the server through RyanClient. Messages both ways are
 * `{type}`-tagged (see protocol.ts).
 */

import { randomBytes, randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { CancellationToken } from 'vscode-languageclient/node';
import { Approval, RyanClient } from './client';
import { DisposableLike, disposeWith } from './lifetime';
import {
  contextLabel, contextUse, errorToInfo, eventToMessage, isCancellation, mcpServers, mcpSettling, summarize,
  workDoneToMessage,
} from './messages';
import {
  ContextEntry, FromWebview, Method, ModelsResult, SessionResult, SessionsResult, StatusResult, ToWebview,
} from './protocol';

const SESSION_KEY = 'ryan.sessionId';
const MODEL_KEY = 'ryan.model';
/** While an MCP server is starting, `ryan/status` is asked again this often, at most STATUS_POLLS times. */
const STATUS_POLL_MS = 1000;
const STATUS_POLLS = 60;

export class ChatPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewType = 'ryan.chatView';

  private view: vscode.WebviewView | undefined;
  private ready = false;
  private queue: ToWebview[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  /** the listeners of the current view, disposed with it */
  private viewListeners: DisposableLike | undefined;
  private sessionId: string | undefined;
  private model: string | undefined;
  private context: { entry: ContextEntry; label: string }[] = [];
  private running: { requestId: string; cts: vscode.CancellationTokenSource } | undefined;
  /** the next `ryan/status` while MCP servers are starting, and how many were asked in a row */
  private statusTimer: ReturnType<typeof setTimeout> | undefined;
  private statusPolls = 0;
  /** the approval cards waiting for an answer: each settles its server request (undefined: none) */
  private approvals = new Map<string, (choice: string | undefined) => void>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly state: vscode.Memento,
    private readonly client: RyanClient,
  ) {
    this.sessionId = state.get<string>(SESSION_KEY);
    this.model = state.get<string>(MODEL_KEY);
    this.disposables.push(
      client.onDidChangeState((e) => {
        this.post({ type: 'server', state: e.state, message: e.message });
        if (e.state === 'running') {
          void this.refreshModels();
          void this.refreshStatus();
        } else if (e.state === 'stopped') {
          this.post({ type: 'mcp', servers: [] });
        }
      }),
      // New settings may start, stop or restart MCP servers.
      client.onDidSendSettings(() => void this.refreshStatus()),
    );
    client.approver = (approval, token) => this.approve(approval, token);
  }

  // ---- view lifecycle -------------------------------------------------------------------------

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const webview = view.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media'), vscode.Uri.joinPath(this.extensionUri, 'dist')],
    };
    webview.html = this.html(webview);
    // Each resolve (first show, view moved, window reload) registers these anew: they go with the
    // view, not with the extension.
    this.viewListeners = disposeWith(view, [webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m))], () => {
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
        // Its cards are gone with it: nothing can answer them now.
        this.settleApprovals();
      }
    });
  }

  /** Reveals the view (resolving it if needed). */
  async show(preserveFocus = false): Promise<void> {
    if (this.view) {
      this.view.show(preserveFocus);
    } else {
      await vscode.commands.executeCommand(`${ChatPanel.viewType}.focus`);
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const asset = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p)).toString();
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      // No 'unsafe-inline': the panel styles only through chat.css classes (markdown-it's table
      // alignment included, see media/render.js), never through style attributes. VS Code's theme
      // variables and default styles are put in before this policy applies.
      `style-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('media', 'chat.css')}">
<title>Ryan</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${asset('dist', 'webview.js')}"></script>
</body>
</html>`;
  }

  private post(message: ToWebview): void {
    if (!this.view || !this.ready) {
      this.queue.push(message);
      return;
    }
    void this.view.webview.postMessage(message);
  }

  // ---- messages from the webview ----------------------------------------------------------------

  private async onMessage(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.post({ type: 'busy', busy: !!this.running });
        this.post({ type: 'context', items: this.context.map((c) => ({ label: c.label })) });
        for (const q of this.queue.splice(0)) this.post(q);
        if (!this.running) {
          // A new webview (first show, window reload, view moved) starts empty: redraw the session.
          const sid = this.sessionId ?? m.sessionId ?? undefined;
          if (sid) void this.openSession(sid, true);
        }
        if (this.client.running) {
          this.post({ type: 'server', state: 'running' });
          void this.refreshModels();
          void this.refreshStatus();
        } else {
          // Start the server with the view; a failure shows in the panel through onDidChangeState.
          this.client.start().catch(() => undefined);
        }
        return;
      case 'ask':
        await this.ask(m.prompt);
        return;
      case 'stop':
        this.stop();
        return;
      case 'newSession':
        this.newSession();
        return;
      case 'requestModels':
        await Promise.all([this.refreshModels(), this.refreshStatus()]);
        return;
      case 'pickModel':
        await this.setModel(m.model);
        return;
      case 'requestSessions':
        await this.refreshSessions();
        return;
      case 'openSession':
        await this.openSession(m.sessionId);
        return;
      case 'deleteSession':
        if (await this.deleteSession(m.sessionId, m.title)) await this.refreshSessions();
        return;
      case 'clearContext':
        this.context = [];
        this.post({ type: 'context', items: [] });
        return;
      case 'copy':
        await vscode.env.clipboard.writeText(m.text);
        void vscode.window.setStatusBarMessage('Ryan: copied', 1500);
        return;
      case 'insert':
        await this.insertAtCursor(m.text);
        return;
      case 'openLink':
        if (/^(https?:|mailto:)/i.test(m.href)) await vscode.env.openExternal(vscode.Uri.parse(m.href));
        return;
      case 'approve':
        this.approvals.get(m.approvalId)?.(m.action);
        return;
      case 'dismissError':
        return;
    }
  }

  // ---- the chat ---------------------------------------------------------------------------------

  get busy(): boolean {
    return !!this.running;
  }

  /** Sends `prompt` (with any attached context) as the next message of the current session. */
  async ask(prompt: string): Promise<void> {
    prompt = prompt.trim();
    if (!prompt) return;
    if (this.running) {
      this.post({
        type: 'error',
        error: { title: 'A chat is running', message: 'Wait for the answer or press Stop before asking again.' },
      });
      return;
    }
    const requestId = randomUUID();
    const cts = new vscode.CancellationTokenSource();
    this.running = { requestId, cts };
    const context = this.context;
    this.context = [];
    this.setBusy(true);
    this.post({ type: 'context', items: [] });
    this.post({ type: 'userMessage', requestId, text: prompt, context: context.map((c) => ({ label: c.label })) });
    try {
      const result = await this.client.chat(
        {
          prompt,
          sessionId: this.sessionId,
          model: this.model,
          context: context.length ? context.map((c) => c.entry) : undefined,
        },
        (value) => {
          const msg = eventToMessage(requestId, value);
          if (!msg) return;
          if (msg.type === 'start' && msg.sessionId) this.rememberSession(msg.sessionId);
          this.post(msg);
        },
        cts.token,
        (value) => {
          const msg = workDoneToMessage(requestId, value);
          if (msg) this.post(msg);
        },
      );
      if (result.sessionId) this.rememberSession(result.sessionId);
      this.post({
        type: 'done',
        requestId,
        stopReason: result.stopReason,
        model: result.model,
        sessionId: result.sessionId,
        summary: summarize(result),
        context: contextUse(result.usage),
      });
    } catch (err) {
      if (isCancellation(err) || cts.token.isCancellationRequested) {
        this.post({ type: 'cancelled', requestId });
      } else {
        this.post({ type: 'error', requestId, error: errorToInfo(err) });
      }
    } finally {
      cts.dispose();
      this.running = undefined;
      this.settleApprovals();
      this.setBusy(false);
      // A chat may have started (or crashed) an MCP server.
      void this.refreshStatus();
    }
  }

  stop(): void {
    this.running?.cts.cancel();
  }

  /**
   * Asks an approval as a card in the running turn, resolving with the chosen action; undefined
   * (no card) when the panel is not visible or no chat of its runs: the client then shows a notification.
   * A request the server cancels (the chat was stopped) settles with no action and its card is disabled.
   */
  approve(approval: Approval, token: CancellationToken): Promise<string | undefined> | undefined {
    const running = this.running;
    if (!running || !this.view?.visible || !this.ready) return undefined;
    if (token.isCancellationRequested) return Promise.resolve(undefined);
    const approvalId = randomUUID();
    return new Promise((resolve) => {
      const settle = (choice: string | undefined) => {
        if (!this.approvals.delete(approvalId)) return;
        sub.dispose();
        this.post({ type: 'approvalDone', approvalId, choice });
        resolve(choice);
      };
      this.approvals.set(approvalId, settle);
      const sub = token.onCancellationRequested(() => settle(undefined));
      this.post({ type: 'approval', requestId: running.requestId, approvalId, ...approval });
    });
  }

  /** Settles every waiting approval with no action (the chat ended, or the view went away). */
  private settleApprovals(): void {
    for (const settle of [...this.approvals.values()]) settle(undefined);
  }

  newSession(): void {
    this.stop();
    this.rememberSession(undefined);
    this.post({ type: 'clear', sessionId: null });
  }

  /** Attaches the active editor's selection (or its whole text) to the next question. */
  attachSelection(): boolean {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return false;
    const doc = editor.document;
    const sel = editor.selection;
    const range = sel.isEmpty ? new vscode.Range(0, 0, doc.lineCount, 0) : new vscode.Range(sel.start, sel.end);
    const entry: ContextEntry = {
      uri: doc.uri.toString(),
      range: {
        start: { line: range.start.line, character: range.start.character },
        end: { line: range.end.line, character: range.end.character },
      },
      text: doc.getText(range),
    };
    const label = contextLabel(entry, doc.isUntitled ? doc.uri.path : vscode.workspace.asRelativePath(doc.uri));
    this.context = [...this.context.filter((c) => c.label !== label), { entry, label }];
    this.post({ type: 'context', items: this.context.map((c) => ({ label: c.label })) });
    return true;
  }

  focusInput(text?: string): void {
    this.post({ type: 'focusInput', text });
  }

  private setBusy(busy: boolean): void {
    void vscode.commands.executeCommand('setContext', 'ryan.busy', busy);
    this.post({ type: 'busy', busy });
  }

  private rememberSession(sessionId: string | undefined): void {
    this.sessionId = sessionId;
    void this.state.update(SESSION_KEY, sessionId);
  }

  // ---- models and sessions ----------------------------------------------------------------------

  async listModels(): Promise<ModelsResult | undefined> {
    try {
      return await this.client.request<ModelsResult>(Method.models, {});
    } catch (err) {
      this.post({ type: 'error', error: errorToInfo(err) });
      return undefined;
    }
  }

  private async refreshModels(): Promise<void> {
    if (!this.client.running) return;
    try {
      const r = await this.client.request<ModelsResult>(Method.models, {});
      this.post({ type: 'models', models: r.models.map((m) => m.name), current: this.model ?? r.current });
    } catch {
      // No backend yet: the picker stays empty until the next refresh; chat reports the error.
    }
  }

  /**
   * Shows the MCP servers of `ryan/status` (a line each); asks again shortly while one is starting,
   * so the line turns to ready or failed without the user doing anything.
   */
  private async refreshStatus(): Promise<void> {
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
    if (!this.client.running) return;
    let servers;
    try {
      servers = mcpServers(await this.client.request<StatusResult>(Method.status, {}));
    } catch {
      return; // the server is going away; its state shows in the header
    }
    this.post({ type: 'mcp', servers });
    if (mcpSettling(servers) && this.statusPolls < STATUS_POLLS) {
      this.statusPolls++;
      if (this.statusTimer) clearTimeout(this.statusTimer); // another refresh may have finished first
      this.statusTimer = setTimeout(() => void this.refreshStatus(), STATUS_POLL_MS);
    } else {
      this.statusPolls = 0;
    }
  }

  async setModel(model: string | undefined): Promise<void> {
    this.model = model || undefined;
    await this.state.update(MODEL_KEY, this.model);
    await this.refreshModels();
  }

  async listSessions(): Promise<SessionsResult | undefined> {
    try {
      return await this.client.request<SessionsResult>(Method.sessions, {});
    } catch (err) {
      this.post({ type: 'error', error: errorToInfo(err) });
      return undefined;
    }
  }

  private async refreshSessions(): Promise<void> {
    const r = await this.listSessions();
    if (r) this.post({ type: 'sessions', sessions: r.sessions });
  }

  /** Redraws the panel with a stored session and continues it. */
  async openSession(sessionId: string, quiet = false): Promise<void> {
    if (this.running) this.stop();
    try {
      const session = await this.client.request<SessionResult>(Method.session, { sessionId });
      this.rememberSession(session.sessionId);
      this.post({ type: 'session', session });
    } catch (err) {
      if (quiet) {
        // A session that is gone (history deleted, another machine) just means a fresh start.
        this.rememberSession(undefined);
        return;
      }
      this.post({ type: 'error', error: errorToInfo(err) });
    }
  }

  /**
   * Deletes a stored session after the user confirms (a modal dialog); the panel starts afresh if it
   * was showing it. True when it was deleted.
   */
  async deleteSession(sessionId: string, title?: string): Promise<boolean> {
    const name = title?.trim() || '(untitled)';
    const choice = await vscode.window.showWarningMessage(
      `Delete the Ryan session "${name}"?`,
      { modal: true, detail: 'Its messages are removed from the history. This cannot be undone.' },
      'Delete',
    );
    if (choice !== 'Delete') return false;
    try {
      await this.client.request<null>(Method.deleteSession, { sessionId });
    } catch (err) {
      void vscode.window.showErrorMessage(`Ryan: could not delete the session: ${errorToInfo(err).message}`);
      return false;
    }
    if (sessionId === this.sessionId) this.newSession();
    return true;
  }

  /** The session the panel shows, if any. */
  get currentSessionId(): string | undefined {
    return this.sessionId;
  }

  private async insertAtCursor(text: string): Promise<void> {
    const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
    if (!editor) {
      void vscode.window.showWarningMessage('Ryan: open an editor to insert the code into.');
      return;
    }
    await editor.edit((b) => {
      for (const sel of editor.selections) b.replace(sel, text);
    });
  }

  dispose(): void {
    this.stop();
    this.settleApprovals();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.viewListeners?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
