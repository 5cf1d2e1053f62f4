/**
 * The wire contract (docs/protocol.md) and the panel's message contract, defined once.
 * Mirrors ryan_server/protocol.py and editors/neovim/lua/ryan/protocol.lua; change them together
 * (tests/unit/test_protocol_agreement.py checks that the three agree).
 *
 * Kept free of `vscode` imports so the unit tests and the webview's type-check can use it.
 */

/** The protocol version this extension speaks (`capabilities.experimental.ryan.protocolVersion`). */
export const PROTOCOL_VERSION = 1;

/** JSON-RPC methods of ryan-server. */
export const Method = {
  chat: 'ryan/chat',
  models: 'ryan/models',
  status: 'ryan/status',
  sessions: 'ryan/sessions',
  session: 'ryan/session',
  deleteSession: 'ryan/deleteSession',
  checkpoints: 'ryan/checkpoints',
  diff: 'ryan/diff',
  restore: 'ryan/restore',
  redo: 'ryan/redo',
  switchBranch: 'ryan/switchBranch',
} as const;

/** JSON-RPC error codes of the contract. */
export const ErrorCode = {
  invalidParams: -32602,
  backendUnreachable: -32001,
  modelNotFound: -32002,
  backendError: -32003,
  sessionBusy: -32004,
  sessionNotFound: -32005,
  checkpointNotFound: -32006,
  requestCancelled: -32800,
} as const;

/** The `kind` of every `$/progress` value sent for a chat's partialResultToken. */
export const EventKind = {
  start: 'start',
  thinking: 'thinking',
  content: 'content',
  toolCall: 'toolCall',
  toolOutput: 'toolOutput',
  toolResult: 'toolResult',
  retry: 'retry',
  fallback: 'fallback',
  resumed: 'resumed',
  notice: 'notice',
} as const;

/**
 * The actions of the question `ryan/restore` and `ryan/redo` ask about files changed by hand since
 * Ryan's edits (docs/protocol.md "Checkpoints, undo and redo").
 */
export const ConflictAction = {
  overwrite: 'Overwrite',
  keep: 'Keep my changes',
} as const;

/**
 * The actions of an approval question (`window/showMessageRequest`, docs/protocol.md "Approval"); a
 * write's question carries its unified diff after the first blank line.
 */
export const ApprovalAction = {
  allow: 'Allow',
  allowForSession: 'Allow for session',
  deny: 'Deny',
} as const;

export type ToolStatus = 'ok' | 'error' | 'denied';

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }
export interface ContextEntry { uri: string; range?: Range; text: string }

export interface ChatParams {
  sessionId?: string;
  /** required, except with `regenerate` */
  prompt?: string;
  /** answer the active branch's last user message again (needs `sessionId`) */
  regenerate?: boolean;
  /** send `prompt` as a new version of this earlier user message */
  editOf?: MessageId;
  context?: ContextEntry[];
  model?: string;
  partialResultToken: string | number;
  workDoneToken?: string | number;
}

export type ChatEvent =
  | { kind: 'start'; sessionId: string; model: string }
  | { kind: 'thinking'; text: string }
  | { kind: 'content'; text: string }
  | { kind: 'toolCall'; callId: string; name: string; arguments: unknown; server?: string | null; tool?: string | null }
  | {
      kind: 'toolResult'; callId: string; name: string; status: ToolStatus; output: string;
      server?: string | null; tool?: string | null;
    }
  | { kind: 'toolOutput'; callId: string; text: string }
  | { kind: 'retry'; attempt: number; delayMs: number; reason: string }
  | { kind: 'fallback'; reason: string }
  | { kind: 'resumed'; attempt: number; offset: number }
  | { kind: 'notice'; message?: string; text?: string };

export interface ChatResult {
  sessionId: string;
  model: string;
  stopReason: 'stop' | 'length' | 'maxSteps';
  content: string;
  thinking?: string;
  toolCalls?: { callId: string; name: string; arguments: unknown; status: ToolStatus }[];
  usage?: {
    promptTokens: number;
    completionTokens: number;
    estimated?: boolean;
    /** the model's context window in tokens, where the server knows it */
    contextWindow?: number;
    /** of it, what the last request and its answer took */
    contextUsed?: number;
  };
  timing?: { firstTokenMs: number; totalMs: number; tokensPerSecond: number };
  /** the user message this chat answered */
  userMessageId?: MessageId;
  /** the chat's checkpoint, when it changed files through Ryan's tools */
  checkpoint?: Checkpoint | null;
}

