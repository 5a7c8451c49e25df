/**
 * bench:opcua-ingest — OPC UA ingest through takt-opcua-in inside a real Node-RED runtime, against a bare
 * node-opcua client subscription measured in the same run. The simulator's load mode (its own process)
 * offers N tags x R Hz; every value is the server's tick number, so delivered and offered are counted
 * exactly per tag. CPU is this process's (runtime or bare client; the server is elsewhere).
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
const ROUNDS = numberFlag(flags, 'rounds', 3);
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
    ['round', 'mode', 'seconds', 'offered/s', 'delivered/offered', 'cpu ms/1k'],
  ];
  const row = (r: number, mode: string, p: Phase) =>
    rows.push([
      r,
      mode,
      p.seconds,
      p.offered / p.seconds,
      p.delivered / Math.max(1, p.offered),
      p.cpuMsPer1k,
    ]);
  for (let r = 1; r <= ROUNDS; r++) {
    await rt.deploy([{ id: 'tab', type: 'tab', label: 'empty' }]);
    phases.bare.push(await bare(url, dir, SECONDS));
    row(r, 'bare client', phases.bare.at(-1)!);
    tally = new Tally();
    await rt.deploy(flow('batch'));
    // The first batch run is the soak when --minutes is given: RSS after its warm-up and at its end.
    const soak = r === 1 && SOAK_MIN > 0;
    phases.batch.push(
      await measure(tally, soak ? SOAK_MIN * 60 : SECONDS, r === 1 ? () => (rssStart = rssMb()) : undefined),
    );
    if (r === 1) rssEnd = rssMb();
    row(r, 'node batch', phases.batch.at(-1)!);
    tally = new Tally();
    await rt.deploy(flow('change'));
    phases.change.push(await measure(tally, SECONDS));
    row(r, 'node per change', phases.change.at(-1)!);
  }
  await rt.stop();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cpu = (ps: Phase[]) => median(ps.map((p) => p.cpuMsPer1k));
  const delivered = (ps: Phase[]) =>
    ps.reduce((s, p) => s + p.delivered, 0) /
    Math.max(
      1,
      ps.reduce((s, p) => s + p.offered, 0),
    );
  const rawCpu = cpu(phases.bare);
  rows.push(['median', 'bare client', '', '', delivered(phases.bare), rawCpu]);
  rows.push(['median', 'node batch', '', '', delivered(phases.batch), cpu(phases.batch)]);
  rows.push(['median', 'node per change', '', '', delivered(phases.change), cpu(phases.change)]);
  printTable(rows);
  console.log(`RSS over the first node batch run: ${rssStart} MB after warm-up, ${rssEnd} MB at the end`);
  const r4 = (x: number) => Number(x.toFixed(4));
  const offered = phases.bare.reduce((s, p) => s + p.offered / p.seconds, 0) / phases.bare.length;
  finalLine({
    bench: 'opcua-ingest',
    tags: TAGS,
    offeredPerS: Math.round(offered),
    cpuMsPer1kRaw: r4(rawCpu),
    batch: {
      deliveredRatio: r4(delivered(phases.batch)),
      cpuMsPer1k: r4(cpu(phases.batch)),
      cpuRatio: r4(cpu(phases.batch) / rawCpu),
    },
    perChange: {
      deliveredRatio: r4(delivered(phases.change)),
      cpuMsPer1k: r4(cpu(phases.change)),
      cpuRatio: r4(cpu(phases.change) / rawCpu),
    },
    rssStartMb: rssStart,
    rssEndMb: rssEnd,
    rounds: ROUNDS,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
