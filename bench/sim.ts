/**
 * bench:sim — the simulator's load mode (N extra tags changing R times a second, served by the takt-sim
 * command in its own process) against a node-opcua client subscribed to every load tag: changes
 * delivered over changes offered, per tag. The simulator counts every change it writes, per tag
 * (GetChangeCounts); each window runs from a pause of the load (Load/Stop) to the next, so the counts at
 * both ends are final, and a tag the client never saw counts as all lost. Each tag's value is the tick
 * that set it, so a value from outside the window is not counted. CPU is the client's; medians of rounds.
 *
 *   npm run bench:sim -- [--tags 1000] [--rate 10] [--seconds 20] [--rounds 3] [--warmup 5]
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
import { getChangeCounts, setLoad, spawnSimulator, testClient } from '../test/helpers/opcua';
import { freePort } from '../test/helpers/net';
import { cpuMs, finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import {
  combineDelivery,
  compareDelivery,
  countsBetween,
  DeliveryTally,
  drain,
  type Delivery,
} from './lib/delivery';

const flags = parseFlags();
const TAGS = numberFlag(flags, 'tags', 1000);
const RATE = numberFlag(flags, 'rate', 10);
const SECONDS = numberFlag(flags, 'seconds', 20);
const ROUNDS = numberFlag(flags, 'rounds', 3);
const WARMUP = numberFlag(flags, 'warmup', 5);
const LOAD = 'Plant1/Load/';

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
  const loadTags = (refs.references ?? []).filter((r) => r.browseName.name?.startsWith('Tag'));
  const ids = loadTags.map((r) => r.nodeId);
  if (ids.length !== TAGS) throw new Error(`found ${ids.length} load tags, expected ${TAGS}`);

  const sub = ClientSubscription.create(session, {
    requestedPublishingInterval: 100,
    requestedLifetimeCount: 600,
    requestedMaxKeepAliveCount: 10,
    maxNotificationsPerPublish: 0, // no cap: a publish carries every queued change
    publishingEnabled: true,
  });
  const tally = new DeliveryTally();
  // The simulator's counts are keyed by browse path from Objects.
  const names = loadTags.map((r) => `${LOAD}${r.browseName.name}`);
  const group = ClientMonitoredItemGroup.create(
    sub,
    ids.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
    { samplingInterval: 0, queueSize: 20, discardOldest: true },
    TimestampsToReturn.Both,
  );
  group.on('changed', (_item: ClientMonitoredItemBase, dv: DataValue, index: number) =>
    tally.add(names[index], dv.value.value as number),
  );
  await new Promise<void>((resolve) => group.once('initialized', () => resolve()));
  await sleep(WARMUP * 1000);

  const rows: (string | number)[][] = [['round', 'second', 'offered/s', 'delivered/s', 'delivered/offered']];
  const rounds: { delivery: Delivery; seconds: number; cpuMsPer1k: number }[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    // Pause the load so the counts at the start are final, let what is in flight arrive, open the window.
    const from = await setLoad(session, false);
    await drain(() => tally.outside);
    const before = await getChangeCounts(session, LOAD);
    tally.open(from);
    const c0 = cpuMs();
    const w0 = performance.now();
    await setLoad(session, true);
    let prevOffered = 0;
    let prevDelivered = 0;
    for (let s = 1; s <= SECONDS; s++) {
      await sleep(1000);
      if (s % 5 !== 0 && s !== SECONDS) continue;
      const o = (await getChangeCounts(session, LOAD)).total - before.total;
      const d = tally.total();
      const span = s % 5 === 0 ? 5 : s % 5;
      rows.push([r, s, (o - prevOffered) / span, (d - prevDelivered) / span, d / Math.max(1, o)]);
      prevOffered = o;
      prevDelivered = d;
    }
    tally.close(await setLoad(session, false));
    const seconds = (performance.now() - w0) / 1000; // the window as run (method calls take time too)
    await drain(() => tally.total());
    const cpu = cpuMs() - c0;
    const after = await getChangeCounts(session, LOAD);
    const delivery = compareDelivery(countsBetween(before.counts, after.counts), tally.counts());
    rounds.push({ delivery, seconds, cpuMsPer1k: (cpu / Math.max(1, delivery.delivered)) * 1000 });
    rows.push([r, 'all', delivery.offered / seconds, delivery.delivered / seconds, delivery.deliveredRatio]);
    await setLoad(session, true);
  }
  printTable(rows);
  await sub.terminate();
  await session.close();
  await client.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  const all = combineDelivery(rounds.map((x) => x.delivery));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const seconds = rounds.reduce((a, x) => a + x.seconds, 0); // measured in all
  console.log(
    `${all.delivered} of ${all.offered} changes delivered; worst tag ${all.minTagDeliveredRatio}; ` +
      `tags seen ${all.tagsSeen} of ${all.tagsOffered} in every round; ${all.extra} extra`,
  );
  finalLine({
    bench: 'sim',
    tags: TAGS,
    rateHz: RATE,
    seconds: SECONDS,
    offeredPerS: Math.round(all.offered / seconds),
    deliveredPerS: Math.round(all.delivered / seconds),
    deliveredRatio: Number(all.deliveredRatio.toFixed(4)),
    minTagDeliveredRatio: Number(all.minTagDeliveredRatio.toFixed(4)),
    tagsSeen: all.tagsSeen,
    clientCpuMsPer1k: Number(median(rounds.map((x) => x.cpuMsPer1k)).toFixed(2)),
    rounds: ROUNDS,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
