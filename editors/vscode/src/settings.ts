/**
 * The `ryan` settings as the server takes them, and what to send it when they change.
 *
 * No `vscode` import: the unit tests run this under plain Node.
 */

/** The nested sections of the settings (`ryan.streaming.*`, `ryan.tools.*`). */
const SECTIONS = new Set(['streaming', 'tools']);

type Settings = Record<string, unknown>;

/**
 * Settings that only the user's own settings may give, with their defaults (package.json's):
 * `mcpServers` starts processes, `tools.allowCommands` runs commands without asking and
 * `tools.autoApprove` runs tools without asking, so a repository must not be able to set them by
 * being opened. package.json declares them with `"scope": "application"` (VS Code then ignores
 * workspace values); the extension also reads them from the user's settings alone
 * (`inspect().globalValue`), whatever the workspace holds.
 */
export const USER_ONLY_SETTINGS: Readonly<Record<string, unknown>> = {
  mcpServers: {},
  'tools.allowCommands': [],
  'tools.autoApprove': ['list_files', 'read_file', 'search_files'],
};

/**
 * `section` with each user-only setting (a dotted key reaches into its section) replaced by the
 * user's own value (`globalValue(key)`, as `inspect(key)?.globalValue` gives it), or by its default
 * when the user has none. The value is passed on whole: the server replaces the whole block, so a
 * server removed here is stopped there. `section` itself is left as it was.
 */
export function withUserOnlySettings(section: Settings, globalValue: (key: string) => unknown): Settings {
  const out: Settings = { ...section };
  for (const [key, fallback] of Object.entries(USER_ONLY_SETTINGS)) {
    const value = globalValue(key);
    const path = key.split('.');
    let node = out;
    for (const part of path.slice(0, -1)) {
      const inner = node[part];
      node = node[part] = typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? { ...inner } : {};
    }
    node[path[path.length - 1]] = value === undefined ? structuredClone(fallback) : value;
  }
  return out;
}

function isSection(key: string, value: unknown): value is Settings {
  return SECTIONS.has(key) && typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The `ryan` settings as the server takes them: without the client-only `server` key, and without
 * unset values (null or empty strings) so the server applies its own defaults.
 */
export function settingsForServer(section: Settings): Settings {
  const out: Settings = {};
  for (const [key, value] of Object.entries(section)) {
    if (key === 'server' || value === null || value === undefined || value === '') continue;
    if (typeof value === 'function') continue;
    if (isSection(key, value)) {
      const nested = settingsForServer(value);
      if (Object.keys(nested).length) out[key] = nested;
      continue;
    }
    out[key] = value;
  }
  return out;
}

/**
 * The `settings.ryan` of a `workspace/didChangeConfiguration` that takes the server from `before`
 * (what it was last sent) to `after` (both from `settingsForServer`): every key of `after`, and
 * `null` for each key that `after` no longer has, a setting cleared in the editor. The server
 * resets a `null` key to its default (docs/protocol.md), which may come from its environment, so
 * clearing a setting needs no restart. In a nested section the null is per key.
 */
export function settingsUpdate(before: Settings, after: Settings): Settings {
  const out: Settings = { ...after };
  for (const [key, old] of Object.entries(before)) {
    const now = after[key];
    if (isSection(key, old)) {
      const cleared = nullsFor(old, isSection(key, now) ? now : {});
      if (Object.keys(cleared).length) out[key] = { ...(isSection(key, now) ? now : {}), ...cleared };
    } else if (!(key in after)) {
      out[key] = null;
    }
  }
  return out;
}

/** `null` for every key of `before` missing from `after` (one level: sections do not nest). */
function nullsFor(before: Settings, after: Settings): Settings {
  const out: Settings = {};
  for (const key of Object.keys(before)) if (!(key in after)) out[key] = null;
  return out;
}
