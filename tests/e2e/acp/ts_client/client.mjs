// An independent ACP client: the TypeScript SDK drives `ryan-server --acp` through one full turn with a
// tool call and a permission request, then prints what it saw as one JSON line on stdout.
// Usage: node client.mjs <workspace> <command> [args...]   (the settings come from the environment)
import { spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { client, methods, ndJsonStream, PROTOCOL_VERSION } from "@agentclientprotocol/sdk";

const [workspace, command, ...args] = process.argv.slice(2);
const agentProcess = spawn(command, args, { cwd: workspace, stdio: ["pipe", "pipe", "inherit"] });
const stream = ndJsonStream(Writable.toWeb(agentProcess.stdin), Readable.toWeb(agentProcess.stdout));

const seen = { updates: [], permissions: [], order: [] };
const app = client({ name: "ryan-ts-test" })
  .onNotification(methods.client.session.update, ({ params }) => {
    seen.updates.push(params.update);
    seen.order.push(`update:${params.update.sessionUpdate}`);
  })
  .onRequest(methods.client.session.requestPermission, ({ params }) => {
    seen.permissions.push(params);
    seen.order.push(`permission:${params.toolCall.toolCallId}`);
    const allow = params.options.find((option) => option.kind === "allow_once");
    return { outcome: { outcome: "selected", optionId: allow.optionId } };
  });

const timeout = setTimeout(() => {
  console.error("timed out");
  agentProcess.kill();
  process.exit(2);
}, 30000);

try {
  await app.connectWith(stream, async (ctx) => {
    seen.initialize = await ctx.request(methods.agent.initialize, {
      protocolVersion: PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false } },
      clientInfo: { name: "ryan-ts-test", version: "1.0.0" },
    });
    const session = await ctx.request(methods.agent.session.new, { cwd: workspace, mcpServers: [] });
    seen.sessionId = session.sessionId;
    seen.prompt = await ctx.request(methods.agent.session.prompt, {
      sessionId: session.sessionId,
      prompt: [{ type: "text", text: "write hello.txt, please" }],
    });
  });
} finally {
  clearTimeout(timeout);
  agentProcess.stdin.end();
}
process.stdout.write(JSON.stringify(seen) + "\n");
