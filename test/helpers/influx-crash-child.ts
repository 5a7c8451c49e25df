/**
 * A Node-RED runtime with one takt-influx-out node, run as a child process by the crash test and by
 * bench:influx-crash, which kill it with SIGKILL. Points `from..to` are handed to the node (payload = the
 * point's index); each message the node completes without error is *accepted*: its index is written at once
 * (a write to the page cache, which outlives a killed process) to `acceptedFile`, by the source, so the
 * parent knows what must be in the database whatever the moment of the kill.
 *
 *   node influx-crash-child.js '<json ChildArgs>'
 * Messages to the parent: {ready, stats}, {accepted: n}, {injected, stats}, {stats}, {stopped, stats}.
 * Messages from the parent: "stop" (clean stop).
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbedded } from '../../bench/lib/runtime';
import type { InfluxOutNode } from '../../nodes/influx/server-types';
import type { WriterStats } from '../../nodes/influx/writer';

export interface ChildArgs {
  userDir: string;
  url: string;
  bucket: string;
  /** The `site` level of the topics: one per run. */
  site: string;
  from: number;
  to: number;
  series: number;
  t0: number;
  acceptedFile: string;
  /** Points handed over per turn of the event loop. */
  chunk?: number;
  batchSize?: number;
}

export type FromChild =
  | { ready: true; stats: WriterStats }
  | { accepted: number }
  | { injected: true; stats: WriterStats }
  | { stats: WriterStats }
  | { stopped: true; stats: WriterStats };

export const topicOf = (site: string, s: number) => `acme/${site}/press/l${s % 10}/c1/tag${s}`;

async function main(a: ChildArgs): Promise<void> {
  const send = (m: FromChild) => process.send?.(m);
  const fd = openSync(a.acceptedFile, 'a');
  let accepted = 0;
  // Without the previous run's flow file the runtime starts empty, so the node is created once (by the
  // deploy below) and its counters cover the replay.
  rmSync(join(a.userDir, 'flows.json'), { force: true });
  const rt = await startEmbedded([], undefined, { userDir: a.userDir });
  (
    rt.RED.hooks as unknown as {
      add(
        name: string,
        fn: (e: { node: { id: string }; msg: { payload: unknown }; error?: unknown }) => void,
      ): void;
    }
  ).add('onComplete.takt-crash', (e) => {
    if (e.node.id !== 'o' || e.error) return;
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(e.msg.payload as number, 0);
    writeSync(fd, b);
    if (++accepted % 1000 === 0) send({ accepted });
  });
  await rt.deploy([
    { id: 'tab', type: 'tab' },
    {
      id: 'srv',
      type: 'takt-influx-server',
      url: a.url,
      api: 'v2',
      org: 'takt',
      bucket: a.bucket,
      gzip: true,
      timeout: 5000,
    },
    {
      id: 'o',
      z: 'tab',
      type: 'takt-influx-out',
      server: 'srv',
      batchSize: a.batchSize ?? 5000,
      flushInterval: 200,
      queueMB: 1024,
    },
  ]);
  const o = rt.RED.nodes.getNode('o') as unknown as InfluxOutNode;
  const stats = () => o.writer!.stats();
  process.on('message', (m) => {
    if (m !== 'stop') return;
    void rt.stop().then(() => {
      send({ stopped: true, stats: stats() });
      closeSync(fd);
      process.exit(0);
    });
  });
  send({ ready: true, stats: stats() });
  setInterval(() => send({ stats: stats() }), 200);
  const chunk = a.chunk ?? 10000;
  for (let i = a.from; i < a.to; i++) {
    const s = i % a.series;
    o.receive({ topic: topicOf(a.site, s), payload: i, ts: a.t0 + Math.floor(i / a.series) });
    if ((i - a.from) % chunk === chunk - 1) await new Promise((r) => setImmediate(r));
  }
  send({ injected: true, stats: stats() });
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]) as ChildArgs).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
