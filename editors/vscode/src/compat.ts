/**
 * What the extension checks about the server it started: that both speak the same protocol
 * version (`capabilities.experimental.ryan.protocolVersion` in the `initialize` result).
 *
 * No `vscode` import: the unit tests run this under plain Node.
 */

import { PROTOCOL_VERSION } from './protocol';

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * The warning to show when the server's protocol version is not `expected` (or it names none), or
 * `undefined` when they agree. `initializeResult` is the server's `initialize` result as received.
 */
export function protocolVersionWarning(initializeResult: unknown, expected: number = PROTOCOL_VERSION): string | undefined {
  const ryan = field(field(field(initializeResult, 'capabilities'), 'experimental'), 'ryan');
  const version = field(ryan, 'protocolVersion');
  if (version === expected) return undefined;
  const info = field(initializeResult, 'serverInfo');
  const name = field(info, 'name');
  const serverVersion = field(info, 'version');
  const server =
    typeof name === 'string' && name
      ? ` (${name}${typeof serverVersion === 'string' && serverVersion ? ` ${serverVersion}` : ''})`
      : '';
  // The versions first: a notification toast shows only its first line.
  const mismatch =
    typeof version === 'number' || typeof version === 'string'
      ? `the server speaks protocol version ${String(version)}, this extension version ${expected}${server}.`
      : `the server does not say which protocol version it speaks; this extension speaks version ${expected}${server}.`;
  return `Ryan: ${mismatch} Chats may fail or show wrong results: update the Ryan extension and ryan-server together.`;
}
