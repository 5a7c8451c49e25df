/**
 * bench:fleet — a plant of three edge boxes on a clustered broker loses nothing through a broker node and a
 * box being killed. On loopback: a three-node nats-server cluster (MQTT 3.1.1, JetStream sessions),
 * VictoriaMetrics, three Takt runtimes (separate processes, own userDirs; bench/lib/fleet-box) and a
 * simulator in this process publishing 1,000 tags at 10 Hz as JSON batches, one message per line and tick
 * under its ISA-95 path (acme/plant1/<line>/data, QoS 1; the samples' topics name line, machine, tag). Each box works for one line (its
 * kept session holds that line's messages while it is away) and writes through takt-influx-out with a `box`
 * tag; the boxes also hold a singleton lease.
 *
 * During the run one broker node is killed (SIGKILL) at 25 % of the time, the box holding the lease at 40 %;
 * both start again at 60 % / 65 %. Offered is counted at the source (every sample the simulator made, each
 * kept and published again until the broker acknowledged it); stored is read back from the database per
 * series and timestamp: lost = offered samples missing, duplicates = extra copies. handoverS: from the kill
 * of the lease holder until another box holds the lease. Reference in the same run: one runtime doing all
 * three lines for a short phase first (points per second per runtime, fleet vs single).
 *
 *   node dist/bench/fleet.js [--seconds 300] [--single-seconds 20]   (or FLEET_SECONDS)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { within } from '../nodes/core/time';
import { MqttBrokerConnection } from '../nodes/mqtt/connection';
import { VmProcess } from '../test/helpers/influx-db';
import { startNatsCluster } from '../test/helpers/nats-cluster';
import { waitUntil } from '../test/helpers/net';
import { finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import type { BoxArgs } from './lib/fleet-box';

const LINES = ['line1', 'line2', 'line3'];
const MACHINES = 10; // per line (a level of the samples' topics)
const TAGS = 1000; // over all lines and machines
const HZ = 10;
const LEASE = 'area-scheduler';

interface BoxProc {
  name: string;
  args: BoxArgs;
  proc: ChildProcess;
  points: number;
  /** When `points` last grew (epoch ms). */
  grewAt: number;
  /** Messages handed to takt-influx-out and not completed yet. */
  pending: number;
  holdEvents: { holds: boolean; t: number }[];
  exited: boolean;
}

function startBox(args: BoxArgs): Promise<BoxProc> {
  const proc = spawn(process.execPath, [join(__dirname, 'lib', 'fleet-box.js'), JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const b: BoxProc = {
    name: args.box,
    args,
    proc,
    points: 0,
    grewAt: Date.now(),
    pending: 0,
    holdEvents: [],
    exited: false,
  };
  let buf = '';
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith('{')) continue;
        const m = JSON.parse(line) as {
          ready?: boolean;
          holds?: boolean;
          t?: number;
          stats?: { points: number; pending: number };
          refused?: string;
        };
        if (m.ready) resolve(b);
        if (m.holds !== undefined) b.holdEvents.push({ holds: m.holds, t: m.t ?? Date.now() });
        if (m.stats) {
          if (m.stats.points > b.points) b.grewAt = Date.now();
          b.points = m.stats.points;
          b.pending = m.stats.pending;
        }
        if (m.refused) console.error(`${b.name}: refused ${m.refused}`);
      }
    });
    proc.once('exit', (code) => {
      b.exited = true;
      reject(new Error(`${args.box} exited (${code}): ${err}`));
    });
  });
}

