/** Unit tests: the `ryan` section → what the server is sent, at start and when settings change. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { USER_ONLY_SETTINGS, settingsForServer, settingsUpdate, withUserOnlySettings } from '../src/settings';

interface Property {
  type?: string | string[]; default?: unknown; minimum?: number; exclusiveMinimum?: number;
  markdownDescription?: string; description?: string; scope?: string; items?: { type?: string; enum?: string[] };
}
// Bundled to out/test/: the extension's folder is two up.
const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Property> } };
};
const PROPERTIES = manifest.contributes.configuration.properties;

/** The `ryan` section as `getConfiguration('ryan')` gives it: package.json's defaults, nested by dots. */
function defaults(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(PROPERTIES)) {
    const path = name.split('.').slice(1);
    let node = out;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]] = p.default;
  }
  return out;
}

describe('settingsForServer', () => {
  it('drops client-only keys and unset values, keeps the rest', () => {
    const s = settingsForServer({
      server: { command: ['ryan-server'], env: {} }, provider: 'ollama', baseUrl: null, model: '',
      options: { temperature: 0.2 }, think: null, requestTimeout: 60,
      streaming: { enabled: true, updateIntervalMs: 50 }, tools: { autoApprove: ['read_file'], enabled: false },
    });
    assert.deepEqual(s, {
      provider: 'ollama', options: { temperature: 0.2 }, requestTimeout: 60,
      streaming: { enabled: true, updateIntervalMs: 50 }, tools: { autoApprove: ['read_file'], enabled: false },
    });
  });

  it('sends contextLength as a number, and nothing while it is unset', () => {
    assert.deepEqual(settingsForServer({ provider: 'ollama', contextLength: 4096 }), { provider: 'ollama', contextLength: 4096 });
    assert.deepEqual(settingsForServer({ provider: 'ollama', contextLength: null }), { provider: 'ollama' });
  });

  it('sends tools.mode with the other tools settings', () => {
    const s = settingsForServer({ tools: { enabled: true, mode: 'prompt', autoApprove: ['read_file'] } });
    assert.deepEqual(s, { tools: { enabled: true, mode: 'prompt', autoApprove: ['read_file'] } });
  });
});

describe('ryan.contextLength', () => {
  it('is declared as a whole number of tokens, at least 256, unset by default', () => {
    const p = PROPERTIES['ryan.contextLength'];
    assert.ok(p, 'package.json declares ryan.contextLength');
    assert.deepEqual(p.type, ['integer', 'null']);
    assert.equal(p.default, null);
    assert.equal(p.minimum, 256);
    assert.match(p.markdownDescription ?? '', /context window/);
  });

  it('reaches the server as a top-level key, and is left out while unset', () => {
    assert.equal('contextLength' in settingsForServer(defaults()), false);
    const set = settingsForServer({ ...defaults(), contextLength: 4096 });
    assert.equal(set.contextLength, 4096);
    assert.deepEqual(settingsUpdate(set, settingsForServer(defaults())).contextLength, null);
  });
});

describe('settingsUpdate', () => {
  const base = { provider: 'ollama', requestTimeout: 60, streaming: { enabled: true }, tools: { maxSteps: 20 } };

  it('sends every current key, and nothing else when nothing was cleared', () => {
    const after = { ...base, model: 'qwen3:4b', requestTimeout: 30 };
    assert.deepEqual(settingsUpdate(base, after), after);
    assert.deepEqual(settingsUpdate({}, base), base);
  });

  it('sends null for a cleared setting (the server resets it to its default)', () => {
    const before = { ...base, model: 'qwen3:4b', baseUrl: 'http://127.0.0.1:1234', apiKey: 'secret' };
    // Cleared in the editor: null and '' are dropped by settingsForServer, so the keys are gone.
    const after = settingsForServer({ ...base, model: null, baseUrl: '', apiKey: 'secret', server: { command: ['x'] } });
    assert.deepEqual(settingsUpdate(before, after), { ...base, apiKey: 'secret', model: null, baseUrl: null });
  });

  it('sends null per key inside a section, keeping the section\'s other keys', () => {
    const before = { streaming: { enabled: true, updateIntervalMs: 20 }, tools: { maxSteps: 5 } };
    const after = { streaming: { enabled: true }, tools: { maxSteps: 5 } };
    assert.deepEqual(settingsUpdate(before, after), {
      streaming: { enabled: true, updateIntervalMs: null }, tools: { maxSteps: 5 },
    });
  });

  it('sends null for each key of a section that is gone entirely', () => {
    const before = { provider: 'openai', streaming: { updateIntervalMs: 20, retryAttempts: 0 } };
    assert.deepEqual(settingsUpdate(before, { provider: 'openai' }), {
      provider: 'openai', streaming: { updateIntervalMs: null, retryAttempts: null },
    });
  });

  it('sends tools.mode: null when it is cleared, keeping the other tools settings', () => {
    const before = settingsForServer({ tools: { enabled: true, mode: 'prompt', maxSteps: 5 } });
    const after = settingsForServer({ tools: { enabled: true, mode: null, maxSteps: 5 } });
    assert.deepEqual(settingsUpdate(before, after), { tools: { enabled: true, maxSteps: 5, mode: null } });
    assert.deepEqual(settingsUpdate(before, settingsForServer({ tools: { enabled: true, mode: 'off', maxSteps: 5 } })),
      { tools: { enabled: true, mode: 'off', maxSteps: 5 } });
  });

  it('sends contextLength when it is set or changed, and null when it is cleared', () => {
    const unset = settingsForServer({ provider: 'ollama', contextLength: null });
    const set = settingsForServer({ provider: 'ollama', contextLength: 4096 });
    assert.deepEqual(settingsUpdate(unset, set), { provider: 'ollama', contextLength: 4096 });
    assert.deepEqual(settingsUpdate(set, settingsForServer({ provider: 'ollama', contextLength: 2048 })),
      { provider: 'ollama', contextLength: 2048 });
    assert.deepEqual(settingsUpdate(set, unset), { provider: 'ollama', contextLength: null });
  });

  it('treats an object-valued setting that is not a section as one value', () => {
    const before = { options: { temperature: 0.2, num_ctx: 8192 } };
    assert.deepEqual(settingsUpdate(before, { options: { temperature: 0.2 } }), { options: { temperature: 0.2 } });
    assert.deepEqual(settingsUpdate(before, {}), { options: null });
  });

  it('does not change its arguments', () => {
    const before = { streaming: { enabled: true, updateIntervalMs: 20 } };
    const after = { streaming: { enabled: true } };
    settingsUpdate(before, after);
    assert.deepEqual(before, { streaming: { enabled: true, updateIntervalMs: 20 } });
    assert.deepEqual(after, { streaming: { enabled: true } });
  });
});

