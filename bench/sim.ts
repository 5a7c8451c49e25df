/**
 * bench:sim — the simulator's load mode (N extra tags changing R times a second, served by the takt-sim
 * command in its own process) against a node-opcua client subscribed to every load tag: changes
 * delivered over changes offered. Each tag's value is the server's tick number, so the client counts
 * exactly which changes it received and which it missed.
 *
 *   npm run bench:sim -- [--tags 1000] [--rate 10] [--seconds 30] [--warmup 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds,
  ClientMonitoredItemGroup,
  ClientSubscription,
  makeBrowsePath,
  TimestampsToReturn,
  type ClientMonitoredItemBase,
  type DataValue,
} from 'node-opcua';
import { spawnSimulator, testClient } from '../test/helpers/opcua';
import { freePort } from '../test/helpers/net';
import { cpuMs, finalLine, numberFlag, parseFlags, printTable } from './lib/cli';

const flags = parseFlags();
const TAGS = numberFlag(flags, 'tags', 1000);
const RATE = numberFlag(flags, 'rate', 10);
const SECONDS = numberFlag(flags, 'seconds', 30);
const WARMUP = numberFlag(flags, 'warmup', 5);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'takt-bench-sim-'));
  const port = await freePort();
  const server = await spawnSimulator(
    [
      '--port',
      String(port),
      '--load-tags',
      String(TAGS),
      '--load-rate',
      String(RATE),
      '--pki',
      join(dir, 'pki'),
    ],
    dir,
  );

  const client = testClient(join(dir, 'pki-client'));
  await client.connect(`opc.tcp://127.0.0.1:${port}/UA/Takt`);
  const session = await client.createSession();
  const folder = await session.translateBrowsePath(makeBrowsePath('i=85', '/1:Plant1/1:Load'));
  const refs = await session.browse({ nodeId: folder.targets![0].targetId, resultMask: 63 });
  const ids = (refs.references ?? [])
    .filter((r) => r.browseName.name?.startsWith('Tag'))
    .map((r) => r.nodeId);
  if (ids.length !== TAGS) throw new Error(`found ${ids.length} load tags, expected ${TAGS}`);

  const sub = ClientSubscription.create(session, {
    requestedPublishingInterval: 100,
    requestedLifetimeCount: 600,
    requestedMaxKeepAliveCount: 10,
    maxNotificationsPerPublish: 0, // no cap: a publish carries every queued change
    publishingEnabled: true,
  });
  // Per tag: the ticks received inside the measuring window.
  let measuring = false;
  const first = new Array<number>(TAGS).fill(-1);
  const last = new Array<number>(TAGS).fill(-1);
  const received = new Array<number>(TAGS).fill(0);
  const index = new Map<string, number>(ids.map((id, i) => [id.toString(), i]));
  const group = ClientMonitoredItemGroup.create(
    sub,
    ids.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
    { samplingInterval: 0, queueSize: 20, discardOldest: true },
    TimestampsToReturn.Both,
  );
  group.on('changed', (item: ClientMonitoredItemBase, dv: DataValue) => {
    if (!measuring) return;
    const i = index.get(item.itemToMonitor.nodeId.toString());
    if (i === undefined) return;
    const tick = dv.value.value as number;
    if (first[i] < 0) first[i] = tick;
    last[i] = tick;
    received[i]++;
  });
  await new Promise<void>((resolve) => group.once('initialized', () => resolve()));

  await sleep(WARMUP * 1000);
  measuring = true;
  const c0 = cpuMs();
  const rows: (string | number)[][] = [['second', 'offered/s', 'delivered/s', 'delivered/offered']];
  let prevOffered = 0;
  let prevDelivered = 0;
  const offered = () => first.reduce((s, f, i) => s + (f < 0 ? 0 : last[i] - f + 1), 0);
  const delivered = () => received.reduce((s, r) => s + r, 0);
  for (let s = 1; s <= SECONDS; s++) {
    await sleep(1000);
    const o = offered();
    const d = delivered();
    if (s % 5 === 0 || s === SECONDS) rows.push([s, o - prevOffered, d - prevDelivered, d / Math.max(1, o)]);
    prevOffered = o;
    prevDelivered = d;
  }
  measuring = false;
  const clientCpu = cpuMs() - c0;
  printTable(rows);
  const o = offered();
  const d = delivered();
  await sub.terminate();
  await session.close();
  await client.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  finalLine({
    bench: 'sim',
    tags: TAGS,
    rateHz: RATE,
    seconds: SECONDS,
    offeredPerS: Math.round(o / SECONDS),
    deliveredPerS: Math.round(d / SECONDS),
    deliveredRatio: Number((d / o).toFixed(4)),
    clientCpuMsPer1k: Number(((clientCpu / Math.max(1, d)) * 1000).toFixed(2)),
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
