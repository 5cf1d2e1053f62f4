/**
 * Pure mapping between the server's wire values and the panel's `{type}`-tagged messages.
 *
 * No `vscode` import: the unit tests run this under plain Node.
 */

import {
  ApprovalAction, ChatEvent, ChatResult, ContextEntry, ContextUse, ErrorCode, ErrorInfo, EventKind, McpServerStatus, SessionSummary,
  ToWebview,
} from './protocol';

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/** Maps one `$/progress` value of a chat to a panel message; unknown or malformed values map to nothing. */
export function eventToMessage(requestId: string, value: unknown): ToWebview | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Partial<ChatEvent> & Record<string, unknown>;
  switch (e.kind) {
    case EventKind.start:
      return { type: 'start', requestId, sessionId: str(e.sessionId), model: str(e.model) };
    case EventKind.content:
      return typeof e.text === 'string' && e.text ? { type: 'content', requestId, text: e.text } : undefined;
    case EventKind.thinking:
      return typeof e.text === 'string' && e.text ? { type: 'thinking', requestId, text: e.text } : undefined;
    case EventKind.toolCall:
      return {
        type: 'toolCall', requestId, callId: str(e.callId), name: str(e.name), arguments: e.arguments ?? {},
        ...mcpFields(e),
      };
    case EventKind.toolResult: {
      const status = e.status === 'ok' || e.status === 'denied' ? e.status : 'error';
      return {
        type: 'toolResult', requestId, callId: str(e.callId), name: str(e.name), status, output: str(e.output),
        ...mcpFields(e),
      };
    }
    case EventKind.toolOutput:
      return typeof e.text === 'string' && e.text
        ? { type: 'toolOutput', requestId, callId: str(e.callId), text: e.text }
        : undefined;
    case EventKind.retry: {
      const secs = typeof e.delayMs === 'number' ? ` in ${(e.delayMs / 1000).toFixed(1)} s` : '';
      return { type: 'status', requestId, text: `Retrying (attempt ${str(e.attempt)})${secs}: ${str(e.reason)}` };
    }
    case EventKind.fallback:
      return { type: 'status', requestId, text: `Streaming failed, asking again without streaming: ${str(e.reason)}` };
    case EventKind.resumed:
      return { type: 'status', requestId, text: `The connection broke; the model continues its answer (attempt ${str(e.attempt)})` };
    case EventKind.notice: {
      // A line of its own in the answer, not the status line: the summary replaces that at the end,
      // and a notice (tools described in the prompt, history trimmed) must stay readable.
      const text = str(e.message ?? e.text);
      return text ? { type: 'notice', requestId, text } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Maps one `$/progress` value of a chat's workDoneToken (`begin`, `report`, `end`) to the panel's
 * status line: the message of a begin or report, and an empty text (no status) at the end.
 */
export function workDoneToMessage(requestId: string, value: unknown): ToWebview | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { kind?: unknown; message?: unknown };
  if (v.kind === 'end') return { type: 'progress', requestId, text: '' };
  if ((v.kind === 'begin' || v.kind === 'report') && typeof v.message === 'string' && v.message) {
    return { type: 'progress', requestId, text: v.message };
  }
  return undefined;
}

/** An MCP tool's `server` and `tool` fields, when the event has them (built-in tools: none). */
function mcpFields(e: Record<string, unknown>): { server?: string; tool?: string } {
  return typeof e.server === 'string' && e.server && typeof e.tool === 'string' && e.tool
    ? { server: e.server, tool: e.tool }
    : {};
}

/**
 * The server and tool of an MCP tool's name, `mcp__<server>__<tool>` (what stored sessions keep),
 * or undefined for any other name. The server's part ends at the first `__` after the prefix.
 */
export function parseMcpName(name: string): { server: string; tool: string } | undefined {
  const m = /^mcp__(.+?)__(.+)$/.exec(name);
  return m ? { server: m[1], tool: m[2] } : undefined;
}

/**
 * What a tool card names: `demo › add` for an MCP server's tool (from the event's `server` and
 * `tool`, else parsed from its `mcp__demo__add` name), the name itself for a built-in tool.
 */
export function toolLabel(call: { name: string; server?: string | null; tool?: string | null }): string {
  if (call.server && call.tool) return `${call.server} › ${call.tool}`;
  const parsed = parseMcpName(call.name);
  return parsed ? `${parsed.server} › ${parsed.tool}` : call.name;
}

/**
 * What a tool card shows next to the tool's name: the command of `run_command`, the file, pattern or
 * glob of the others ('' when the arguments name none, or are not JSON).
 */
export function toolTarget(name: string, args: unknown): string {
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      return '';
    }
  }
  if (!args || typeof args !== 'object') return '';
  const a = args as Record<string, unknown>;
  const keys = name === 'run_command' ? ['command'] : ['path', 'pattern', 'glob'];
  for (const k of keys) if (typeof a[k] === 'string') return a[k];
  return '';
}

