/**
 * bench:opcua-ingest — OPC UA ingest through takt-opcua-in inside a real Node-RED runtime, against a bare
 * node-opcua client subscription measured in the same run. The simulator's load mode (its own process)
 * offers N tags x R Hz and counts every change it writes, per tag (GetChangeCounts). Each window runs from
 * a pause of the load (Load/Stop) to the next, so the counts at both ends are final; per tag, what arrived
 * is compared with what the simulator counted, and a tag never seen counts as all lost. Every value is
 * the tick that set it, so a value from outside the window is not counted. CPU is this process's (runtime
 * or bare client; the server is elsewhere); medians of rounds.
 *
 *   npm run bench:opcua-ingest -- [--tags 1000] [--rate 10] [--seconds 20] [--rounds 3] [--minutes M (soak of batch mode)]
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
  type ClientSession,
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
import { startEmbedded } from './lib/runtime';

const flags = parseFlags();
const TAGS = numberFlag(flags, 'tags', 1000);
const RATE = numberFlag(flags, 'rate', 10);
const SECONDS = numberFlag(flags, 'seconds', 20);
const SOAK_MIN = numberFlag(flags, 'minutes', 0);
const ROUNDS = numberFlag(flags, 'rounds', 3);
const WARMUP_S = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);

const LOAD = 'Plant1/Load/';

interface Phase {
  delivery: Delivery;
  cpuMsPer1k: number;
  seconds: number;
}

/**
 * One window after a warm-up: pause the load, let what is in flight arrive, read the counts, open the
 * window and resume for `seconds`, pause again, let the rest arrive, read the final counts, resume.
 */
async function measure(
  control: ClientSession,
  tally: DeliveryTally,
  seconds: number,
  afterWarmup?: () => void,
): Promise<Phase> {
  await sleep(WARMUP_S * 1000);
  afterWarmup?.();
  const from = await setLoad(control, false);
  await drain(() => tally.outside, 1500, 15000);
  const before = await getChangeCounts(control, LOAD);
  tally.open(from);
  const c0 = cpuMs();
  const w0 = performance.now();
  await setLoad(control, true);
  await sleep(seconds * 1000);
  tally.close(await setLoad(control, false));
  const ran = (performance.now() - w0) / 1000; // the window as run (method calls take time too)
  await drain(() => tally.total(), 1500, 15000);
  const cpu = cpuMs() - c0;
  const after = await getChangeCounts(control, LOAD);
  await setLoad(control, true);
  const delivery = compareDelivery(countsBetween(before.counts, after.counts), tally.counts());
  return { delivery, cpuMsPer1k: (cpu / Math.max(1, delivery.delivered)) * 1000, seconds: ran };
}

