/**
 * Reviewing what a turn changed with VS Code's own tools: a file as it was before the turn is served
 * as a `ryan-checkpoint:` document (from `ryan/diff`), opened in the diff editor against the real file
 * (whose per-hunk revert arrows then undo a hunk); Undo this turn (`ryan/restore`) and Redo
 * (`ryan/redo`) for the whole turn.
 */

import * as vscode from 'vscode';
import type { RyanClient } from './client';
import { errorToInfo } from './messages';
import {
  Checkpoint, CheckpointsResult, DiffResult, Method, RestoreResult, SessionResult, ToWebview, TurnReview,
} from './protocol';
import { CHECKPOINT_SCHEME, assignCheckpoints, checkpointQuery, diffTitle, parseCheckpointQuery, restoreSummary } from './review';

export class CheckpointReview implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly registration: vscode.Disposable;
  /** the `before` text fetched when a diff was opened, by document URI (the provider's first answer) */
  private readonly before = new Map<string, string>();
  /** file URIs by path as the tools name it, from the checkpoints seen (to save restored buffers) */
  private readonly uris = new Map<string, string>();
  /** the checkpoint whose Undo or Redo runs now: its questions go to that turn */
  active: number | string | undefined;

  constructor(
    private readonly client: RyanClient,
    private readonly post: (m: ToWebview) => void,
  ) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(CHECKPOINT_SCHEME, this);
  }

  /** A file as it was before the checkpoint's turn ('' for a file the turn created, or an empty side). */
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const known = this.before.get(uri.toString());
    if (known !== undefined) return known;
    const q = parseCheckpointQuery(uri.query);
    if (!q) return '';
    const r = await this.client.request<DiffResult>(Method.diff, { checkpointId: q.checkpointId, path: q.path });
    return r.files.find((f) => f.path === q.path)?.before ?? '';
  }

  /** Remembers where the files of these checkpoints are. */
  note(checkpoints: readonly Checkpoint[]): void {
    for (const c of checkpoints) for (const f of c.files ?? []) if (f.uri) this.uris.set(f.path, f.uri);
  }

  /** The checkpoints of a session's turns, for redrawing it (none from a server without checkpoints). */
  async reviews(session: SessionResult): Promise<TurnReview[]> {
    try {
      const r = await this.client.request<CheckpointsResult>(Method.checkpoints, { sessionId: session.sessionId });
      this.note(r.checkpoints);
      return assignCheckpoints(session.messages ?? [], r.checkpoints);
    } catch {
      return [];
    }
  }

  /** Opens the diff editor: the file before the checkpoint's turn ↔ the file now (its own URI). */
  async openDiff(checkpointId: number | string, path: string): Promise<void> {
    let file;
    try {
      const r = await this.client.request<DiffResult>(Method.diff, { checkpointId, path });
      file = r.files.find((f) => f.path === path) ?? r.files[0];
    } catch (err) {
      void vscode.window.showErrorMessage(`Ryan: cannot show the changes of ${path}: ${errorToInfo(err).message}`);
      return;
    }
    if (!file) return;
    const docPath = path.startsWith('/') ? path : `/${path}`;
    const left = vscode.Uri.from({ scheme: CHECKPOINT_SCHEME, path: docPath, query: checkpointQuery(checkpointId, path) });
    this.before.set(left.toString(), file.before ?? '');
    const exists = file.current !== null && file.current !== undefined;
    // A file that is gone now: an empty side of our own (a missing file cannot be opened).
    const right = exists ? vscode.Uri.parse(file.uri) : vscode.Uri.from({ scheme: CHECKPOINT_SCHEME, path: docPath });
    await vscode.commands.executeCommand('vscode.diff', left, right, diffTitle(path, exists), { preview: true });
  }

  /** Undo this turn (`restore`) or Redo (`redo`), reported in the turn of `checkpointId` (not while a chat runs). */
  async run(action: 'restore' | 'redo', checkpointId: number | string, sessionId: string | undefined, chatRunning = false): Promise<void> {
    if (chatRunning || this.active !== undefined) {
      const text = chatRunning ? 'Wait for the answer to finish first.' : 'Another Undo or Redo is running.';
      this.post({ type: 'restoreDone', checkpointId, text, failed: true });
      return;
    }
    this.active = checkpointId;
    try {
      const result =
        action === 'restore'
          ? await this.client.request<RestoreResult>(Method.restore, { checkpointId })
          : await this.client.request<RestoreResult>(Method.redo, { sessionId });
      await this.save(result.restored ?? []);
      this.post({ type: 'restoreDone', checkpointId, text: restoreSummary(result, action) });
    } catch (err) {
      this.post({ type: 'restoreDone', checkpointId, text: errorToInfo(err).message, failed: true });
    } finally {
      this.active = undefined;
    }
    if (sessionId) await this.refreshState(sessionId);
  }

  /** Sends every checkpoint's `undone` state (a restore covers the later turns too). */
  private async refreshState(sessionId: string): Promise<void> {
    try {
      const r = await this.client.request<CheckpointsResult>(Method.checkpoints, { sessionId });
      this.note(r.checkpoints);
      this.post({ type: 'checkpointState', checkpoints: r.checkpoints.map((c) => ({ checkpointId: c.checkpointId, undone: !!c.undone })) });
    } catch {
      // the server went away: its state shows in the header
    }
  }

  /**
   * Saves the restored files the editor holds with unsaved changes: a restore through
   * `workspace/applyEdit` changes the buffer, and Undo means the file as it was, on disk too.
   */
  private async save(paths: readonly string[]): Promise<void> {
    const wanted = new Set<string>();
    const root = vscode.workspace.workspaceFolders?.[0]?.uri;
    for (const p of paths) {
      const known = this.uris.get(p);
      if (known) wanted.add(vscode.Uri.parse(known).toString());
      else if (p.startsWith('/')) wanted.add(vscode.Uri.file(p).toString());
      else if (root) wanted.add(vscode.Uri.joinPath(root, p).toString());
    }
    const dirty = vscode.workspace.textDocuments.filter((d) => d.isDirty && wanted.has(d.uri.toString()));
    await Promise.all(dirty.map((d) => d.save()));
  }

  dispose(): void {
    this.registration.dispose();
    this.before.clear();
  }
}