/** A stored message's id (the server's are integers; kept opaque here). */
export type MessageId = number | string;

export type FileChange = 'created' | 'modified' | 'deleted';
/** A file of a checkpoint: `path` as the tools name it, `uri` its `file:` URI, lines added/removed. */
export interface CheckpointFile { path: string; uri: string; change: FileChange; added: number; removed: number }
/** One chat's checkpoint (`ryan/checkpoints`, and `checkpoint` of a `ryan/chat` result). */
export interface Checkpoint {
  checkpointId: number | string;
  /** the chat's user message */
  messageId: MessageId;
  prompt?: string;
  createdAt?: string | number;
  files: CheckpointFile[];
  /** true while a restore that covers it is in effect */
  undone: boolean;
}
export interface CheckpointsResult { checkpoints: Checkpoint[] }
export interface DiffFile { path: string; uri: string; before: string | null; current: string | null; diff: string }
export interface DiffResult { checkpointId: number | string; files: DiffFile[] }
/** What `ryan/restore` and `ryan/redo` did (paths as the tools name them). */
export interface RestoreResult {
  restored: string[];
  skipped: { path: string; reason: string }[];
  conflicts: string[];
  cancelled: boolean;
}

export interface ModelInfo { name: string; details?: unknown }

/** The state of one MCP server in `ryan/status` (`mcp`). */
export type McpState = 'starting' | 'ready' | 'failed' | 'crashed' | 'stopped' | 'disabled';
export interface McpServerStatus { name: string; state: McpState | string; tools: string[]; error?: string | null }
/** The part of `ryan/status` the panel shows (the rest: provider, baseUrl, reachable, history, ...). */
export interface StatusResult { mcp?: McpServerStatus[]; [key: string]: unknown }
export interface ModelsResult { models: ModelInfo[]; current?: string | null }

export interface SessionSummary {
  sessionId: string;
  title: string;
  model?: string | null;
  createdAt: string | number;
  updatedAt: string | number;
  messageCount: number;
}
export interface SessionsResult { sessions: SessionSummary[] }

export interface StoredMessage {
  id?: MessageId;
  /** the ids of this message's versions (itself included), oldest first */
  siblings?: MessageId[];
  role: 'user' | 'assistant' | 'tool' | 'system';
  content: string;
  thinking?: string | null;
  toolCalls?: { callId?: string; id?: string; name: string; arguments: unknown; status?: ToolStatus }[] | null;
  toolName?: string | null;
  toolCallId?: string | null;
  status?: string;
  createdAt?: string | number;
}
export interface SessionResult { sessionId: string; title: string; headId?: MessageId | null; messages: StoredMessage[] }

/** A checkpoint shown under the answer to the user message `messageId` of a redrawn session. */
export interface TurnReview { messageId: MessageId; checkpoint: Checkpoint }
/** A message's place among its versions, for the `‹ 2/3 ›` switcher. */
export interface Branch { id: MessageId; siblings: MessageId[] }

/** A banner the panel shows for a failed request. */
export interface ErrorInfo {
  code?: number;
  title: string;
  message: string;
  /** models the backend has, for "model not found" */
  available?: string[];
  partialContent?: string;
}

/** How much of the model's context window the last request of a chat and its answer took (tokens). */
export interface ContextUse { used: number; window: number }

// ---- extension → webview -----------------------------------------------------------------------

