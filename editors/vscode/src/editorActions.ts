/**
 * What the panel asks of the editor around a chat: the selection as context, inserting a code block
 * at the cursor, the clipboard, links, and confirming a session's deletion.
 */

import * as vscode from 'vscode';
import { contextLabel } from './messages';
import { ContextEntry } from './protocol';

/** The active editor's selection (or its whole text) as a chat's context, with its chip's label. */
export function selectionContext(): { entry: ContextEntry; label: string } | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
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
  return { entry, label: contextLabel(entry, doc.isUntitled ? doc.uri.path : vscode.workspace.asRelativePath(doc.uri)) };
}

/** Puts `text` in place of every selection of the active (else the first visible) editor. */
export async function insertAtCursor(text: string): Promise<void> {
  const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
  if (!editor) {
    void vscode.window.showWarningMessage('Ryan: open an editor to insert the code into.');
    return;
  }
  await editor.edit((b) => {
    for (const sel of editor.selections) b.replace(sel, text);
  });
}

export async function copyText(text: string): Promise<void> {
  await vscode.env.clipboard.writeText(text);
  void vscode.window.setStatusBarMessage('Ryan: copied', 1500);
}

/** Opens a web or mail link of an answer outside the editor (nothing else). */
export async function openLink(href: string): Promise<void> {
  if (/^(https?:|mailto:)/i.test(href)) await vscode.env.openExternal(vscode.Uri.parse(href));
}

/** Asks (a modal dialog) before a stored session is deleted; true to go on. */
export async function confirmDeleteSession(title?: string): Promise<boolean> {
  const name = title?.trim() || '(untitled)';
  const choice = await vscode.window.showWarningMessage(
    `Delete the Ryan session "${name}"?`,
    { modal: true, detail: 'Its messages are removed from the history. This cannot be undone.' },
    'Delete',
  );
  return choice === 'Delete';
}