async function bare(url: string, dir: string, control: ClientSession, seconds: number): Promise<Phase> {
  const client = testClient(join(dir, 'pki-bare'));
  await client.connect(url);
  const session = await client.createSession();
  const folder = await session.translateBrowsePath(makeBrowsePath('i=85', '/1:Plant1/1:Load'));
  const refs = await session.browse({ nodeId: folder.targets![0].targetId, resultMask: 63 });
  const loadTags = (refs.references ?? []).filter((r) => r.browseName.name?.startsWith('Tag'));
  const ids = loadTags.map((r) => r.nodeId);
  // The same subscription parameters as takt-opcua-in's defaults below.
  const sub = ClientSubscription.create(session, {
    requestedPublishingInterval: 500,
    requestedLifetimeCount: 120,
    requestedMaxKeepAliveCount: 10,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
  });
  const tally = new DeliveryTally();
  const group = ClientMonitoredItemGroup.create(
    sub,
    ids.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
    { samplingInterval: 0, queueSize: 11, discardOldest: true },
    TimestampsToReturn.Both,
  );
  // Keyed as the simulator counts and takt-opcua-in names them: the browse path from Objects.
  const names = loadTags.map((r) => `${LOAD}${r.browseName.name}`);
  group.on('changed', (_item: ClientMonitoredItemBase, dv: DataValue, index: number) =>
    tally.add(names[index], dv.value.value as number),
  );
  await new Promise<void>((r) => group.once('initialized', () => r()));
  const phase = await measure(control, tally, seconds);
  await sub.terminate();
  await session.close();
  await client.disconnect();
  return phase;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'takt-bench-ingest-'));
  const port = await freePort();
  const url = `opc.tcp://127.0.0.1:${port}/UA/Takt`;
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

  // The bench's own session pauses and resumes the load and reads the simulator's counts.
  // It has no subscription: keep its session alive through the soak, when it is idle for minutes.
  const controlClient = testClient(join(dir, 'pki-control'), { keepSessionAlive: true });
  await controlClient.connect(url);
  const control = await controlClient.createSession();

  // The runtime is up (with no flow) while the bare client is measured, so both run in the same process state.
  let tally = new DeliveryTally();
  const rt = await startEmbedded(['end'], (_id, msg) => {
    if (Array.isArray(msg.payload))
      for (const s of msg.payload as { topic: string; value: number }[]) tally.add(s.topic, s.value);
    else tally.add(msg.topic as string, msg.payload as number);
  });
  const flow = (mode: 'batch' | 'change') => [
    { id: 'tab', type: 'tab', label: 'ingest' },
    {
      id: 'ep',
      type: 'takt-opcua-endpoint',
      url,
      securityMode: 'None',
      securityPolicy: 'None',
      authType: 'anonymous',
    },
    // The same sampling (0: every change, reported by exception) and publishing (500 ms) as the bare client.
    {
      id: 'in',
      z: 'tab',
      type: 'takt-opcua-in',
      endpoint: 'ep',
      items: '/Plant1/Load/*',
      samplingInterval: 0,
      publishingInterval: 500,
      queueSize: 11,
      mode,
      wires: [['end']],
    },
    { id: 'end', z: 'tab', type: 'junction', wires: [] },
  ];
  // Rounds of bare client, node in batch mode and node per change, each after the others in the same
  // process: CPU figures on a shared machine drift, so the medians over rounds are compared.
  const phases = { bare: [] as Phase[], batch: [] as Phase[], change: [] as Phase[] };
  let rssStart = 0;
  let rssEnd = 0;
  const rows: (string | number)[][] = [
    ['round', 'mode', 'seconds', 'offered/s', 'delivered/offered', 'worst tag', 'tags seen', 'cpu ms/1k'],
  ];
  const row = (r: number, mode: string, p: Phase) =>
    rows.push([
      r,
      mode,
      p.seconds,
      p.delivery.offered / p.seconds,
      p.delivery.deliveredRatio,
      p.delivery.minTagDeliveredRatio,
      `${p.delivery.tagsSeen}/${p.delivery.tagsOffered}`,
      p.cpuMsPer1k,
    ]);
  for (let r = 1; r <= ROUNDS; r++) {
    await rt.deploy([{ id: 'tab', type: 'tab', label: 'empty' }]);
    phases.bare.push(await bare(url, dir, control, SECONDS));
    row(r, 'bare client', phases.bare.at(-1)!);
    tally = new DeliveryTally();
    await rt.deploy(flow('batch'));
    // The first batch run is the soak when --minutes is given: RSS after its warm-up and at its end.
    const soak = r === 1 && SOAK_MIN > 0;
    phases.batch.push(
      await measure(
        control,
        tally,
        soak ? SOAK_MIN * 60 : SECONDS,
        r === 1 ? () => (rssStart = rssMb()) : undefined,
      ),
    );
    if (r === 1) rssEnd = rssMb();
    row(r, 'node batch', phases.batch.at(-1)!);
    tally = new DeliveryTally();
    await rt.deploy(flow('change'));
    phases.change.push(await measure(control, tally, SECONDS));
    row(r, 'node per change', phases.change.at(-1)!);
  }
  await rt.stop();
  await control.close();
  await controlClient.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cpu = (ps: Phase[]) => median(ps.map((p) => p.cpuMsPer1k));
  // Delivery over all rounds of a mode: every change counted, and the worst tag of any round.
  const all = (ps: Phase[]) => combineDelivery(ps.map((p) => p.delivery));
  const rawCpu = cpu(phases.bare);
  const total = (mode: string, ps: Phase[]) => {
    const d = all(ps);
    rows.push([
      'all',
      mode,
      '',
      '',
      d.deliveredRatio,
      d.minTagDeliveredRatio,
      `${d.tagsSeen}/${d.tagsOffered}`,
      cpu(ps),
    ]);
    return d;
  };
  const bareAll = total('bare client', phases.bare);
  const batch = total('node batch', phases.batch);
  const change = total('node per change', phases.change);
  printTable(rows);
  console.log('delivered/offered and worst tag over all rounds; cpu ms/1k: median of rounds');
  console.log(`RSS over the first node batch run: ${rssStart} MB after warm-up, ${rssEnd} MB at the end`);
  const r4 = (x: number) => Number(x.toFixed(4));
  const bareSeconds = phases.bare.reduce((s, p) => s + p.seconds, 0);
  finalLine({
    bench: 'opcua-ingest',
    tags: TAGS,
    offeredPerS: Math.round(bareAll.offered / Math.max(1, bareSeconds)),
    cpuMsPer1kRaw: r4(rawCpu),
    batch: {
      deliveredRatio: r4(batch.deliveredRatio),
      minTagDeliveredRatio: r4(batch.minTagDeliveredRatio),
      tagsSeen: batch.tagsSeen,
      cpuMsPer1k: r4(cpu(phases.batch)),
      cpuRatio: r4(cpu(phases.batch) / rawCpu),
    },
    perChange: {
      deliveredRatio: r4(change.deliveredRatio),
      minTagDeliveredRatio: r4(change.minTagDeliveredRatio),
      tagsSeen: change.tagsSeen,
      cpuMsPer1k: r4(cpu(phases.change)),
      cpuRatio: r4(cpu(phases.change) / rawCpu),
    },
    // The node's worst over both modes and all rounds (tags seen: the fewest in any window).
    minTagDeliveredRatio: r4(Math.min(batch.minTagDeliveredRatio, change.minTagDeliveredRatio)),
    tagsSeen: Math.min(batch.tagsSeen, change.tagsSeen),
    bareDeliveredRatio: r4(bareAll.deliveredRatio),
    rssStartMb: rssStart,
    rssEndMb: rssEnd,
    rounds: ROUNDS,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
