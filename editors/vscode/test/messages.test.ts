/** Unit tests: server events and errors → panel messages. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  contextLabel, contextMeter, contextUse, diffLineKind, errorToInfo, eventToMessage, isApproval, isCancellation,
  mcpServers, mcpSettling, parseMcpName, sessionDescription, splitApproval, summarize, toolArgsText, toolCount,
  toolLabel, toolTarget, workDoneToMessage,
} from '../src/messages';
import { ErrorCode } from '../src/protocol';

describe('eventToMessage', () => {
  const id = 'r1';
  it('maps every event kind of the contract', () => {
    assert.deepEqual(eventToMessage(id, { kind: 'start', sessionId: 's', model: 'm' }),
      { type: 'start', requestId: id, sessionId: 's', model: 'm' });
    assert.deepEqual(eventToMessage(id, { kind: 'content', text: 'Hel' }), { type: 'content', requestId: id, text: 'Hel' });
    assert.deepEqual(eventToMessage(id, { kind: 'thinking', text: 'hmm' }), { type: 'thinking', requestId: id, text: 'hmm' });
    assert.deepEqual(eventToMessage(id, { kind: 'toolCall', callId: 'c1', name: 'read_file', arguments: { path: 'a.py' } }),
      { type: 'toolCall', requestId: id, callId: 'c1', name: 'read_file', arguments: { path: 'a.py' } });
    assert.deepEqual(eventToMessage(id, { kind: 'toolResult', callId: 'c1', name: 'read_file', status: 'denied', output: 'no' }),
      { type: 'toolResult', requestId: id, callId: 'c1', name: 'read_file', status: 'denied', output: 'no' });
    assert.deepEqual(eventToMessage(id, { kind: 'toolOutput', callId: 'c2', text: 'collected 3 items\n' }),
      { type: 'toolOutput', requestId: id, callId: 'c2', text: 'collected 3 items\n' });
    assert.equal(eventToMessage(id, { kind: 'toolOutput', callId: 'c2', text: '' }), undefined);
    const retry = eventToMessage(id, { kind: 'retry', attempt: 2, delayMs: 2000, reason: 'HTTP 503' });
    assert.equal(retry?.type, 'status');
    assert.match((retry as { text: string }).text, /attempt 2.*2\.0 s.*HTTP 503/);
    assert.equal(eventToMessage(id, { kind: 'fallback', reason: 'x' })?.type, 'status');
    assert.equal(eventToMessage(id, { kind: 'resumed', attempt: 1, offset: 10 })?.type, 'status');
    const notice = 'Tools are described in the prompt for phi3:mini (no tool support); Ryan reads the calls from its answers.';
    assert.deepEqual(eventToMessage(id, { kind: 'notice', message: notice }), { type: 'notice', requestId: id, text: notice });
    assert.deepEqual(eventToMessage(id, { kind: 'notice', text: 'older servers' }), { type: 'notice', requestId: id, text: 'older servers' });
    assert.equal(eventToMessage(id, { kind: 'notice' }), undefined);
  });
  it('treats an unknown tool status as an error and ignores junk', () => {
    const m = eventToMessage(id, { kind: 'toolResult', callId: 'c', name: 'x', status: 'weird', output: 1 });
    assert.deepEqual(m, { type: 'toolResult', requestId: id, callId: 'c', name: 'x', status: 'error', output: '1' });
    assert.equal(eventToMessage(id, null), undefined);
    assert.equal(eventToMessage(id, 'content'), undefined);
    assert.equal(eventToMessage(id, { kind: 'nope' }), undefined);
    assert.equal(eventToMessage(id, { kind: 'content', text: '' }), undefined);
    assert.equal(eventToMessage(id, { kind: 'content', text: 5 }), undefined);
  });
});

describe('workDoneToMessage', () => {
  it('shows the message of a begin or report, and nothing after the end', () => {
    assert.deepEqual(workDoneToMessage('r', { kind: 'begin', title: 'Ryan: m', message: 'starting…' }),
      { type: 'progress', requestId: 'r', text: 'starting…' });
    assert.deepEqual(workDoneToMessage('r', { kind: 'report', message: 'waiting for the model… 3 s' }),
      { type: 'progress', requestId: 'r', text: 'waiting for the model… 3 s' });
    assert.deepEqual(workDoneToMessage('r', { kind: 'end', message: 'done' }), { type: 'progress', requestId: 'r', text: '' });
    assert.equal(workDoneToMessage('r', { kind: 'report', percentage: 5 }), undefined);
    assert.equal(workDoneToMessage('r', null), undefined);
    assert.equal(workDoneToMessage('r', { kind: 'other', message: 'x' }), undefined);
  });
});

describe('toolTarget', () => {
  it('names the command of run_command, the file or pattern of the others', () => {
    assert.equal(toolTarget('run_command', { command: 'pytest -q', cwd: 'tests' }), 'pytest -q');
    assert.equal(toolTarget('run_command', '{"command": "git status"}'), 'git status');
    assert.equal(toolTarget('read_file', { path: 'a.py' }), 'a.py');
    assert.equal(toolTarget('search_files', { pattern: 'TODO', path: '.' }), '.');
    assert.equal(toolTarget('list_files', { glob: '*.ts' }), '*.ts');
    assert.equal(toolTarget('read_file', '{not json'), '');
    assert.equal(toolTarget('mcp__demo__add', { a: 2 }), '');
  });
});

describe('toolArgsText', () => {
  it('shows a command as the shell gets it, other arguments as JSON', () => {
    assert.equal(toolArgsText('run_command', { command: 'echo "hi" \\n' }), '$ echo "hi" \\n');
    assert.equal(toolArgsText('run_command', { command: 'pytest -q', cwd: 'tests', timeoutSeconds: 30 }),
      '$ pytest -q\nin tests\ntime limit 30 s');
    assert.equal(toolArgsText('read_file', { path: 'a.py' }), '{\n  "path": "a.py"\n}');
    assert.equal(toolArgsText('run_command', '{"command": broken'), '{"command": broken');
    assert.equal(toolArgsText('run_command', {}), '{}');
  });
});

describe('errorToInfo', () => {
  it('keeps the server message and names the problem', () => {
    const msg = "Cannot connect to Ollama at http://127.0.0.1:9 (connection refused). Is 'ollama serve' running?";
    const info = errorToInfo({ code: ErrorCode.backendUnreachable, message: msg });
    assert.equal(info.message, msg);
    assert.equal(info.title, 'Cannot reach the model server');
    assert.equal(info.code, -32001);
  });
  it('lists available models and partial content', () => {
    const info = errorToInfo({ code: -32002, message: 'no such model', data: { available: ['a', { name: 'b' }] } });
    assert.deepEqual(info.available, ['a', 'b']);
    const e3 = errorToInfo({ code: -32003, message: 'HTTP 500', data: { partialContent: 'Hel' } });
    assert.equal(e3.partialContent, 'Hel');
  });
  it('handles anything thrown', () => {
    assert.equal(errorToInfo(new Error('boom')).message, 'boom');
    assert.equal(errorToInfo('plain').message, 'plain');
    assert.equal(errorToInfo(undefined).message, 'Unknown error');
  });
  it('recognizes cancellation', () => {
    assert.ok(isCancellation({ code: -32800, message: 'cancelled' }));
    assert.ok(isCancellation({ name: 'Canceled' }));
    assert.ok(!isCancellation({ code: -32003 }));
  });
});

describe('summarize and labels', () => {
  it('summarizes usage and timing', () => {
    const s = summarize({ model: 'qwen', usage: { promptTokens: 3, completionTokens: 42, estimated: true },
      timing: { firstTokenMs: 120.4, totalMs: 900, tokensPerSecond: 46.66 }, stopReason: 'length' });
    assert.equal(s, 'qwen · ~42 tokens · 46.7 tok/s · first token 120 ms · stopped: length limit');
  });
  it('leaves the context share out of the summary text (the panel shows it after, with a tooltip)', () => {
    const s = summarize({ model: 'qwen', usage: { promptTokens: 12, completionTokens: 31, contextWindow: 8192, contextUsed: 43 } });
    assert.equal(s, 'qwen · 31 tokens');
  });
  it('labels context by file and lines', () => {
    const range = { start: { line: 2, character: 0 }, end: { line: 6, character: 4 } };
    assert.equal(contextLabel({ uri: 'file:///w/src/a%20b.ts', range, text: '' }), 'a b.ts:3-7');
    assert.equal(contextLabel({ uri: 'file:///w/x.py', range, text: '' }, 'src/x.py'), 'src/x.py:3-7');
    const whole = { start: { line: 0, character: 0 }, end: { line: 10, character: 0 } };
    assert.equal(contextLabel({ uri: 'file:///w/x.py', range: whole, text: '' }), 'x.py:1-10');
  });
});

describe('context window share', () => {
  it('takes contextUsed of contextWindow from a result\'s usage', () => {
    assert.deepEqual(contextUse({ promptTokens: 12, completionTokens: 31, contextWindow: 8192, contextUsed: 43 }),
      { used: 43, window: 8192 });
    assert.deepEqual(contextUse({ contextWindow: 8192, contextUsed: 0 }), { used: 0, window: 8192 });
  });
  it('is nothing when the window is unknown or the figures make no sense', () => {
    assert.equal(contextUse(undefined), undefined);
    assert.equal(contextUse({ promptTokens: 12, completionTokens: 31 }), undefined);
    assert.equal(contextUse({ promptTokens: 12, completionTokens: 31, contextWindow: 8192 }), undefined);
    assert.equal(contextUse({ contextUsed: 43 }), undefined);
    assert.equal(contextUse({ contextWindow: 0, contextUsed: 43 }), undefined);
    assert.equal(contextUse({ contextWindow: 8192, contextUsed: -1 }), undefined);
    assert.equal(contextUse({ contextWindow: Number.NaN, contextUsed: 1 }), undefined);
    assert.equal(contextUse({ contextWindow: '8192', contextUsed: 43 } as never), undefined);
  });
  it('shows the rounded percentage, with the tokens for the tooltip', () => {
    const m = contextMeter({ used: 3359, window: 8192 });
    assert.equal(m.text, 'context 41%');
    assert.equal(m.percent, 41);
    assert.equal(m.title, "3,359 of 8,192 tokens of the model's context window: the last request and its answer");
    assert.equal(m.full, false);
  });
  it('rounds half up, as the terminal client does, and marks a nearly full window', () => {
    assert.equal(contextMeter({ used: 81, window: 200 }).text, 'context 41%'); // 40.5%
    assert.equal(contextMeter({ used: 43, window: 8192 }).text, 'context 1%');
    assert.equal(contextMeter({ used: 0, window: 8192 }).text, 'context 0%');
    assert.equal(contextMeter({ used: 8192, window: 8192 }).text, 'context 100%');
    assert.equal(contextMeter({ used: 7300, window: 8192 }).full, false); // 89%
    assert.equal(contextMeter({ used: 7373, window: 8192 }).full, true); // 90%
    assert.match(contextMeter({ used: 1234567, window: 131072 }).title, /^1,234,567 of 131,072 tokens/);
  });
});

describe('MCP tools and servers', () => {
  const id = 'r1';
  it('passes an MCP tool\'s server and tool on to the panel', () => {
    const call = { kind: 'toolCall', callId: 'c1', name: 'mcp__demo__add', arguments: { a: 2, b: 3 }, server: 'demo', tool: 'add' };
    assert.deepEqual(eventToMessage(id, call), {
      type: 'toolCall', requestId: id, callId: 'c1', name: 'mcp__demo__add', arguments: { a: 2, b: 3 }, server: 'demo', tool: 'add',
    });
    const result = { kind: 'toolResult', callId: 'c1', name: 'mcp__demo__add', status: 'ok', output: '5', server: 'demo', tool: 'add' };
    assert.deepEqual(eventToMessage(id, result), {
      type: 'toolResult', requestId: id, callId: 'c1', name: 'mcp__demo__add', status: 'ok', output: '5', server: 'demo', tool: 'add',
    });
    // A built-in tool: the server sends null (or nothing) for both; the message has neither.
    const builtin = eventToMessage(id, { kind: 'toolCall', callId: 'c2', name: 'read_file', arguments: {}, server: null, tool: null });
    assert.deepEqual(builtin, { type: 'toolCall', requestId: id, callId: 'c2', name: 'read_file', arguments: {} });
  });

  it('labels a tool card "server › tool", from the fields or from the mcp__ name', () => {
    assert.equal(toolLabel({ name: 'mcp__demo__add', server: 'demo', tool: 'add' }), 'demo › add');
    // The fields win: names are sanitized on the wire (my.server → my_server), the fields are not.
    assert.equal(toolLabel({ name: 'mcp__my_server__get_page', server: 'my.server', tool: 'get page' }), 'my.server › get page');
    // Replayed history has the name only.
    assert.equal(toolLabel({ name: 'mcp__demo__add' }), 'demo › add');
    assert.equal(toolLabel({ name: 'mcp__github__list_pull_requests' }), 'github › list_pull_requests');
    assert.equal(toolLabel({ name: 'read_file' }), 'read_file');
    assert.equal(toolLabel({ name: 'read_file', server: null, tool: null }), 'read_file');
    assert.equal(toolLabel({ name: 'mcp__oops' }), 'mcp__oops');
    assert.deepEqual(parseMcpName('mcp__db__read_query'), { server: 'db', tool: 'read_query' });
    assert.equal(parseMcpName('edit_file'), undefined);
  });

  it('takes the MCP servers from ryan/status, whatever else it holds', () => {
    const status = {
      provider: 'ollama', reachable: true,
      mcp: [
        { name: 'demo', state: 'ready', tools: ['add', 'slow', 7] },
        { name: 'broken', state: 'failed', tools: [], error: 'boom: cannot start' },
        { state: 'ready' }, 'junk',
      ],
    };
    assert.deepEqual(mcpServers(status), [
      { name: 'demo', state: 'ready', tools: ['add', 'slow'] },
      { name: 'broken', state: 'failed', tools: [], error: 'boom: cannot start' },
    ]);
    assert.deepEqual(mcpServers({ provider: 'ollama' }), []); // an older server
    assert.deepEqual(mcpServers(null), []);
    assert.equal(mcpSettling(mcpServers({ mcp: [{ name: 'a', state: 'starting', tools: [] }] })), true);
    assert.equal(mcpSettling(mcpServers(status)), false);
    assert.equal(toolCount(1), '1 tool');
    assert.equal(toolCount(3), '3 tools');
  });
});

describe('session pickers', () => {
  it('describes a session, marking the one the panel shows', () => {
    const s = { sessionId: 's1', title: 'Fix', model: 'qwen3:4b', createdAt: 0, updatedAt: 0, messageCount: 4 };
    assert.equal(sessionDescription(s), '4 messages · qwen3:4b');
    assert.equal(sessionDescription(s, 's1'), '4 messages · qwen3:4b · current');
    assert.equal(sessionDescription({ ...s, model: null }, 's2'), '4 messages');
  });
});

describe('approvals', () => {
  const question = 'edit_file: Ryan wants to edit utils.py (+1 \u22121 lines)';
  const diff = '--- a/utils.py\n+++ b/utils.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n+    return a + b';
  it('splits the question from the diff at the first blank line', () => {
    assert.deepEqual(splitApproval(`${question}\n\n${diff}\n`), { question, diff });
    assert.deepEqual(splitApproval(`${question}\r\n\r\n${diff}`), { question, diff });
    // a blank line inside the diff stays in it
    assert.deepEqual(splitApproval(`${question}\n\n@@ -1 +1 @@\n\n+x`), { question, diff: '@@ -1 +1 @@\n\n+x' });
  });
  it('leaves a question without a diff whole', () => {
    assert.deepEqual(splitApproval('run_command: Ryan wants to run `make`'), {
      question: 'run_command: Ryan wants to run `make`', diff: '',
    });
  });
  it('classifies the lines of a unified diff', () => {
    assert.deepEqual(diff.split('\n').map(diffLineKind), ['file', 'file', 'hunk', 'context', 'del', 'add']);
    assert.equal(diffLineKind('--- /dev/null'), 'file');
    assert.equal(diffLineKind('-'), 'del');
    assert.equal(diffLineKind('+'), 'add');
    assert.equal(diffLineKind('... 12 more lines'), 'context');
  });
  it('knows an approval by its actions', () => {
    assert.ok(isApproval(['Allow', 'Allow for session', 'Deny']));
    assert.ok(!isApproval(['Retry', 'Cancel']));
  });
});