/** The simulator: values for every tag each tick, published per machine until the broker acknowledges. */
class Simulator {
  offered = 0;
  published = 0;
  private readonly queue: { topic: string; body: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private sending = false;

  constructor(
    private readonly conn: MqttBrokerConnection,
    private readonly lines: string[],
    private readonly t0: number,
  ) {}

  start(): void {
    const started = Date.now();
    this.timer = setInterval(() => {
      // Ticks follow the wall clock (a late timer makes up the missed ticks).
      const due = Math.floor(((Date.now() - started) * HZ) / 1000);
      for (; this.tick <= due; this.tick++) {
        const ts = this.t0 + this.tick * (1000 / HZ);
        // One message per line and tick (the line's ~333 tags): the ISA-95 path names the line.
        for (const line of this.lines) {
          const li = LINES.indexOf(line);
          const batch = [];
          for (let n = li; n < TAGS; n += LINES.length) {
            const machine = `m${String(n % MACHINES).padStart(2, '0')}`;
            batch.push({
              topic: `acme/plant1/${line}/${machine}/t${n}`,
              value: (n * 7 + this.tick) % 1000,
              ts,
            });
          }
          this.offered += batch.length;
          this.queue.push({ topic: `acme/plant1/${line}/data`, body: JSON.stringify(batch) });
        }
      }
      void this.drain();
    }, 1000 / HZ);
  }

  /** Publishes the queue in order, up to 64 in flight; a refused publish stays queued and is tried again. */
  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0 && this.conn.connected) {
        const chunk = this.queue.slice(0, 64);
        // A broker node that stops acknowledging (its store lost the quorum while a node was down) is left
        // for the next one: the publishes still waiting are sent again there.
        const all = Promise.allSettled(chunk.map((q) => this.conn.publish(q.topic, q.body, { qos: 1 })));
        while ((await within(all, 5000)) === undefined) this.conn.dropConnection('no PUBACK in 5 s');
        const results = await all;
        const ok = results.findIndex((r) => r.status === 'rejected');
        const done = ok < 0 ? chunk.length : ok;
        this.queue.splice(0, done);
        this.published += done;
        if (done < chunk.length) break;
      }
    } finally {
      this.sending = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await waitUntil(
      async () => {
        await this.drain();
        return this.queue.length === 0;
      },
      'the simulator to publish its queue',
      60000,
      100,
    );
  }
}

/** Samples stored for one site from t0 (to t1): per series (ignoring the box tag) and timestamp. */
async function stored(vmUrl: string, t0: number, t1?: number): Promise<{ distinct: number; total: number }> {
  await fetch(`${vmUrl}/internal/force_flush`).catch(() => undefined);
  const body = new URLSearchParams({
    'match[]': '{enterprise="acme",site="plant1"}',
    start: String(Math.floor(t0 / 1000) - 1),
    ...(t1 === undefined ? {} : { end: String(Math.ceil(t1 / 1000)) }),
  });
  const res = await fetch(`${vmUrl}/api/v1/export`, { method: 'POST', body });
  if (!res.ok) throw new Error(`export: HTTP ${res.status}`);
  const seen = new Set<string>();
  let total = 0;
  for (const line of (await res.text()).split('\n')) {
    if (!line) continue;
    const s = JSON.parse(line) as { metric: Record<string, string>; timestamps: number[] };
    const key = `${s.metric.__name__}|${s.metric.area}|${s.metric.line}`;
    for (const t of s.timestamps) {
      total++;
      seen.add(`${key}|${t}`);
    }
  }
  return { distinct: seen.size, total };
}