/**
 * The arguments as a tool card shows them: a command as the shell gets it (`$ pytest -q`, then its
 * folder and time limit when the model gave them), anything else as indented JSON.
 */
export function toolArgsText(name: string, args: unknown): string {
  if (typeof args === 'string') return args;
  const a = args && typeof args === 'object' ? (args as Record<string, unknown>) : undefined;
  if (name === 'run_command' && a && typeof a.command === 'string') {
    const lines = [`$ ${a.command}`];
    if (typeof a.cwd === 'string' && a.cwd) lines.push(`in ${a.cwd}`);
    if (typeof a.timeoutSeconds === 'number') lines.push(`time limit ${a.timeoutSeconds} s`);
    return lines.join('\n');
  }
  return JSON.stringify(args, null, 2) ?? '';
}

/** The `mcp` list of a `ryan/status` result, cleaned up for the panel (an older server: none). */
export function mcpServers(status: unknown): McpServerStatus[] {
  const list = typeof status === 'object' && status !== null ? (status as { mcp?: unknown }).mcp : undefined;
  if (!Array.isArray(list)) return [];
  const out: McpServerStatus[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const s = item as Record<string, unknown>;
    if (typeof s.name !== 'string' || !s.name) continue;
    const tools = Array.isArray(s.tools) ? s.tools.filter((t): t is string => typeof t === 'string') : [];
    const server: McpServerStatus = { name: s.name, state: str(s.state) || 'unknown', tools };
    if (typeof s.error === 'string' && s.error) server.error = s.error;
    out.push(server);
  }
  return out;
}

/** True while any MCP server is still starting: the panel asks for the status again shortly. */
export function mcpSettling(servers: McpServerStatus[]): boolean {
  return servers.some((s) => s.state === 'starting');
}

/** "3 tools" for a server's line in the panel. */
export function toolCount(n: number): string {
  return `${n} tool${n === 1 ? '' : 's'}`;
}

const TITLES: Record<number, string> = {
  [ErrorCode.invalidParams]: 'Invalid request',
  [ErrorCode.backendUnreachable]: 'Cannot reach the model server',
  [ErrorCode.modelNotFound]: 'Model not found',
  [ErrorCode.backendError]: 'The model server failed',
  [ErrorCode.sessionBusy]: 'This session is busy',
  [ErrorCode.sessionNotFound]: 'Session not found',
};

/** True for the JSON-RPC "request cancelled" error (and VS Code's own CancellationError). */
export function isCancellation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; name?: unknown };
  return e.code === ErrorCode.requestCancelled || e.name === 'Canceled';
}

/** Turns a rejected request into what the error banner shows. */
export function errorToInfo(err: unknown): ErrorInfo {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown; data?: unknown };
    const code = typeof e.code === 'number' ? e.code : undefined;
    const message = str(e.message) || 'Unknown error';
    const info: ErrorInfo = {
      code,
      title: (code !== undefined && TITLES[code]) || 'Request failed',
      message,
    };
    if (typeof e.data === 'object' && e.data !== null) {
      const d = e.data as { available?: unknown; partialContent?: unknown };
      if (Array.isArray(d.available)) {
        info.available = d.available.map((m) => (typeof m === 'string' ? m : str((m as { name?: unknown })?.name)));
      }
      if (typeof d.partialContent === 'string' && d.partialContent) info.partialContent = d.partialContent;
    }
    return info;
  }
  return { title: 'Request failed', message: str(err) || 'Unknown error' };
}

