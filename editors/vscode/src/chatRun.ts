/**
 * One `ryan/chat` streamed into a turn of the panel: its `$/progress` events and work-done status as
 * panel messages, then `done` (with the files it changed), `cancelled` or `error`.
 */

import type * as vscode from 'vscode';
import type { RyanClient } from './client';
import { contextUse, errorToInfo, eventToMessage, isCancellation, summarize, workDoneToMessage } from './messages';
import { ChatParams, ChatResult, ToWebview } from './protocol';

/**
 * Runs the chat into the turn `requestId`; `onSession` learns its session id as soon as it is known.
 * Resolves with the result, or undefined when it failed or was stopped (the turn says which).
 */
export async function streamChat(
  client: RyanClient,
  params: Omit<ChatParams, 'partialResultToken' | 'workDoneToken'>,
  requestId: string,
  token: vscode.CancellationToken,
  post: (m: ToWebview) => void,
  onSession: (sessionId: string) => void,
): Promise<ChatResult | undefined> {
  try {
    const result = await client.chat(
      params,
      (value) => {
        const msg = eventToMessage(requestId, value);
        if (!msg) return;
        if (msg.type === 'start' && msg.sessionId) onSession(msg.sessionId);
        post(msg);
      },
      token,
      (value) => {
        const msg = workDoneToMessage(requestId, value);
        if (msg) post(msg);
      },
    );
    if (result.sessionId) onSession(result.sessionId);
    post({
      type: 'done',
      requestId,
      stopReason: result.stopReason,
      model: result.model,
      sessionId: result.sessionId,
      summary: summarize(result),
      context: contextUse(result.usage),
      userMessageId: result.userMessageId ?? undefined,
      checkpoint: result.checkpoint ?? undefined,
    });
    return result;
  } catch (err) {
    if (isCancellation(err) || token.isCancellationRequested) {
      post({ type: 'cancelled', requestId });
    } else {
      post({ type: 'error', requestId, error: errorToInfo(err) });
    }
    return undefined;
  }
}
