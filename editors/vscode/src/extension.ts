/**
 * Ryan's VS Code entry point: wires the server client, the chat view and the commands.
 */

import * as vscode from 'vscode';
import { ChatPanel } from './chatPanel';
import { RyanClient } from './client';
import { pickSession } from './sessionPicker';

let client: RyanClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Ryan');
  client = new RyanClient(output);
  const panel = new ChatPanel(context.extensionUri, context.workspaceState, client);
  const c = client;

  context.subscriptions.push(
    output,
    c,
    panel,
    vscode.window.registerWebviewViewProvider(ChatPanel.viewType, panel, {
      webviewOptions: { retainContextWhenHidden: true },
    }),
    vscode.commands.registerCommand('ryan.ask', async (prompt?: unknown) => {
      await panel.show();
      if (typeof prompt === 'string' && prompt.trim()) await panel.ask(prompt);
      else panel.focusInput();
    }),
    vscode.commands.registerCommand('ryan.askAboutSelection', async (prompt?: unknown) => {
      if (!panel.attachSelection()) {
        void vscode.window.showInformationMessage('Ryan: select some code in an editor first.');
        return;
      }
      await panel.show();
      if (typeof prompt === 'string' && prompt.trim()) await panel.ask(prompt);
      else panel.focusInput();
    }),
    vscode.commands.registerCommand('ryan.stop', () => panel.stop()),
    vscode.commands.registerCommand('ryan.newSession', async () => {
      panel.newSession();
      await panel.show();
      panel.focusInput();
    }),
    vscode.commands.registerCommand('ryan.pickModel', async () => {
      const r = await panel.listModels();
      if (!r) return;
      const items = r.models.map((m) => ({ label: m.name, description: m.name === r.current ? 'current' : undefined }));
      const pick = await vscode.window.showQuickPick(items, { placeHolder: 'Model for Ryan' });
      if (pick) await panel.setModel(pick.label);
    }),
    vscode.commands.registerCommand('ryan.openSession', () => pickSession(panel)),
    vscode.commands.registerCommand('ryan.restartServer', async () => {
      try {
        await c.restart();
        void vscode.window.setStatusBarMessage('Ryan: server restarted', 2000);
      } catch (err) {
        void vscode.window.showErrorMessage(err instanceof Error ? err.message : String(err));
      }
    }),
  );
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
