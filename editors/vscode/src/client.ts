/**
 * Owns the LanguageClient that speaks to ryan-server over stdio: start, stop, restart, requests,
 * and streaming a chat through its partialResultToken.
 */

import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import {
  CancellationToken,
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  MessageActionItem,
  MessageType,
  ProgressType,
  RevealOutputChannelOn,
  ServerOptions,
  ShowMessageRequest,
  ShowMessageRequestParams,
  State,
  TransportKind,
  WorkDoneProgress,
} from 'vscode-languageclient/node';
import { protocolVersionWarning } from './compat';
import { isApproval, splitApproval } from './messages';
import { ChatParams, ChatResult, Method } from './protocol';
import { isConflictQuestion } from './review';
import { settingsForServer, settingsUpdate, withUserOnlySettings } from './settings';

export type ServerState = 'starting' | 'running' | 'stopped';

/** An approval question of the server: the question, a write's unified diff ('' if none), the actions. */
export interface Approval { question: string; diff: string; actions: string[] }

/**
 * Asks an approval in the chat panel: resolves with the chosen action (undefined: none, e.g. the
 * server cancelled the request), or returns undefined when the panel cannot show it now.
 */
export type Approver = (approval: Approval, token: CancellationToken) => Promise<string | undefined> | undefined;

/** VS Code's notification for a question, resolving with the chosen action, or undefined once `token` is cancelled. */
function notify(type: MessageType, message: string, actions: string[], token: CancellationToken): Promise<string | undefined> {
  const shown =
    type === MessageType.Error
      ? vscode.window.showErrorMessage(message, ...actions)
      : type === MessageType.Warning
        ? vscode.window.showWarningMessage(message, ...actions)
        : vscode.window.showInformationMessage(message, ...actions);
  return new Promise((resolve) => {
    // A request the server gave up on (the chat was stopped) is not answered later.
    const sub = token.onCancellationRequested(() => resolve(undefined));
    void Promise.resolve(shown).then((choice) => {
      sub.dispose();
      resolve(choice);
    });
  });
}

/**
 * The user's own value of a `ryan` setting (never a workspace's), for the user-only settings
 * (`mcpServers`, `tools.allowCommands`, `tools.autoApprove`: see settings.ts).
 */
