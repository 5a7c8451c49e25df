/**
 * An embedded Node-RED runtime for benchmarks that measure a node inside the real runtime (message
 * routing, cloning, hooks) against a reference node measured in the same process and run.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli';

interface NodeRedApi {
  init(server: unknown, settings: object): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): { receive(msg: object): void } | null };
  hooks: {
    add(name: string, fn: (evt: { destination: { id: string }; msg: Record<string, unknown> }) => void): void;
    remove(name: string): void;
  };
  runtime: {
    flows: { setFlows(opts: { flows: { flows: object[] }; deploymentType?: string }): Promise<unknown> };
  };
}

export interface EmbeddedRuntime {
  RED: NodeRedApi;
  /** Replaces the running flows (full deploy) and resolves when they have started. */
  deploy(flows: object[]): Promise<void>;
  /** Hands a message to a node's input, as a wire would. */
  inject(nodeId: string, msg: object): void;
  /** Counts messages delivered to each node id given (reset with `reset()`). */
  received: Map<string, number>;
  reset(): void;
  stop(): Promise<void>;
}

/**
 * Starts Node-RED in this process with Takt's nodes (package.json "node-red") and no editor. Messages
 * delivered to the nodes in `countAt` are counted, and handed to `onMessage` when given. Config nodes'
 * credentials go inline under `credentials` in the flows, as the editor deploys them.
 */
export async function startEmbedded(
  countAt: string[],
  onMessage?: (nodeId: string, msg: Record<string, unknown>) => void,
  opts: { userDir?: string; settings?: Record<string, unknown> } = {},
): Promise<EmbeddedRuntime> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as NodeRedApi;
  // A given user directory outlives the runtime (a restart test starts a second one on it).
  const userDir = opts.userDir ?? mkdtempSync(join(tmpdir(), 'takt-bench-'));
  RED.init(createServer(), {
    userDir,
    flowFile: join(userDir, 'flows.json'),
    nodesDir: [ROOT],
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    logging: { console: { level: 'warn' } },
    telemetry: { enabled: false },
    // e.g. httpNodeRoot '/' for Dashboard 2 (it needs the node HTTP root), a memory context store
    ...opts.settings,
  });
  await RED.start();
  const received = new Map<string, number>(countAt.map((id) => [id, 0]));
  // Only when something is counted: a hook costs every delivery a trip through Node-RED's hook stack,
  // which a runtime without hooks does not pay.
  const hooked = countAt.length > 0 || onMessage !== undefined;
  if (hooked)
    RED.hooks.add('onReceive.takt-bench', (evt) => {
      const id = evt.destination.id;
      const n = received.get(id);
      if (n !== undefined) {
        received.set(id, n + 1);
        onMessage?.(id, evt.msg);
      }
    });
  return {
    RED,
    received,
    async deploy(flows) {
      await RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
      // setFlows resolves before the new nodes exist: wait until every node of the flow is up.
      // (junctions are wiring, not nodes: they are not looked up)
      const ids = flows
        .filter((n) => (n as { z?: string }).z && (n as { type?: string }).type !== 'junction')
        .map((n) => (n as { id: string }).id);
      const deadline = Date.now() + 30000;
      while (!ids.every((id) => RED.nodes.getNode(id))) {
        if (Date.now() > deadline)
          throw new Error(`flow did not start: ${ids.filter((id) => !RED.nodes.getNode(id))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    inject(nodeId, msg) {
      const node = RED.nodes.getNode(nodeId);
      if (!node) throw new Error(`no node ${nodeId} in the deployed flows`);
      node.receive(msg);
    },
    reset() {
      for (const k of received.keys()) received.set(k, 0);
    },
    async stop() {
      if (hooked) RED.hooks.remove('onReceive.takt-bench');
      await RED.stop();
      if (!opts.userDir) rmSync(userDir, { recursive: true, force: true });
    },
  };
}
