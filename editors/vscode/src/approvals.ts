/**
 * The panel's approval cards: a question of the server (`window/showMessageRequest`) shown in a turn,
 * waiting for the user's click. Each card settles its server request once: with the chosen action, or
 * with none when the server gives up on it (the chat was stopped) or the panel goes away.
 */

import { randomUUID } from 'node:crypto';
import type { CancellationToken } from 'vscode-languageclient/node';
import type { Approval } from './client';
import { ToWebview } from './protocol';

export class ApprovalCards {
  /** the cards waiting for an answer: each settles its server request (undefined: none) */
  private readonly waiting = new Map<string, (choice: string | undefined) => void>();

  constructor(private readonly post: (m: ToWebview) => void) {}

  /** Shows a card in the turn `where` names; resolves with the chosen action (undefined: none). */
  ask(where: { requestId: string; checkpointId?: number | string }, approval: Approval, token: CancellationToken): Promise<string | undefined> {
    if (token.isCancellationRequested) return Promise.resolve(undefined);
    const approvalId = randomUUID();
    return new Promise((resolve) => {
      const settle = (choice: string | undefined) => {
        if (!this.waiting.delete(approvalId)) return;
        sub.dispose();
        this.post({ type: 'approvalDone', approvalId, choice });
        resolve(choice);
      };
      this.waiting.set(approvalId, settle);
      const sub = token.onCancellationRequested(() => settle(undefined));
      this.post({ type: 'approval', ...where, approvalId, ...approval });
    });
  }

  /** The user's click on a card. */
  answer(approvalId: string, action: string): void {
    this.waiting.get(approvalId)?.(action);
  }

  /** Settles every waiting card with no action (the chat ended, or the view went away). */
  settleAll(): void {
    for (const settle of [...this.waiting.values()]) settle(undefined);
  }
}
