/**
 * The session picker (Ryan: Open Session): open an earlier session, or delete one with the trash
 * button on its row (after a confirmation).
 */

import * as vscode from 'vscode';
import { ChatPanel } from './chatPanel';
import { sessionDescription } from './messages';
import { SessionSummary } from './protocol';

interface SessionItem extends vscode.QuickPickItem {
  sessionId: string;
}

const DELETE_BUTTON: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('trash'), tooltip: 'Delete this session' };

function toItem(s: SessionSummary, current: string | undefined): SessionItem {
  return {
    label: s.title || '(untitled)',
    description: sessionDescription(s, current),
    detail: String(s.updatedAt),
    sessionId: s.sessionId,
    buttons: [DELETE_BUTTON],
  };
}

/** Shows the picker; resolves when it is closed. */
export async function pickSession(panel: ChatPanel): Promise<void> {
  const r = await panel.listSessions();
  if (!r) return;
  const picker = vscode.window.createQuickPick<SessionItem>();
  picker.placeholder = r.sessions.length ? 'Open a Ryan session (the trash button deletes one)' : 'No earlier Ryan sessions';
  picker.items = r.sessions.map((s) => toItem(s, panel.currentSessionId));
  picker.matchOnDescription = true;
  let confirming = false;
  await new Promise<void>((resolve) => {
    picker.onDidTriggerItemButton(async ({ item }) => {
      // The confirmation dialog takes the focus: keep the picker alive meanwhile, and show it again.
      confirming = true;
      picker.ignoreFocusOut = true;
      try {
        if (await panel.deleteSession(item.sessionId, item.label)) {
          picker.items = picker.items.filter((i) => i.sessionId !== item.sessionId);
        }
      } finally {
        confirming = false;
        picker.ignoreFocusOut = false;
        picker.show();
      }
    });
    picker.onDidAccept(async () => {
      const pick = picker.selectedItems[0];
      picker.hide();
      if (pick) {
        await panel.show();
        await panel.openSession(pick.sessionId);
      }
    });
    picker.onDidHide(() => {
      if (confirming) return;
      picker.dispose();
      resolve();
    });
    picker.show();
  });
}