/** One line under a finished answer: model, tokens, speed. */
export function summarize(result: Partial<ChatResult>): string {
  const parts: string[] = [];
  if (result.model) parts.push(result.model);
  const u = result.usage;
  if (u && typeof u.completionTokens === 'number') {
    parts.push(`${u.estimated ? '~' : ''}${u.completionTokens} tokens`);
  }
  const t = result.timing;
  if (t && typeof t.tokensPerSecond === 'number' && t.tokensPerSecond > 0) {
    parts.push(`${t.tokensPerSecond.toFixed(1)} tok/s`);
  }
  if (t && typeof t.firstTokenMs === 'number' && t.firstTokenMs > 0) {
    parts.push(`first token ${Math.round(t.firstTokenMs)} ms`);
  }
  if (result.stopReason === 'length') parts.push('stopped: length limit');
  if (result.stopReason === 'maxSteps') parts.push('stopped: too many tool steps');
  return parts.join(' · ');
}

/**
 * The share of the model's context window in a chat result (`usage.contextUsed` of
 * `usage.contextWindow`), or undefined when the server does not know the window.
 */
export function contextUse(usage: Partial<NonNullable<ChatResult['usage']>> | undefined): ContextUse | undefined {
  const window = usage?.contextWindow;
  const used = usage?.contextUsed;
  if (typeof window !== 'number' || typeof used !== 'number') return undefined;
  if (!Number.isFinite(window) || !Number.isFinite(used) || window <= 0 || used < 0) return undefined;
  return { used, window };
}

/** 8192 → "8,192" (the same whatever the webview's locale). */
function grouped(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * `context 41%` for the summary line (rounded half up, as the terminal client and Neovim show it),
 * with the token figures for its tooltip; `full` from 90%: little room is left for the next turns
 * (the server leaves out the oldest messages when a request would not fit).
 */
export function contextMeter(c: ContextUse): { text: string; title: string; percent: number; full: boolean } {
  const percent = Math.round((100 * c.used) / c.window);
  return {
    text: `context ${percent}%`,
    title: `${grouped(c.used)} of ${grouped(c.window)} tokens of the model's context window: the last request and its answer`,
    percent,
    full: percent >= 90,
  };
}

/** "src/app.ts:3-7" for a context chip. */
export function contextLabel(entry: ContextEntry, relativePath?: string): string {
  const name = relativePath ?? decodeURIComponent(entry.uri.replace(/^.*\//, ''));
  if (!entry.range) return name;
  const a = entry.range.start.line + 1;
  const b = entry.range.end.line + (entry.range.end.character === 0 && entry.range.end.line > entry.range.start.line ? 0 : 1);
  return a === b ? `${name}:${a}` : `${name}:${a}-${b}`;
}

/** "4 messages · qwen3:4b", and "· current" for the session the panel shows: a session's line in the pickers. */
export function sessionDescription(s: SessionSummary, current?: string | null): string {
  return `${s.messageCount} messages${s.model ? ` · ${s.model}` : ''}${s.sessionId === current ? ' · current' : ''}`;
}

/** True for the server's approval questions: a `window/showMessageRequest` offering Allow and Deny. */
export function isApproval(actions: readonly string[]): boolean {
  return actions.includes(ApprovalAction.allow) && actions.includes(ApprovalAction.deny);
}

/**
 * An approval's question and, for a write, its unified diff: everything after the first blank line
 * (docs/protocol.md "Approval"); '' when there is none.
 */
export function splitApproval(message: string): { question: string; diff: string } {
  const text = message.replace(/\r\n?/g, '\n');
  const blank = text.indexOf('\n\n');
  if (blank < 0) return { question: text.trim(), diff: '' };
  return { question: text.slice(0, blank).trim(), diff: text.slice(blank + 2).replace(/\n+$/, '') };
}

export type DiffLineKind = 'file' | 'hunk' | 'add' | 'del' | 'context';

/** How the approval card colours a line of a unified diff: + green, - red, @@ cyan, file headers apart. */
export function diffLineKind(line: string): DiffLineKind {
  if (line.startsWith('+++ ') || line.startsWith('--- ')) return 'file';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return 'context';
}
