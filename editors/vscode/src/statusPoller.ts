/**
 * The MCP servers' lines under the panel's header: `ryan/status`, asked again shortly while a server
 * is starting, so its line turns to ready or failed without the user doing anything.
 */

import type { RyanClient } from './client';
import { mcpServers, mcpSettling } from './messages';
import { Method, StatusResult, ToWebview } from './protocol';

/** While an MCP server is starting, `ryan/status` is asked again this often, at most STATUS_POLLS times. */
const STATUS_POLL_MS = 1000;
const STATUS_POLLS = 60;

export class StatusPoller {
  /** the next `ryan/status` while MCP servers are starting, and how many were asked in a row */
  private timer: ReturnType<typeof setTimeout> | undefined;
  private polls = 0;

  constructor(
    private readonly client: RyanClient,
    private readonly post: (m: ToWebview) => void,
  ) {}

  /** Shows the MCP servers of `ryan/status` (a line each); asks again shortly while one is starting. */
  async refresh(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.client.running) return;
    let servers;
    try {
      servers = mcpServers(await this.client.request<StatusResult>(Method.status, {}));
    } catch {
      return; // the server is going away; its state shows in the header
    }
    this.post({ type: 'mcp', servers });
    if (mcpSettling(servers) && this.polls < STATUS_POLLS) {
      this.polls++;
      if (this.timer) clearTimeout(this.timer); // another refresh may have finished first
      this.timer = setTimeout(() => void this.refresh(), STATUS_POLL_MS);
    } else {
      this.polls = 0;
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
