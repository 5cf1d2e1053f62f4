/** Unit tests: the protocol version check on the server's `initialize` result. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { protocolVersionWarning } from '../src/compat';
import { PROTOCOL_VERSION } from '../src/protocol';

function initializeResult(ryan: unknown, serverInfo: unknown = { name: 'ryan-server', version: '0.4.0' }) {
  return { capabilities: { experimental: { ryan } }, serverInfo };
}

describe('protocolVersionWarning', () => {
  it('is quiet when the versions agree', () => {
    assert.equal(PROTOCOL_VERSION, 1);
    assert.equal(protocolVersionWarning(initializeResult({ protocolVersion: 1, tools: [] })), undefined);
    assert.equal(protocolVersionWarning(initializeResult({ protocolVersion: 2 }), 2), undefined);
  });

  it('names both versions and says to update both when they differ', () => {
    const w = protocolVersionWarning(initializeResult({ protocolVersion: 2 }));
    assert.ok(w);
    assert.match(w, /^Ryan: the server speaks protocol version 2, this extension version 1 \(ryan-server 0\.4\.0\)\./);
    assert.match(w, /update the Ryan extension and ryan-server together/);
  });

  it('says so when the server names no version', () => {
    for (const result of [
      initializeResult(undefined),
      initializeResult({ tools: [] }),
      { capabilities: {} },
      { capabilities: { experimental: null } },
      undefined,
      null,
    ]) {
      const w = protocolVersionWarning(result);
      assert.ok(w, JSON.stringify(result));
      assert.match(w, /the server does not say which protocol version it speaks; this extension speaks version 1/);
      assert.match(w, /update the Ryan extension and ryan-server together/);
    }
  });

  it('does not take "1" for 1, and copes with odd server info', () => {
    assert.match(protocolVersionWarning(initializeResult({ protocolVersion: '1' })) ?? '', /speaks protocol version 1, this/);
    const w = protocolVersionWarning(initializeResult({ protocolVersion: 0 }, 'junk'));
    assert.match(w ?? '', /^Ryan: the server speaks protocol version 0, this extension version 1\. Chats/);
  });
});