/** Progress on stderr (the table and the JSON line go to stdout at the end). */
const note = (text: string) =>
  process.stderr.write(`[fleet ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

async function main(): Promise<void> {
  // Stopped from outside: end the servers and boxes this bench started.
  const cleanups: (() => unknown)[] = [];
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const c of cleanups) c();
      process.exit(130);
    });
  }
  const flags = parseFlags();
  const seconds = numberFlag(flags, 'seconds', Number(process.env.FLEET_SECONDS ?? 300));
  const singleSeconds = numberFlag(flags, 'single-seconds', Math.min(30, Math.max(10, seconds / 10)));
  const root = mkdtempSync(join(tmpdir(), 'takt-fleet-'));
  const cluster = await startNatsCluster(3);
  cleanups.push(() => cluster.nodes.forEach((_, i) => cluster.kill(i)));
  note(`nats cluster up: ${cluster.urls.join(', ')}`);
  const vm = new VmProcess(join(root, 'vm'));
  await vm.start();
  cleanups.push(() => vm.proc?.kill('SIGKILL'));
  const boxes: BoxProc[] = [];
  cleanups.push(() => boxes.forEach((b) => b.proc.kill('SIGKILL')));
  const progress = setInterval(
    () => boxes.length && note(boxes.map((b) => `${b.name} ${b.exited ? 'down' : b.points}`).join(', ')),
    5000,
  );
  const rows: (string | number)[][] = [['phase', 'at s', 'event', 'offered', 'taken by the running boxes']];
  let publisher: MqttBrokerConnection | undefined;
  try {
    // Each box starts on a different node of the cluster (its URL list rotated).
    const urlsFor = (i: number) => [...cluster.urls.slice(i), ...cluster.urls.slice(0, i)].join(', ');
    const boxArgs = (i: number, lines: string[], bucket: string): BoxArgs => {
      const userDir = join(root, `box${i + 1}-${bucket}`);
      mkdirSync(userDir, { recursive: true });
      return {
        userDir,
        box: `box${i + 1}`,
        lines,
        brokerUrls: urlsFor(i),
        influxUrl: vm.url,
        bucket,
        lease: LEASE,
      };
    };
    publisher = new MqttBrokerConnection({
      url: cluster.urls.join(', '),
      clientId: 'plant-sim',
      cleanSession: false,
      reconnectInitialMs: 200,
      reconnectMaxMs: 1000,
    });
    publisher.register({});
    await waitUntil(() => publisher?.connected, 'the simulator to connect', 20000);

    // --- reference: one runtime does every line -------------------------------------------------------
    const single = await startBox({ ...boxArgs(0, LINES, 'single'), box: 'single' });
    note('reference runtime up');
    cleanups.push(() => single.proc.kill('SIGKILL'));
    const refProgress = setInterval(
      () => note(`single ${single.points} of ${sim0?.offered ?? 0} (pending ${single.pending})`),
      5000,
    );
    const ref0 = Date.UTC(2026, 0, 1);
    const sim0 = new Simulator(publisher, LINES, ref0);
    const s0 = Date.now();
    sim0.start();
    await new Promise((r) => setTimeout(r, singleSeconds * 1000));
    await sim0.stop();
    // Counted in the database, like the fleet's: the runtime's own count also counts redeliveries.
    const refStored = () => stored(vm.url, ref0, ref0 + 24 * 3600e3);
    const singleDb = await waitUntil(
      async () => {
        const db = await refStored();
        return db.distinct >= sim0.offered && db;
      },
      'the single runtime to store every sample',
      60000,
      1000,
    ).catch(() => refStored());
    clearInterval(refProgress);
    // Its rate over the time it was taking points (not the wait for any it never got).
    const singleRate = single.points / ((single.grewAt - s0) / 1000);
    const singleMissing = sim0.offered - singleDb.distinct;
    rows.push(['single', (single.grewAt - s0) / 1000, '1 runtime, 3 lines', sim0.offered, single.points]);
    single.proc.kill('SIGKILL');
    // Its kept session would collect every line's messages from now on: a clean connect ends it.
    const end = new MqttBrokerConnection({
      url: cluster.urls.join(', '),
      clientId: 'single',
      cleanSession: true,
    });
    end.register({});
    await waitUntil(() => end.connected, 'the reference session to end', 20000);
    await end.close();

    // --- the fleet: three boxes, one line each ---------------------------------------------------------
    const t0 = Date.UTC(2026, 1, 1);
    note(`reference: ${single.points} points, ${singleRate.toFixed(0)}/s`);
    for (let i = 0; i < 3; i++) boxes.push(await startBox(boxArgs(i, [LINES[i]], 'fleet')));
    note('three boxes up');
    await waitUntil(() => boxes.some((b) => b.holdEvents.at(-1)?.holds), 'a lease holder', 30000);
    const sim = new Simulator(publisher, LINES, t0);
    const start = Date.now();
    const at = () => (Date.now() - start) / 1000;
    const sumPoints = () => boxes.reduce((s, b) => s + b.points, 0);
    sim.start();
    const sleepUntil = (frac: number) =>
      new Promise((r) => setTimeout(r, Math.max(0, start + frac * seconds * 1000 - Date.now())));
    let kills = 0;
    let handoverS = NaN;

    await sleepUntil(0.25);
    cluster.kill(1);
    kills++;
    note('kill broker');
    rows.push(['fleet', at(), `SIGKILL broker ${cluster.nodes[1].name}`, sim.offered, sumPoints()]);

    await sleepUntil(0.4);
    const holder = await waitUntil(
      () => boxes.find((b) => b.holdEvents.at(-1)?.holds),
      'a box holding the lease',
      30000,
      50,
    ).catch((err: unknown) => {
      const ev = boxes.map(
        (b) => `${b.name}: ${JSON.stringify(b.holdEvents.map((e) => [e.holds, e.t - start]))}`,
      );
      throw new Error(`${String(err)}\n${ev.join('\n')}`);
    });
    const killAt = Date.now();
    holder.proc.kill('SIGKILL');
    kills++;
    rows.push(['fleet', at(), `SIGKILL ${holder.name} (lease holder)`, sim.offered, sumPoints()]);
    const next = await waitUntil(
      () =>
        boxes
          .filter((b) => b !== holder)
          .flatMap((b) => b.holdEvents.filter((e) => e.holds && e.t >= killAt).map((e) => ({ b, e })))[0],
      'another box to take the lease',
      30000,
      50,
    );
    handoverS = (next.e.t - killAt) / 1000;
    rows.push(['fleet', at(), `${next.b.name} holds the lease (${handoverS} s)`, sim.offered, sumPoints()]);

    await sleepUntil(0.6);
    await cluster.restart(1);
    rows.push(['fleet', at(), `broker ${cluster.nodes[1].name} back`, sim.offered, sumPoints()]);

    await sleepUntil(0.65);
    const idx = boxes.indexOf(holder);
    boxes[idx] = await startBox(holder.args);
    rows.push(['fleet', at(), `${holder.name} back (its kept session)`, sim.offered, sumPoints()]);

    await sleepUntil(1);
    await sim.stop();
    const runS = at();
    note(`simulator stopped: offered ${sim.offered}`);
    rows.push(['fleet', runS, 'simulator stops', sim.offered, sumPoints()]);

    // Drain: until the database holds every offered sample, or stops growing for 20 s.
    let last = -1;
    let lastChange = Date.now();
    let db = await stored(vm.url, t0);
    while (db.distinct < sim.offered && Date.now() - lastChange < 20000) {
      await new Promise((r) => setTimeout(r, 1000));
      db = await stored(vm.url, t0);
      if (db.total !== last) {
        last = db.total;
        lastChange = Date.now();
      }
    }
    rows.push(['fleet', at(), 'drained (stored, with copies)', sim.offered, db.total]);
    note('drained');
    printTable(rows);
    const lost = sim.offered - db.distinct;
    const perRuntime = db.distinct / 3 / runS;
    console.log(
      `\nfleet: ${seconds} s, 3 runtimes on a 3-node nats cluster; offered ${sim.offered}, stored ${db.distinct} distinct` +
        ` (${db.total} with copies), lost ${lost}, duplicates ${db.total - db.distinct}, handover ${handoverS} s` +
        `\nper runtime ${perRuntime.toFixed(0)} points/s (fleet) vs ${singleRate.toFixed(0)} points/s (one runtime, all lines, ${singleSeconds} s)` +
        ` — both driven by the offered ${TAGS * HZ} points/s; machine shared and loaded` +
        `\nreference phase: ${singleMissing} of ${sim0.offered} samples not stored 60 s after the simulator stopped` +
        ` (${singleDb.total - singleDb.distinct} duplicates)`,
    );
    finalLine({
      bench: 'fleet',
      runtimes: 3,
      brokers: 3,
      offered: sim.offered,
      stored: db.distinct,
      lost,
      duplicates: db.total - db.distinct,
      handoverS,
      kills,
      seconds,
      perRuntimePointsS: Math.round(perRuntime),
      singleRuntimePointsS: Math.round(singleRate),
      ratio: Number((perRuntime / singleRate).toFixed(3)),
      singleMissing,
    });
  } finally {
    clearInterval(progress);
    for (const b of boxes) b.proc.kill('SIGKILL');
    // Dropped first: a clean goodbye would wait for publishes a stalled node never acknowledges. Each step of
    // the cleanup gets at most 15 s, so a step that never ends cannot keep the bench from exiting after its
    // result is printed (one CI run hung past the test's 400 s); the ones that did not end are named.
    publisher?.dropConnection('bench over');
    for (const [what, step] of [
      ['the simulator connection', () => publisher?.close()],
      ['VictoriaMetrics', () => vm.stop()],
      ['the nats cluster', () => cluster.stop()],
    ] as const) {
      const ended = await within(
        Promise.resolve(step()).then(() => true),
        15000,
      );
      if (!ended) console.error(`fleet: stopping ${what} did not end within 15 s; left to the exit`);
    }
    rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
