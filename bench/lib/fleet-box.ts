/**
 * One edge box of bench:fleet, run as a child process (the bench kills it with SIGKILL and starts it again
 * on the same userDir): a Node-RED runtime with takt-mqtt-broker (the cluster's URLs, a kept session with
 * the box's own client id), takt-influx-out (write-ahead log, `box` tag), takt-fleet and a takt-fleet-lease
 * gate for the singleton job. The box takes its lines' messages (ISA-95 path acme/plant1/<line>/...) from
 * the broker connection (acme/plant1/<line>/data: a batch of samples) and hands each to takt-influx-out; the message's PUBACK waits until the node has
 * completed it (its points are in the log on disk), so a kill loses nothing the broker does not hold.
 *
 *   node fleet-box.js '<json BoxArgs>'
 * Prints JSON lines: {ready} (once its subscription is acknowledged), {holds, t}, {stats: {messages, points, pending}}.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FleetNode } from '../../nodes/fleet/fleet-types';
import type { BrokerNode } from '../../nodes/mqtt/broker-types';
import { startEmbedded } from './runtime';

export interface BoxArgs {
  userDir: string;
  box: string;
  /** The lines (ISA-95 area level) this box works for. */
  lines: string[];
  brokerUrls: string;
  influxUrl: string;
  bucket: string;
  lease: string;
}

interface CompleteEvent {
  msg: { _msgid?: string };
  node: { id: string };
  error?: unknown;
}

async function main(a: BoxArgs): Promise<void> {
  const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  // Without the previous run's flow file the runtime starts empty: the nodes are made once, by the deploy.
  rmSync(join(a.userDir, 'flows.json'), { force: true });
  const rt = await startEmbedded([], undefined, { userDir: a.userDir });
  const waiting = new Map<string, () => void>();
  (rt.RED.hooks as unknown as { add(n: string, f: (e: CompleteEvent) => void): void }).add(
    'onComplete.takt-fleet',
    (e) => {
      if (e.node.id !== 'o' || !e.msg._msgid) return;
      const r = waiting.get(e.msg._msgid);
      waiting.delete(e.msg._msgid);
      // A message the node refused is acknowledged too (it would be refused again).
      if (e.error) out({ refused: String(e.error) });
      r?.();
    },
  );
  await rt.deploy([
    { id: 'tab', type: 'tab' },
    {
      id: 'br',
      type: 'takt-mqtt-broker',
      url: a.brokerUrls,
      clientId: a.box,
      cleanSession: false,
      keepalive: 5,
      reconnectPeriod: 200,
      reconnectMaxMs: 1000,
    },
    { id: 'srv', type: 'takt-influx-server', url: a.influxUrl, api: 'v2', org: 'takt', bucket: a.bucket },
    {
      id: 'o',
      z: 'tab',
      type: 'takt-influx-out',
      server: 'srv',
      tags: `box=${a.box}`,
      batchSize: 5000,
      flushInterval: 200,
      queueMB: 1024,
    },
    { id: 'fl', type: 'takt-fleet', broker: 'br', box: a.box, role: a.lines.join(' '), leases: a.lease },
    { id: 'gate', z: 'tab', type: 'takt-fleet-lease', fleet: 'fl', lease: a.lease, wires: [[], []] },
  ]);
  const o = rt.RED.nodes.getNode('o') as unknown as { receive(m: object): void };
  const connection = (rt.RED.nodes.getNode('br') as unknown as BrokerNode).connection;
  const keeper = (rt.RED.nodes.getNode('fl') as unknown as FleetNode).keeper();
  if (!connection) throw new Error('broker config refused');
  let messages = 0;
  let points = 0;
  const user = {};
  // Ready only once the broker has granted the subscription: a QoS 1 subscription is kept from its SUBACK
  // on (nats-server makes its JetStream consumer then), so a message published earlier never reaches this
  // box's session. The bench starts its simulator on `ready`. A refusal (a nats node whose consumer waits for
  // a leader) is asked again by the connection, so it is only reported here.
  const subscribed = new Promise<void>((resolve) => {
    const on = (u: object, err: Error | undefined) => {
      if (u !== user) return;
      if (err) return out({ refused: `subscription: ${err.message}` });
      connection.off('subscribed', on);
      resolve();
    };
    connection.on('subscribed', on);
  });
  connection.subscribe(
    user,
    a.lines.map((l) => `acme/plant1/${l}/data`),
    (_topic, payload) =>
      new Promise<void>((resolve) => {
        const batch = JSON.parse(payload.toString('utf8')) as unknown[];
        const id = randomUUID();
        waiting.set(id, () => {
          messages++;
          points += batch.length;
          resolve();
        });
        o.receive({ _msgid: id, payload: batch });
      }),
    1,
  );
  let held = false;
  setInterval(() => {
    const h = keeper.holds(a.lease);
    if (h !== held) out({ holds: h, t: Date.now() });
    held = h;
  }, 50);
  setInterval(() => out({ stats: { messages, points, pending: waiting.size } }), 1000);
  await subscribed;
  out({ ready: true });
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]) as BoxArgs).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