export type ToWebview =
  | { type: 'userMessage'; requestId: string; text: string; context: { label: string }[] }
  | { type: 'start'; requestId: string; sessionId: string; model: string }
  | { type: 'content'; requestId: string; text: string }
  | { type: 'thinking'; requestId: string; text: string }
  /** `server` and `tool` for an MCP server's tool (`name` is then `mcp__<server>__<tool>`) */
  | { type: 'toolCall'; requestId: string; callId: string; name: string; arguments: unknown; server?: string; tool?: string }
  | {
      type: 'toolResult'; requestId: string; callId: string; name: string; status: ToolStatus; output: string;
      server?: string; tool?: string;
    }
  /** a piece of a running tool's output (a command's stdout and stderr), as it came */
  | { type: 'toolOutput'; requestId: string; callId: string; text: string }
  | { type: 'status'; requestId: string; text: string }
  /**
   * The chat's latest work-done status (`waiting for the model… 3 s`, `running run_command…`), shown
   * until the answer's text arrives or the chat ends; an empty text removes it.
   */
  | { type: 'progress'; requestId: string; text: string }
  /** Something to know about the turn (a `notice` event): kept in the transcript, unlike `status`. */
  | { type: 'notice'; requestId: string; text: string }
  | {
      type: 'done'; requestId: string; stopReason: string; model: string; sessionId: string; summary: string;
      /** shown after the summary as `context 41%`; absent when the window is unknown */
      context?: ContextUse;
      /** the user message the chat answered */
      userMessageId?: MessageId;
      /** the files the chat changed: listed under the answer, with Undo this turn */
      checkpoint?: Checkpoint;
    }
  /** a regenerate starts: the last answer in view is replaced by the turn `requestId` */
  | { type: 'regenerating'; requestId: string }
  /** the ids and versions of the turn `requestId`'s user message and answer (after a regenerate) */
  | { type: 'branches'; requestId: string; user?: Branch; answer?: Branch }
  /** the current `undone` state of the checkpoints shown */
  | { type: 'checkpointState'; checkpoints: { checkpointId: number | string; undone: boolean }[] }
  /** a restore or redo started from a turn's Undo/Redo button ended */
  | { type: 'restoreDone'; checkpointId: number | string; text: string; failed?: boolean }
  | { type: 'cancelled'; requestId: string }
  | { type: 'error'; requestId?: string; error: ErrorInfo }
  | { type: 'busy'; busy: boolean }
  | { type: 'models'; models: string[]; current?: string | null }
  | { type: 'sessions'; sessions: SessionSummary[] }
  /** a session to redraw; `reviews` are the checkpoints of its turns */
  | { type: 'session'; session: SessionResult; reviews?: TurnReview[] }
  | { type: 'clear'; sessionId?: string | null }
  | { type: 'context'; items: { label: string }[] }
  | { type: 'focusInput'; text?: string }
  | { type: 'server'; state: 'starting' | 'running' | 'stopped'; message?: string }
  /** the MCP servers of `ryan/status`, a line each under the header (none: no lines) */
  | { type: 'mcp'; servers: McpServerStatus[] }
  /** the server asks before a tool runs: a card in the turn, its diff (a write's) shown as text */
  | {
      type: 'approval'; requestId: string; approvalId: string; question: string; diff: string; actions: string[];
      /** asked by a restore or redo started from this checkpoint's turn: the card goes there */
      checkpointId?: number | string;
    }
  /** the approval was answered (`choice`) or abandoned by the server (the chat was stopped): the card is done */
  | { type: 'approvalDone'; approvalId: string; choice?: string };

// ---- webview → extension -----------------------------------------------------------------------

export type FromWebview =
  | { type: 'ready'; sessionId?: string | null }
  | { type: 'ask'; prompt: string }
  | { type: 'stop' }
  | { type: 'newSession' }
  | { type: 'requestModels' }
  | { type: 'pickModel'; model: string }
  | { type: 'requestSessions' }
  | { type: 'openSession'; sessionId: string }
  /** asks the extension to delete a stored session (it confirms first) */
  | { type: 'deleteSession'; sessionId: string; title?: string }
  | { type: 'clearContext' }
  | { type: 'copy'; text: string }
  | { type: 'insert'; text: string }
  | { type: 'openLink'; href: string }
  /** the user's answer to an approval card: one of its actions */
  | { type: 'approve'; approvalId: string; action: string }
  /** answer the last user message again */
  | { type: 'regenerate' }
  /** show another version of a message (`‹ 2/3 ›`) */
  | { type: 'switchBranch'; messageId: MessageId }
  /** open the diff editor: the checkpoint's file before the turn ↔ the file now */
  | { type: 'openDiff'; checkpointId: number | string; path: string }
  /** Undo this turn (`ryan/restore`) or Redo (`ryan/redo`), from the turn of `checkpointId` */
  | { type: 'restore'; checkpointId: number | string }
  | { type: 'redo'; checkpointId: number | string }
  | { type: 'dismissError' };

/** The webview's persisted state (`vscode.setState`). */
export interface PanelState {
  sessionId?: string | null;
  model?: string | null;
  draft?: string;
}