function userValue(key: string): unknown {
  const value = vscode.workspace.getConfiguration('ryan').inspect(key)?.globalValue;
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

/** The `ryan` settings section as plain JSON, with the user-only settings from the user's settings alone. */
function readSection(): Record<string, unknown> {
  const section = JSON.parse(JSON.stringify(vscode.workspace.getConfiguration('ryan'))) as Record<string, unknown>;
  return withUserOnlySettings(section, userValue);
}

export class RyanClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<{ state: ServerState; message?: string }>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires when the server starts, stops or fails to start. */
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly settingsEmitter = new vscode.EventEmitter<void>();
  /** Fires after changed settings were sent to the running server (MCP servers may start or stop). */
  readonly onDidSendSettings = this.settingsEmitter.event;
  lastError: string | undefined;
  /** the settings the server has now */
  private sent: Record<string, unknown> = {};
  /** the last protocol warning shown, so a restart of the same server does not repeat it */
  private versionWarning: string | undefined;
  /** shows approval questions in the chat panel (set by it); without it, or when it declines, a notification */
  approver: Approver | undefined;

  constructor(private readonly output: vscode.OutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        // How the server is started (ryan.server.command, ryan.server.env) needs a new process;
        // every other setting reaches the running server (middleware below).
        if (e.affectsConfiguration('ryan.server')) void this.restart();
      }),
    );
  }

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Starts the server if it is not running; resolves once it is initialized. */
  start(): Promise<LanguageClient> {
    if (this.client && this.client.state === State.Running) return Promise.resolve(this.client);
    if (!this.starting) {
      this.starting = this.doStart().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  private async doStart(): Promise<LanguageClient> {
    const cfg = vscode.workspace.getConfiguration('ryan');
    const command = cfg.get<string[]>('server.command', ['ryan-server']);
    const env = cfg.get<Record<string, string>>('server.env', {});
    if (!Array.isArray(command) || command.length === 0 || typeof command[0] !== 'string') {
      throw new Error('Setting ryan.server.command must be a non-empty list, e.g. ["ryan-server"].');
    }
    const serverOptions: ServerOptions = {
      command: command[0],
      args: command.slice(1),
      transport: TransportKind.stdio,
      options: { env: { ...process.env, ...env } },
    };
    const clientOptions: LanguageClientOptions = {
      // Every open document is synchronized so the server's tools read unsaved text.
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      synchronize: { configurationSection: 'ryan' },
      initializationOptions: (this.sent = settingsForServer(readSection())),
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationFailedHandler: (error) => {
        this.output.appendLine(`ryan-server failed to initialize: ${String(error)}`);
        return false;
      },
      middleware: {
        workspace: {
          // Send the cleaned settings rather than the raw section (no client-only keys), with
          // `null` for a setting cleared since the last time: the server resets it to its default.
          // (Changes to ryan.server.* restart the server instead: see the constructor.)
          didChangeConfiguration: async () => {
            const c = this.client;
            if (!c || c.state !== State.Running) return;
            const settings = settingsForServer(readSection());
            const update = settingsUpdate(this.sent, settings);
            this.sent = settings;
            this.output.appendLine('Settings changed: sending them to the server.');
            await c.sendNotification(DidChangeConfigurationNotification.type, { settings: { ryan: update } });
            this.settingsEmitter.fire();
          },
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) return result;
            return result.map((value, i) =>
              params.items[i]?.section === 'ryan' && value && typeof value === 'object'
                ? settingsForServer(withUserOnlySettings(value as Record<string, unknown>, userValue))
                : value,
            );
          },
        },
      },
    };
    const client = new LanguageClient('ryan', 'Ryan', serverOptions, clientOptions);
    this.client = client;
    // Registered before start, so it replaces the client's default (a notification with the whole message).
    client.onRequest(ShowMessageRequest.type, (params, token) => this.showMessageRequest(params, token));
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Running) this.stateEmitter.fire({ state: 'running' });
      else if (e.newState === State.Stopped) this.stateEmitter.fire({ state: 'stopped', message: this.lastError });
      else this.stateEmitter.fire({ state: 'starting' });
    });
    this.stateEmitter.fire({ state: 'starting' });
    try {
      await client.start();
      this.lastError = undefined;
      this.checkProtocolVersion(client);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      this.lastError =
        `Could not start the Ryan server (${command.join(' ')}): ${detail}. ` +
        'Install it from a clone of Ryan (it is not on PyPI: pipx install /path/to/ryan) or point the setting ryan.server.command at it.';
      this.output.appendLine(this.lastError);
      this.stateEmitter.fire({ state: 'stopped', message: this.lastError });
      if (this.client === client) this.client = undefined;
      void client.dispose().catch(() => undefined);
      throw new Error(this.lastError);
    }
    return client;
  }

  /**
   * Answers `window/showMessageRequest`. An approval, or the question of an Undo or Redo about files
   * changed by hand, goes to the chat panel's card (question, diff and buttons) when it can show it,
   * else to a notification with the question alone (the diff would not fit); any other question is a
   * notification as it is.
   */
  private async showMessageRequest(params: ShowMessageRequestParams, token: CancellationToken): Promise<MessageActionItem | null> {
    const actions = params.actions ?? [];
    const titles = actions.map((a) => a.title);
    let choice: string | undefined;
    // A tool's approval, or an Undo's question about files changed by hand: a card in the panel.
    if (isApproval(titles) || isConflictQuestion(titles)) {
      const approval = { ...splitApproval(params.message), actions: titles };
      choice = await (this.approver?.(approval, token) ?? notify(params.type, approval.question, titles, token));
    } else {
      choice = await notify(params.type, params.message, titles, token);
    }
    return actions.find((a) => a.title === choice) ?? null;
  }

  /** Warns when the server speaks another protocol version than this extension. */
  private checkProtocolVersion(client: LanguageClient): void {
    const warning = protocolVersionWarning(client.initializeResult);
    if (!warning) return;
    this.output.appendLine(warning);
    if (warning === this.versionWarning) return;
    this.versionWarning = warning;
    void vscode.window.showWarningMessage(warning);
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) {
      try {
        await c.stop(2000);
      } catch (err) {
        this.output.appendLine(`stopping ryan-server: ${String(err)}`);
      }
    }
    this.stateEmitter.fire({ state: 'stopped' });
  }

  async restart(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    await this.stop();
    await this.start();
  }

  async request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R> {
    const client = await this.start();
    return token ? client.sendRequest<R>(method, params, token) : client.sendRequest<R>(method, params);
  }

  /**
   * Runs `ryan/chat`, calling `onEvent` with every `$/progress` value of its partialResultToken and
   * `onWorkDone` with every begin/report/end of its workDoneToken (the server's status: `waiting for
   * the model… 3 s`, `running run_command…`). Cancelling `token` sends `$/cancelRequest`; the
   * promise then rejects with code -32800.
   */
  async chat(
    params: Omit<ChatParams, 'partialResultToken' | 'workDoneToken'>,
    onEvent: (value: unknown) => void,
    token: vscode.CancellationToken,
    onWorkDone?: (value: unknown) => void,
  ): Promise<ChatResult> {
    const client = await this.start();
    const id = randomUUID();
    const partialResultToken = `ryan-${id}`;
    const workDoneToken = `ryan-status-${id}`;
    const subs = [client.onProgress(new ProgressType<unknown>(), partialResultToken, onEvent)];
    if (onWorkDone) subs.push(client.onProgress(WorkDoneProgress.type, workDoneToken, onWorkDone));
    const sent = onWorkDone ? { ...params, partialResultToken, workDoneToken } : { ...params, partialResultToken };
    try {
      return await client.sendRequest<ChatResult>(Method.chat, sent, token);
    } finally {
      for (const sub of subs) sub.dispose();
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.stateEmitter.dispose();
    this.settingsEmitter.dispose();
    void this.stop();
  }
}
