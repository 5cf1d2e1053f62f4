/**
 * The chat panel: a webview view in Ryan's activity-bar container, and the chat it drives.
 *
 * The webview only renders; this class owns the conversation (session, model, running request,
 * attached context) and talks to the server through RyanClient. Messages both ways are
 * `{type}`-tagged (see protocol.ts).
 */

import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { CancellationToken } from 'vscode-languageclient/node';
import { ApprovalCards } from './approvals';
import { streamChat } from './chatRun';
import { CheckpointReview } from './checkpoints';
import { Approval, RyanClient } from './client';
import { confirmDeleteSession, copyText, insertAtCursor, openLink, selectionContext } from './editorActions';
import { DisposableLike, disposeWith } from './lifetime';
import { errorToInfo } from './messages';
import {
  ChatParams, ContextEntry, FromWebview, MessageId, Method, ModelsResult, SessionResult, SessionsResult, ToWebview,
} from './protocol';
import { panelHtml } from './panelHtml';
import { lastTurnBranches } from './review';
import { StatusPoller } from './statusPoller';

const SESSION_KEY = 'ryan.sessionId';
const MODEL_KEY = 'ryan.model';

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
  /** shows the MCP servers of `ryan/status`, asking again while one is starting */
  private readonly status: StatusPoller;
  /** the approval cards waiting for an answer */
  private readonly approvals: ApprovalCards;
  /** the changed files of turns: the diff editor, Undo and Redo */
  private readonly review: CheckpointReview;

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
          void this.status.refresh();
        } else if (e.state === 'stopped') {
          this.post({ type: 'mcp', servers: [] });
        }
      }),
      // New settings may start, stop or restart MCP servers.
      client.onDidSendSettings(() => void this.status.refresh()),
    );
    const post = (m: ToWebview) => this.post(m);
    this.review = new CheckpointReview(client, post);
    this.status = new StatusPoller(client, post);
    this.approvals = new ApprovalCards(post);
    this.disposables.push(this.review);
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
    webview.html = panelHtml(webview, this.extensionUri);
    // Each resolve (first show, view moved, window reload) registers these anew: they go with the
    // view, not with the extension.
    this.viewListeners = disposeWith(view, [webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m))], () => {
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
        // Its cards are gone with it: nothing can answer them now.
        this.approvals.settleAll();
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
          void this.status.refresh();
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
        await Promise.all([this.refreshModels(), this.status.refresh()]);
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
        await copyText(m.text);
        return;
      case 'insert':
        await insertAtCursor(m.text);
        return;
      case 'openLink':
        await openLink(m.href);
        return;
      case 'approve':
        this.approvals.answer(m.approvalId, m.action);
        return;
      case 'regenerate':
        await this.regenerate();
        return;
      case 'switchBranch':
        await this.switchBranch(m.messageId);
        return;
      case 'openDiff':
        await this.review.openDiff(m.checkpointId, m.path);
        return;
      case 'restore':
      case 'redo':
        await this.review.run(m.type, m.checkpointId, this.sessionId, !!this.running);
        return;
      case 'dismissError':
        return;
    }
  }

  // ---- the chat ---------------------------------------------------------------------------------

  /** Sends `prompt` (with any attached context) as the next message of the current session. */
  async ask(prompt: string): Promise<void> {
    prompt = prompt.trim();
    if (!prompt || this.refuseWhileRunning()) return;
    const context = this.context;
    this.context = [];
    this.post({ type: 'context', items: [] });
    await this.runChat(
      { prompt, sessionId: this.sessionId, model: this.model, context: context.length ? context.map((c) => c.entry) : undefined },
      (requestId) => ({ type: 'userMessage', requestId, text: prompt, context: context.map((c) => ({ label: c.label })) }),
    );
  }

  /** Answers the session's last user message again; the new answer replaces the last one in view. */
  async regenerate(): Promise<void> {
    const sessionId = this.sessionId;
    if (!sessionId || this.refuseWhileRunning()) return;
    const requestId = await this.runChat({ sessionId, regenerate: true, model: this.model }, (id) => ({ type: 'regenerating', requestId: id }));
    // The answer is now one of several versions: the ids and the ‹ 2/2 › switcher come from the session.
    try {
      const session = await this.client.request<SessionResult>(Method.session, { sessionId });
      this.post({ type: 'branches', requestId, ...lastTurnBranches(session) });
    } catch {
      // the switcher shows when the session is next opened
    }
  }

  private refuseWhileRunning(): boolean {
    if (!this.running) return false;
    this.post({ type: 'error', error: { title: 'A chat is running', message: 'Wait for the answer or press Stop before asking again.' } });
    return true;
  }

  /** Runs one `ryan/chat`, streaming it into a turn that `opening` starts; resolves with its request id. */
  private async runChat(params: Omit<ChatParams, 'partialResultToken' | 'workDoneToken'>, opening: (requestId: string) => ToWebview): Promise<string> {
    const requestId = randomUUID();
    const cts = new vscode.CancellationTokenSource();
    this.running = { requestId, cts };
    this.setBusy(true);
    this.post(opening(requestId));
    try {
      const result = await streamChat(this.client, params, requestId, cts.token, (m) => this.post(m), (id) => this.rememberSession(id));
      if (result?.checkpoint) this.review.note([result.checkpoint]);
    } finally {
      cts.dispose();
      this.running = undefined;
      this.approvals.settleAll();
      this.setBusy(false);
      // A chat may have started (or crashed) an MCP server.
      void this.status.refresh();
    }
    return requestId;
  }

  stop(): void {
    this.running?.cts.cancel();
  }

  /**
   * Asks as a card: a chat's approval in its turn, an Undo's or Redo's question in the turn it came from.
   * Undefined (no card) when the panel is hidden or nothing of its runs: the client then shows a notification.
   */
  approve(approval: Approval, token: CancellationToken): Promise<string | undefined> | undefined {
    const where = this.running
      ? { requestId: this.running.requestId }
      : this.review.active !== undefined ? { requestId: '', checkpointId: this.review.active } : undefined;
    if (!where || !this.view?.visible || !this.ready) return undefined;
    return this.approvals.ask(where, approval, token);
  }

  newSession(): void {
    this.stop();
    this.rememberSession(undefined);
    this.post({ type: 'clear', sessionId: null });
  }

  /** Attaches the active editor's selection (or its whole text) to the next question. */
  attachSelection(): boolean {
    const c = selectionContext();
    if (!c) return false;
    this.context = [...this.context.filter((x) => x.label !== c.label), c];
    this.post({ type: 'context', items: this.context.map((x) => ({ label: x.label })) });
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

  /** A request whose failure shows as the panel's error banner (undefined then). */
  private async fetch<R>(method: string): Promise<R | undefined> {
    try {
      return await this.client.request<R>(method, {});
    } catch (err) {
      this.post({ type: 'error', error: errorToInfo(err) });
      return undefined;
    }
  }

  listModels(): Promise<ModelsResult | undefined> {
    return this.fetch<ModelsResult>(Method.models);
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

  async setModel(model: string | undefined): Promise<void> {
    this.model = model || undefined;
    await this.state.update(MODEL_KEY, this.model);
    await this.refreshModels();
  }

  listSessions(): Promise<SessionsResult | undefined> {
    return this.fetch<SessionsResult>(Method.sessions);
  }

  private async refreshSessions(): Promise<void> {
    const r = await this.listSessions();
    if (r) this.post({ type: 'sessions', sessions: r.sessions });
  }

  /** Redraws the panel with a stored session and continues it. */
  async openSession(sessionId: string, quiet = false): Promise<void> {
    if (this.running) this.stop();
    try {
      await this.showSession(await this.client.request<SessionResult>(Method.session, { sessionId }));
    } catch (err) {
      if (quiet) {
        // A session that is gone (history deleted, another machine) just means a fresh start.
        this.rememberSession(undefined);
        return;
      }
      this.post({ type: 'error', error: errorToInfo(err) });
    }
  }

  /** Shows another version of a message (`‹ 2/3 ›`): the conversation through it, redrawn. */
  private async switchBranch(messageId: MessageId): Promise<void> {
    if (!this.sessionId || this.refuseWhileRunning()) return;
    try {
      await this.showSession(await this.client.request<SessionResult>(Method.switchBranch, { sessionId: this.sessionId, messageId }));
    } catch (err) {
      this.post({ type: 'error', error: errorToInfo(err) });
    }
  }

  /** Redraws a session (`ryan/session`'s shape) with the files each turn changed. */
  private async showSession(session: SessionResult): Promise<void> {
    this.rememberSession(session.sessionId);
    this.post({ type: 'session', session, reviews: await this.review.reviews(session) });
  }

  /**
   * Deletes a stored session after the user confirms (a modal dialog); the panel starts afresh if it
   * was showing it. True when it was deleted.
   */
  async deleteSession(sessionId: string, title?: string): Promise<boolean> {
    if (!(await confirmDeleteSession(title))) return false;
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

  dispose(): void {
    this.stop();
    this.approvals.settleAll();
    this.status.dispose();
    this.viewListeners?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
