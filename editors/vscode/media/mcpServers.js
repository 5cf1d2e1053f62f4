// @ts-check
/** The MCP servers' lines under the header (from `ryan/status`): state, tools, and why one failed. */

import { el } from './dom.js';
import { toolCount } from '../src/messages';
import { mcpList } from './layout.js';

/** @typedef {import('../src/protocol').McpServerStatus} McpServerStatus */

const MCP_TROUBLE = new Set(['failed', 'crashed']);

/** A line per MCP server: its name, state and number of tools; why it failed on hover and below it. */
export function showMcpServers(/** @type {McpServerStatus[]} */ servers) {
  mcpList.replaceChildren();
  for (const s of servers) {
    const line = el('div', `mcp-server state-${s.state}`);
    line.dataset.name = s.name;
    const head = el('div', 'mcp-head');
    head.append(
      el('span', 'mcp-dot'),
      el('span', 'mcp-name', s.name),
      el('span', 'mcp-state', s.state),
      el('span', 'mcp-tools', toolCount(s.tools.length)),
    );
    line.append(head);
    line.title = s.error ? `${s.name}: ${s.error}` : s.tools.length ? `${s.name}: ${s.tools.join(', ')}` : s.name;
    if (s.error && MCP_TROUBLE.has(s.state)) line.append(el('div', 'mcp-error', s.error));
    mcpList.append(line);
  }
}
