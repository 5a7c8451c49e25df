/**
 * An embedded Node-RED (no editor) that loads the InfluxDB nodes straight from dist/nodes/influx, for the
 * influx benches (until package.json lists the nodes, the shared bench runtime does not see them).
 */
import { createServer } from 'node:http';
import { join } from 'node:path';

interface NodeRedApi {
  init(server: unknown, settings: object): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): { receive(msg: object): void } | null };
  runtime: {
    flows: { setFlows(opts: { flows: { flows: object[] }; deploymentType?: string }): Promise<unknown> };
  };
}

export interface InfluxRuntime {
  RED: NodeRedApi;
  node(id: string): { receive(msg: object): void };
  stop(): Promise<void>;
}

/** Starts Node-RED with `flows` (credentials inline under `credentials`, as the editor deploys them). */
export async function startInfluxRuntime(userDir: string, flows: object[]): Promise<InfluxRuntime> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as NodeRedApi;
  RED.init(createServer(), {
    userDir,
    flowFile: join(userDir, 'flows.json'),
    nodesDir: [join(__dirname, '..', '..', 'nodes', 'influx')],
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    logging: { console: { level: 'warn' } },
    telemetry: { enabled: false },
  });
  await RED.start();
  await RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
  const ids = flows.filter((n) => (n as { z?: string }).z).map((n) => (n as { id: string }).id);
  const deadline = Date.now() + 30000;
  while (!ids.every((id) => RED.nodes.getNode(id))) {
    if (Date.now() > deadline)
      throw new Error(`flow did not start: ${ids.filter((id) => !RED.nodes.getNode(id))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    RED,
    node(id) {
      const n = RED.nodes.getNode(id);
      if (!n) throw new Error(`no node ${id}`);
      return n;
    },
    stop: () => RED.stop(),
  };
}
