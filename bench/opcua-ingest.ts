/**
 * bench:opcua-ingest — OPC UA ingest through takt-opcua-in inside a real Node-RED runtime, against a bare
 * node-opcua client subscription measured in the same run. The simulator's load mode (its own process)
 * offers N tags x R Hz; every value is the server's tick number, so delivered and offered are counted
 * exactly per tag. CPU is this process's (runtime or bare client; the server is elsewhere).
 *
 *   npm run bench:opcua-ingest -- [--tags 1000] [--rate 10] [--seconds 20] [--minutes M (soak of batch mode)]
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
import { startEmbedded } from './lib/runtime';

const flags = parseFlags();
const TAGS = numberFlag(flags, 'tags', 1000);
const RATE = numberFlag(flags, 'rate', 10);
const SECONDS = numberFlag(flags, 'seconds', 20);
const SOAK_MIN = numberFlag(flags, 'minutes', 0);
const WARMUP_S = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);

/** Exact delivered/offered bookkeeping: per tag, the first and last tick seen and how many arrived. */
class Tally {
  private first = new Map<string, number>();
  private last = new Map<string, number>();
  delivered = 0;
  on = false;
  add(tag: string, tick: number): void {
    if (!this.on) return;
    if (!this.first.has(tag)) this.first.set(tag, tick);
    this.last.set(tag, tick);
    this.delivered++;
  }
  offered(): number {
    let o = 0;
    for (const [tag, f] of this.first) o += (this.last.get(tag) ?? f) - f + 1;
    return o;
  }
}

interface Phase {
  delivered: number;
  offered: number;
  cpuMsPer1k: number;
  seconds: number;
}

async function measure(tally: Tally, seconds: number, afterWarmup?: () => void): Promise<Phase> {
  await sleep(WARMUP_S * 1000);
  afterWarmup?.();
  const c0 = cpuMs();
  tally.on = true;
  await sleep(seconds * 1000);
  tally.on = false;
  const cpu = cpuMs() - c0;
  return {
    delivered: tally.delivered,
    offered: tally.offered(),
    cpuMsPer1k: (cpu / Math.max(1, tally.delivered)) * 1000,
    seconds,
  };
}

async function bare(url: string, dir: string, seconds: number): Promise<Phase> {
  const client = testClient(join(dir, 'pki-bare'));
  await client.connect(url);
  const session = await client.createSession();
  const folder = await session.translateBrowsePath(makeBrowsePath('i=85', '/1:Plant1/1:Load'));
  const refs = await session.browse({ nodeId: folder.targets![0].targetId, resultMask: 63 });
  const ids = (refs.references ?? [])
    .filter((r) => r.browseName.name?.startsWith('Tag'))
    .map((r) => r.nodeId);
  // The same subscription parameters as takt-opcua-in's defaults below.
  const sub = ClientSubscription.create(session, {
    requestedPublishingInterval: 500,
    requestedLifetimeCount: 120,
    requestedMaxKeepAliveCount: 10,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
  });
  const tally = new Tally();
  const group = ClientMonitoredItemGroup.create(
    sub,
    ids.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
    { samplingInterval: 0, queueSize: 11, discardOldest: true },
    TimestampsToReturn.Both,
  );
  const names = ids.map((id) => id.toString());
  group.on('changed', (_item: ClientMonitoredItemBase, dv: DataValue, index: number) =>
    tally.add(names[index], dv.value.value as number),
  );
  await new Promise<void>((r) => group.once('initialized', () => r()));
  const phase = await measure(tally, seconds);
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

  // The runtime is up (with no flow) while the bare client is measured, so both run in the same process state.
  let tally = new Tally();
  const rt = await startEmbedded(['end'], (_id, msg) => {
    if (Array.isArray(msg.payload))
      for (const s of msg.payload as { topic: string; value: number }[]) tally.add(s.topic, s.value);
    else tally.add(msg.topic as string, msg.payload as number);
  });
  const rawFirst = await bare(url, dir, SECONDS);

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
  await rt.deploy(flow('batch'));
  // Memory over the batch run (the soak with --minutes): RSS after the warm-up and at the end.
  let rssStart = 0;
  const batch = await measure(tally, SOAK_MIN > 0 ? SOAK_MIN * 60 : SECONDS, () => (rssStart = rssMb()));
  const rssEnd = rssMb();
  tally = new Tally();
  await rt.deploy(flow('change'));
  const perChange = await measure(tally, SECONDS);
  // The bare client again, now that the process is as warm as it was for the node: the cheaper of the two
  // bare runs is the reference, so warm-up never flatters the node.
  await rt.deploy([{ id: 'tab', type: 'tab', label: 'empty' }]);
  const rawSecond = await bare(url, dir, SECONDS);
  const raw = rawSecond.cpuMsPer1k < rawFirst.cpuMsPer1k ? rawSecond : rawFirst;
  await rt.stop();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });

  const ratio = (p: Phase) => p.delivered / Math.max(1, p.offered);
  printTable([
    ['mode', 'seconds', 'offered/s', 'delivered/s', 'delivered/offered', 'cpu ms/1k', 'cpu vs bare'],
    [
      'bare client (1st)',
      rawFirst.seconds,
      rawFirst.offered / rawFirst.seconds,
      rawFirst.delivered / rawFirst.seconds,
      ratio(rawFirst),
      rawFirst.cpuMsPer1k,
      rawFirst.cpuMsPer1k / raw.cpuMsPer1k,
    ],
    [
      'bare client (2nd)',
      rawSecond.seconds,
      rawSecond.offered / rawSecond.seconds,
      rawSecond.delivered / rawSecond.seconds,
      ratio(rawSecond),
      rawSecond.cpuMsPer1k,
      rawSecond.cpuMsPer1k / raw.cpuMsPer1k,
    ],
    [
      '(reference)',
      raw.seconds,
      raw.offered / raw.seconds,
      raw.delivered / raw.seconds,
      ratio(raw),
      raw.cpuMsPer1k,
      1,
    ],
    [
      'node batch',
      batch.seconds,
      batch.offered / batch.seconds,
      batch.delivered / batch.seconds,
      ratio(batch),
      batch.cpuMsPer1k,
      batch.cpuMsPer1k / raw.cpuMsPer1k,
    ],
    [
      'node per change',
      perChange.seconds,
      perChange.offered / perChange.seconds,
      perChange.delivered / perChange.seconds,
      ratio(perChange),
      perChange.cpuMsPer1k,
      perChange.cpuMsPer1k / raw.cpuMsPer1k,
    ],
  ]);
  console.log(`RSS over the node batch run: ${rssStart} MB after warm-up, ${rssEnd} MB at the end`);
  const r4 = (x: number) => Number(x.toFixed(4));
  finalLine({
    bench: 'opcua-ingest',
    tags: TAGS,
    offeredPerS: Math.round(raw.offered / raw.seconds),
    cpuMsPer1kRaw: r4(raw.cpuMsPer1k),
    batch: {
      deliveredRatio: r4(ratio(batch)),
      cpuMsPer1k: r4(batch.cpuMsPer1k),
      cpuRatio: r4(batch.cpuMsPer1k / raw.cpuMsPer1k),
    },
    perChange: {
      deliveredRatio: r4(ratio(perChange)),
      cpuMsPer1k: r4(perChange.cpuMsPer1k),
      cpuRatio: r4(perChange.cpuMsPer1k / raw.cpuMsPer1k),
    },
    rssStartMb: rssStart,
    rssEndMb: rssEnd,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