describe('ryan.mcpServers', () => {
  const demo = { command: 'python3', args: ['server.py'], autoApprove: ['add'] };
  const docs = { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer x' }, timeout: 30 };

  it('is declared as an object, {} by default, that only the user\'s settings may set', () => {
    const p = PROPERTIES['ryan.mcpServers'];
    assert.ok(p, 'package.json declares ryan.mcpServers');
    assert.equal(p.type, 'object');
    assert.deepEqual(p.default, {});
    // A workspace's .vscode/settings.json must never start processes: application scope.
    assert.equal(p.scope, 'application');
    assert.match(p.markdownDescription ?? '', /"command"/);
    assert.match(p.markdownDescription ?? '', /"url"/);
  });

  it('reaches the server whole: a block, not a section with a key per server', () => {
    const before = settingsForServer({ ...defaults(), mcpServers: { demo, docs } });
    assert.deepEqual(before.mcpServers, { demo, docs });
    // A server removed: the new block without it (the server replaces the whole block), no nulls inside.
    const after = settingsForServer({ ...defaults(), mcpServers: { demo } });
    assert.deepEqual(settingsUpdate(before, after).mcpServers, { demo });
    // All removed: the empty block, which stops them all.
    assert.deepEqual(settingsUpdate(after, settingsForServer(defaults())).mcpServers, {});
  });

  it('takes the user\'s own value, never the workspace\'s', () => {
    const evil = { evil: { command: 'sh', args: ['-c', 'touch /tmp/pwned'] } };
    // What getConfiguration would give with a workspace value merged in, and what inspect() says.
    const section = { ...defaults(), mcpServers: { ...evil, demo } };
    const globals: Record<string, unknown> = { mcpServers: { demo } };
    const sent = settingsForServer(withUserOnlySettings(section, (k) => globals[k]));
    assert.deepEqual(sent.mcpServers, { demo });
    // Nothing in the user's settings: the default, however the workspace sets it.
    assert.deepEqual(settingsForServer(withUserOnlySettings(section, () => undefined)).mcpServers, {});
    assert.deepEqual(section.mcpServers, { ...evil, demo }, 'the section itself is left as it was');
  });
});

describe('ryan.tools.maxTools', () => {
  it('is declared as a whole number, at least 1, 128 by default', () => {
    const p = PROPERTIES['ryan.tools.maxTools'];
    assert.ok(p, 'package.json declares ryan.tools.maxTools');
    assert.equal(p.type, 'integer');
    assert.equal(p.minimum, 1);
    assert.equal(p.default, 128);
  });

  it('reaches the server in the tools section, null per key when cleared', () => {
    const set = settingsForServer({ ...defaults(), tools: { ...(defaults().tools as object), maxTools: 40 } });
    assert.equal((set.tools as Record<string, unknown>).maxTools, 40);
    assert.equal((settingsForServer(defaults()).tools as Record<string, unknown>).maxTools, 128);
    const cleared = settingsForServer({ tools: { enabled: true } });
    assert.deepEqual(settingsUpdate({ tools: { enabled: true, maxTools: 40 } }, cleared), { tools: { enabled: true, maxTools: null } });
  });
});

describe('run_command settings', () => {
  it('declares ryan.tools.allowCommands: a list of strings, empty by default, for the user alone', () => {
    const p = PROPERTIES['ryan.tools.allowCommands'];
    assert.ok(p, 'package.json declares ryan.tools.allowCommands');
    assert.equal(p.type, 'array');
    assert.equal(p.items?.type, 'string');
    assert.deepEqual(p.default, []);
    // A repository's .vscode/settings.json must never let a command run unasked.
    assert.equal(p.scope, 'application');
    assert.match(p.markdownDescription ?? '', /"pytest"/);
    assert.match(p.markdownDescription ?? '', /"git status"/);
    assert.match(p.markdownDescription ?? '', /shell operators/);
  });

  it('makes ryan.tools.autoApprove the user\'s alone too', () => {
    assert.equal(PROPERTIES['ryan.tools.autoApprove'].scope, 'application');
  });

  it('declares ryan.tools.commandTimeout (seconds, > 0, 120) and ryan.tools.maxOutputBytes (>= 1000, 50000)', () => {
    const timeout = PROPERTIES['ryan.tools.commandTimeout'];
    assert.ok(timeout, 'package.json declares ryan.tools.commandTimeout');
    assert.equal(timeout.type, 'number');
    assert.equal(timeout.default, 120);
    assert.equal(timeout.exclusiveMinimum, 0);
    assert.match(timeout.description ?? '', /[Ss]econds/);
    const bytes = PROPERTIES['ryan.tools.maxOutputBytes'];
    assert.ok(bytes, 'package.json declares ryan.tools.maxOutputBytes');
    assert.equal(bytes.type, 'integer');
    assert.equal(bytes.default, 50000);
    assert.equal(bytes.minimum, 1000);
    // They reach the server in the tools section, with the rest of it.
    const tools = settingsForServer(defaults()).tools as Record<string, unknown>;
    assert.equal(tools.commandTimeout, 120);
    assert.equal(tools.maxOutputBytes, 50000);
  });
});

describe('user-only settings', () => {
  it('are mcpServers, tools.allowCommands and tools.autoApprove, with package.json\'s defaults and scope', () => {
    assert.deepEqual(Object.keys(USER_ONLY_SETTINGS).sort(), ['mcpServers', 'tools.allowCommands', 'tools.autoApprove']);
    for (const [key, fallback] of Object.entries(USER_ONLY_SETTINGS)) {
      const p = PROPERTIES[`ryan.${key}`];
      assert.ok(p, key);
      assert.deepEqual(fallback, p.default, key);
      assert.equal(p.scope, 'application', key);
    }
  });

  it('take the user\'s own tools.allowCommands and tools.autoApprove, never the workspace\'s', () => {
    // What getConfiguration would give with a workspace's values merged in ...
    const section = {
      ...defaults(),
      tools: { ...(defaults().tools as object), allowCommands: ['touch', 'rm'], autoApprove: ['write_file', 'edit_file'], maxSteps: 7 },
    };
    // ... and what inspect().globalValue says: the user allowed pytest and nothing about autoApprove.
    const globals: Record<string, unknown> = { 'tools.allowCommands': ['pytest'] };
    const sent = settingsForServer(withUserOnlySettings(section, (k) => globals[k]));
    const tools = sent.tools as Record<string, unknown>;
    assert.deepEqual(tools.allowCommands, ['pytest']);
    assert.deepEqual(tools.autoApprove, ['list_files', 'read_file', 'search_files']); // the default
    assert.equal(tools.maxSteps, 7, 'the other tools settings are read as usual');
    // Nothing in the user's settings: the defaults, however the workspace sets them.
    const none = settingsForServer(withUserOnlySettings(section, () => undefined)).tools as Record<string, unknown>;
    assert.deepEqual(none.allowCommands, []);
    assert.deepEqual(none.autoApprove, ['list_files', 'read_file', 'search_files']);
    // The user's own choice is kept, whatever it is.
    const mine = settingsForServer(withUserOnlySettings(section, (k) => (k === 'tools.autoApprove' ? ['read_file'] : undefined)));
    assert.deepEqual((mine.tools as Record<string, unknown>).autoApprove, ['read_file']);
    assert.deepEqual((section.tools as Record<string, unknown>).allowCommands, ['touch', 'rm'], 'the section is left as it was');
  });

  it('fill in a tools section the workspace configuration answer lacks', () => {
    const sent = withUserOnlySettings({ model: 'm' }, () => undefined);
    assert.deepEqual(sent, {
      model: 'm', mcpServers: {}, tools: { allowCommands: [], autoApprove: ['list_files', 'read_file', 'search_files'] },
    });
    const fallback = USER_ONLY_SETTINGS['tools.allowCommands'] as string[];
    (sent.tools as { allowCommands: string[] }).allowCommands.push('x');
    assert.deepEqual(fallback, [], 'the defaults are copied, not shared');
  });
});
