/**
 * Soak test of the plant demo: the runtime `npm start` runs (flows/settings.js + flows/plant-demo.json) as
 * a child process at a high time factor, with seeded random faults, the approvals answered by this script
 * as an authenticated admin user (admin API), and the anomaly models retrained on a plant-time schedule
 * (the flow's "retrain models" inject, pressed through the admin API). A probe inside the runtime
 * (soak-probe.ts) samples RSS, heap (after a full collection) and event-loop delay every --interval seconds.
 * At the end: the slope of RSS and heap over the second half by least squares with its standard error and
 * the residual noise, the event-loop delay p99 over the second half, and the runtime's error count.
 *
 *   npm run soak -- --minutes 60 --time-factor 600 --seed 1
 *
 * Flags: --minutes (60), --time-factor (600), --seed (1), --faults-per-day (6), --interval (30 s),
 * --retrain-hours (24, plant hours between retrainings; 0 = never), --reject-share (0.2 of the
 * proposals are rejected, seeded), --no-gc (sample the heap without forcing a collection), --keep (keep
 * the runtime's userDir and log), --samples FILE (append every probe sample to FILE as a JSON line: memory by
 * V8 space over time; `node dist/bench/lib/soak-series.js FILE` prints it with the slope over each quarter, to
 * see whether a slope levels off), --runtime-flags=--jitless (extra Node/V8 flags for the
 * runtime only; with --jitless V8 compiles no machine code, so a growth that stays is data), --cpu-prof DIR (the runtime writes a V8 CPU profile into DIR when it
 * stops: `node dist/bench/lib/long-tasks.js` on it lists what held the event loop longest),
 * --heap-snapshots 8,16 (minutes after the start: the runtime writes a V8 heap snapshot after a full collection
 * at each, into --snapshot-dir, default a new temporary folder; `node dist/bench/lib/heap-diff.js A B` lists
 * what grew between two of them). The summary gives the slopes of external memory and ArrayBuffers too (memory
 * outside the JS heap: onnxruntime sessions, Buffers), so an RSS growth can be told from a heap one, and the heap
 * split by V8 space: the data spaces (old, new, large objects) apart from the code and trusted spaces, where V8
 * keeps compiled code, bytecode and their metadata; JIT warm-up shows in the latter and levels off.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finalLine, numberFlag, parseFlags, printTable, ROOT } from './lib/cli';
import { rng } from '../nodes/schedule/search';
import { freePort } from '../test/helpers/net';
import { MB, splitHeap, trendMB } from './lib/soak-series';
import type { LoopStats, ProbeSample, ProbeSnapshot } from './soak-probe';

const flags = parseFlags();
const minutes = numberFlag(flags, 'minutes', 60);
const timeFactor = numberFlag(flags, 'time-factor', 600);
/** Plant days the run covers. */
const plantDays = (minutes * timeFactor) / 1440;
const seed = numberFlag(flags, 'seed', 1);
const faultsPerDay = numberFlag(flags, 'faults-per-day', 6);
const intervalS = numberFlag(flags, 'interval', 30);
const retrainHours = numberFlag(flags, 'retrain-hours', 24);
const rejectShare = numberFlag(flags, 'reject-share', 0.2);
const forceGc = flags['no-gc'] === undefined;
const keep = flags.keep !== undefined;
// Extra V8/Node flags for the runtime, e.g. "--jitless" (no compiled code: tells JIT warm-up from data growth).
const runtimeFlags =
  typeof flags['runtime-flags'] === 'string' ? flags['runtime-flags'].split(/\s+/).filter(Boolean) : [];
const samplesFile = typeof flags.samples === 'string' ? flags.samples : undefined;
const cpuProf = typeof flags['cpu-prof'] === 'string' ? flags['cpu-prof'] : undefined;
const snapshotMinutes =
  typeof flags['heap-snapshots'] === 'string'
    ? flags['heap-snapshots'].split(',').map((x) => {
        const m = Number(x);
        if (!Number.isFinite(m) || m <= 0) throw new Error(`--heap-snapshots: "${x}" is not a minute`);
        return m;
      })
    : [];
const snapshotDir =
  typeof flags['snapshot-dir'] === 'string'
    ? flags['snapshot-dir']
    : snapshotMinutes.length
      ? mkdtempSync(join(tmpdir(), 'takt-soak-heap-'))
      : '';

interface FlowNode {
  id: string;
  type: string;
  name?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 22) {
    console.error(`soak: Node ${process.versions.node} is too old; run it with npm run soak (Node 24)`);
    process.exit(2);
  }
  const flow = JSON.parse(readFileSync(join(ROOT, 'flows', 'plant-demo.json'), 'utf8')) as FlowNode[];
  const approveNode = flow.find((n) => n.type === 'takt-approve');
  const retrainNode = flow.find((n) => n.type === 'inject' && n.name === 'retrain models');
  const simNode = flow.find((n) => n.type === 'takt-sim');
  if (!approveNode || !retrainNode || !simNode)
    throw new Error('flows/plant-demo.json needs a takt-approve, a takt-sim and a "retrain models" inject');

  const userDir = mkdtempSync(join(tmpdir(), 'takt-soak-'));
  const password = randomBytes(12).toString('hex');
  // bcryptjs is a dev dependency (npm run hash-pw uses it too).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bcrypt = require('bcryptjs') as { hashSync(pw: string, rounds: number): string };
  const [port, opcuaPort, mqttPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    TAKT_HOST: '127.0.0.1',
    TAKT_USER_DIR: userDir,
    TAKT_FLOW_FILE: '',
    TAKT_ADMIN_USER: 'soak',
    TAKT_ADMIN_PASSWORD: bcrypt.hashSync(password, 8),
    TAKT_OPCUA_PORT: String(opcuaPort),
    TAKT_MQTT_PORT: String(mqttPort),
    MQTT_URL: '',
    TAKT_SIM_TIME_FACTOR: String(timeFactor),
    TAKT_SIM_SEED: String(seed),
    TAKT_SIM_FAULTS_PER_DAY: String(faultsPerDay),
    TAKT_SOAK_INTERVAL_MS: String(intervalS * 1000),
  };
  delete env.TAKT_HTTP_PASSWORD;
  const nodeArgs = [
    ...runtimeFlags,
    ...(forceGc ? ['--expose-gc'] : []),
    ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`] : []),
    '--require',
    join(ROOT, 'dist', 'bench', 'soak-probe.js'),
    require.resolve('node-red/red.js'),
    '-s',
    join(ROOT, 'flows', 'settings.js'),
  ];
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // The reference, measured alongside: a bare Node process with the same probe and nothing else to do. Its
  // event-loop delay is what this (shared, loaded) machine's scheduling alone costs.
  const idle = spawn(
    process.execPath,
    [
      ...(forceGc ? ['--expose-gc'] : []),
      '--require',
      join(ROOT, 'dist', 'bench', 'soak-probe.js'),
      '-e',
      'setInterval(() => {}, 60000)',
    ],
    { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  let idleLast: ProbeSample | undefined;
  idle.on('message', (m: ProbeSample) => {
    if (m?.type === 'sample') idleLast = m;
  });
  const logLines: string[] = [];
  const errors: string[] = [];
  let warnings = 0;
  const warningLines: string[] = [];
  let started = false;
  let partial = '';
  const onData = (d: Buffer) => {
    const text = partial + d.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      logLines.push(line);
      if (/\[error\]/.test(line) || /^(Uncaught|Error:|TypeError|RangeError)/.test(line)) errors.push(line);
      else if (/\[warn\]/.test(line) && ++warnings <= 10) warningLines.push(line);
      if (/Started flows/.test(line)) started = true;
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : 0);
      resolve();
    }),
  );
  const samples: (ProbeSample & { elapsedS: number })[] = [];
  let t0 = 0;

  const base = `http://127.0.0.1:${port}`;
  let token = '';
  const api = async (method: string, path: string, body?: object): Promise<unknown> => {
    const res = await fetch(base + path, {
      method,
      headers: {
        Accept: 'application/json',
        Authorization: `Bearer ${token}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    // Node-RED's inject endpoint answers with plain text ("OK").
    return /json/.test(res.headers.get('content-type') ?? '') ? (JSON.parse(text) as unknown) : text;
  };

  console.log(
    `soak: ${minutes} min at ${timeFactor}x (~${plantDays.toFixed(1)} plant days), ` +
      `seed ${seed}, ${faultsPerDay} random faults per plant day, retrain every ${retrainHours} plant h, ` +
      `sample every ${intervalS} s${forceGc ? ' (heap after a forced full GC)' : ''}` +
      `${runtimeFlags.length ? `; runtime flags ${runtimeFlags.join(' ')}` : ''}; userDir ${userDir}`,
  );
  const startDeadline = Date.now() + 120000;
  while (!started) {
    if (exitCode !== undefined) throw new Error(`Node-RED exited at start:\n${logLines.join('\n')}`);
    if (Date.now() > startDeadline) throw new Error(`Node-RED did not start:\n${logLines.join('\n')}`);
    await sleep(200);
  }
  t0 = Date.now();
  const tok = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      client_id: 'node-red-admin',
      grant_type: 'password',
      scope: '*',
      username: 'soak',
      password,
    }),
  });
  if (!tok.ok) throw new Error(`admin login failed: HTTP ${tok.status}`);
  token = ((await tok.json()) as { access_token: string }).access_token;

  const endAt = t0 + minutes * 60000;
  const halfAt = t0 + (minutes * 60000) / 2;
  let marked = false;
  const rows: (string | number)[][] = [];
  const header = [
    'min',
    'plant d',
    'RSS MB',
    'heap MB',
    'loop p50',
    'p99',
    'max ms',
    'errors',
    'appr',
    'rej',
    'retrain',
  ];
  let approved = 0;
  let rejected = 0;
  let retrains = 0;
  let apiErrors = 0;
  const choose = rng(seed); // mulberry32: the seeded choice of which proposals to reject
  const snapshots: string[] = [];
  child.on('message', (m: ProbeSample | ProbeSnapshot) => {
    if (m?.type === 'snapshot') {
      snapshots.push(m.file);
      console.log(`heap snapshot ${m.file} (${(m.ms / 1000).toFixed(1)} s)`);
      return;
    }
    if (m?.type !== 'sample') return;
    const elapsedS = (m.t - t0) / 1000;
    samples.push({ ...m, elapsedS });
    if (samplesFile) appendFileSync(samplesFile, JSON.stringify({ ...m, elapsedS }) + '\n');
    const row = [
      (elapsedS / 60).toFixed(1),
      ((elapsedS * timeFactor) / 86400).toFixed(2),
      (m.rss / MB).toFixed(1),
      (m.heapUsed / MB).toFixed(1),
      m.loop.p50.toFixed(1),
      m.loop.p99.toFixed(1),
      m.loop.max.toFixed(0),
      errors.length,
      approved,
      rejected,
      retrains,
    ];
    if (rows.length % 20 === 0) printTable([header, row]);
    else printTable([header.map((h) => ' '.repeat(h.length)), row].slice(1));
    rows.push(row);
  });

  const retrainEveryMs = retrainHours > 0 ? (retrainHours * 3600000) / timeFactor : Infinity;
  let nextRetrain = t0 + retrainEveryMs;
  const snapshotAt = snapshotMinutes.map((m) => t0 + m * 60000).sort((a, b) => a - b);
  while (Date.now() < endAt && exitCode === undefined) {
    while (snapshotAt.length && Date.now() >= snapshotAt[0]) {
      const at = snapshotAt.shift() ?? 0;
      child.send({
        type: 'snapshot',
        file: join(snapshotDir, `soak-${((at - t0) / 60000).toFixed(0)}min.heapsnapshot`),
      });
    }
    try {
      const pending = (await api('GET', `/takt-approve/${approveNode.id}/pending`)) as { id: string }[];
      for (const p of pending) {
        const decision = choose() < rejectShare ? 'reject' : 'approve';
        await api('POST', `/takt-approve/${approveNode.id}/decide`, {
          approvalId: p.id,
          decision,
          comment: 'soak test',
        });
        if (decision === 'approve') approved++;
        else rejected++;
      }
      if (Date.now() >= nextRetrain) {
        await api('POST', `/inject/${retrainNode.id}`);
        retrains++;
        nextRetrain += retrainEveryMs;
      }
    } catch (err) {
      apiErrors++;
      if (apiErrors <= 5) console.error(`soak: admin API: ${(err as Error).message}`);
    }
    if (!marked && Date.now() >= halfAt) {
      child.send({ type: 'mark' });
      idle.send({ type: 'mark' });
      marked = true;
    }
    await sleep(Math.min(5000, Math.max(0, endAt - Date.now())));
  }
  const crashed = exitCode !== undefined;
  idle.kill('SIGTERM');
  if (!crashed) {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20000);
    await exited;
    clearTimeout(killer);
  }

  // What the simulator did, from its ground-truth log (written where the faults start and end).
  let faultsStarted = 0;
  const ended: Record<string, number> = {};
  try {
    const dir = join(userDir, 'takt', 'sim');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('-ground-truth.jsonl')))
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        if (!line) continue;
        const e = JSON.parse(line) as { event?: string; endReason?: string };
        if (e.event === 'start') faultsStarted++;
        if (e.event === 'end') ended[e.endReason ?? 'other'] = (ended[e.endReason ?? 'other'] ?? 0) + 1;
      }
  } catch {
    // no ground truth written: reported as 0
  }

  const second = samples.filter((s) => s.elapsedS >= (minutes * 60) / 2);
  const first = samples.filter((s) => s.elapsedS < (minutes * 60) / 2 && s.elapsedS >= (minutes * 60) / 10);
  const last = samples.at(-1);
  const rss = trendMB(second, (s) => s.rss);
  const heap = trendMB(second, (s) => s.heapUsed);
  const external = trendMB(second, (s) => s.external);
  const arrayBuffers = trendMB(second, (s) => s.arrayBuffers);
  // worker threads' V8 heaps (in RSS, not in the heap figures above): the probe sums them per sample
  const workerHeaps = trendMB(second, (s) => s.workers?.heapTotal ?? 0);
  const lastWorkers = samples.at(-1)?.workers;
  const rss1 = trendMB(first, (s) => s.rss);
  const heap1 = trendMB(first, (s) => s.heapUsed);
  // The heap by V8 space. Compiled code lives in the code spaces (machine code) and the trusted spaces
  // (bytecode, deoptimisation data and code metadata); everything else is the program's data.
  const spaceNames = [...new Set(samples.flatMap((s) => Object.keys(s.spaces ?? {})))];
  const spaceSum = (s: ProbeSample, keep: (space: string) => boolean) =>
    Object.entries(s.spaces ?? {}).reduce((a, [k, v]) => (keep(k) ? a + v : a), 0);
  const heapData = trendMB(second, (s) => splitHeap(s).data);
  const heapData1 = trendMB(first, (s) => splitHeap(s).data);
  const compiled = trendMB(second, (s) => splitHeap(s).compiled);
  const compiled1 = trendMB(first, (s) => splitHeap(s).compiled);
  const codeSpace = trendMB(second, (s) => spaceSum(s, (k) => k.includes('code')));
  const trustedSpace = trendMB(second, (s) => spaceSum(s, (k) => k.includes('trusted')));
  const v8Code = trendMB(second, (s) => s.code?.codeAndMetadata ?? 0);
  const v8Code1 = trendMB(first, (s) => s.code?.codeAndMetadata ?? 0);
  const v8Bytecode = trendMB(second, (s) => s.code?.bytecodeAndMetadata ?? 0);
  const v8Bytecode1 = trendMB(first, (s) => s.code?.bytecodeAndMetadata ?? 0);
  const bySpace = spaceNames
    .filter((k) => samples.some((s) => (s.spaces?.[k] ?? 0) > 0))
    .map((k) => ({
      space: k,
      second: trendMB(second, (s) => s.spaces?.[k] ?? 0),
      first: trendMB(first, (s) => s.spaces?.[k] ?? 0),
      lastBytes: last?.spaces?.[k] ?? 0,
    }));
  const loop: LoopStats = last?.loopSinceMark ?? { p50: 0, p99: 0, max: 0, mean: 0 };
  const idleLoop: LoopStats = idleLast?.loopSinceMark ?? { p50: 0, p99: 0, max: 0, mean: 0 };
  const halfHours = minutes / 120;
  const r = (x: number, d = 2) => Number(x.toFixed(d));
  // "Beyond noise": the fitted growth over the second half exceeds two standard errors of the fit.
  const beyond = (t: typeof rss) => t.n > 2 && t.slope > 2 * t.slopeSe;

  // a table row: the second half's slope, ± 2 SE, growth over the half, residual SD, then the first half's slope
  // and the last sample's MB where the table has them
  type Trend = typeof rss;
  const row = (name: string, t: Trend, t1?: Trend, lastBytes?: number) => [
    name,
    t.slope,
    2 * t.slopeSe,
    t.slope * halfHours,
    t.residualSd,
    t1 ? t1.slope : '',
    ...(lastBytes === undefined ? [] : [(lastBytes / MB).toFixed(1)]),
  ];
  console.log('');
  printTable([
    ['second half', 'slope MB/h', '± 2 SE', 'growth over half MB', 'residual SD MB', 'first-half slope MB/h'],
    row('RSS', rss, rss1),
    row('heap used', heap, heap1),
    row('external', external),
    row('arrayBuffers', arrayBuffers),
  ]);
  console.log('');
  printTable([
    [
      'heap by V8 space',
      'slope MB/h',
      '± 2 SE',
      'growth over half MB',
      'residual SD MB',
      'first-half slope MB/h',
      'last MB',
    ],
    ...bySpace.map((b) => row(b.space, b.second, b.first, b.lastBytes)),
    row('data (not code/trusted)', heapData, heapData1, last ? splitHeap(last).data : 0),
    row('code + trusted spaces', compiled, compiled1, last ? splitHeap(last).compiled : 0),
    row('V8 machine code + meta', v8Code, v8Code1, last?.code?.codeAndMetadata ?? 0),
    row('V8 bytecode + meta', v8Bytecode, v8Bytecode1, last?.code?.bytecodeAndMetadata ?? 0),
  ]);
  if (snapshots.length) console.log(`heap snapshots: ${snapshots.join(' ')}`);
  console.log(
    `event-loop delay over the second half: p50 ${loop.p50} ms, p99 ${loop.p99} ms, max ${loop.max} ms; ` +
      `a bare Node process alongside: p50 ${idleLoop.p50} ms, p99 ${idleLoop.p99} ms, max ${idleLoop.max} ms; ` +
      `errors ${errors.length}, warnings ${warnings}, admin API errors ${apiErrors}; ` +
      `faults started ${faultsStarted} (ended: ${JSON.stringify(ended)}); proposals approved ${approved}, ` +
      `rejected ${rejected}; retrainings ${retrains}${crashed ? `; THE RUNTIME EXITED (code ${exitCode})` : ''}`,
  );
  for (const e of errors.slice(0, 10)) console.log(`  ${e}`);
  for (const w of warningLines) console.log(`  ${w}`);
  if (keep || crashed || errors.length) {
    writeFileSync(join(userDir, 'soak.log'), logLines.join('\n'));
    console.log(`runtime log: ${join(userDir, 'soak.log')}`);
  } else rmSync(userDir, { recursive: true, force: true });

  finalLine({
    bench: 'soak',
    minutes,
    timeFactor,
    plantDays: r(plantDays, 1),
    seed,
    faultsPerDay,
    samples: samples.length,
    errors: errors.length + (crashed ? 1 : 0),
    warnings,
    crashed,
    rssSlopeMBPerHour: r(rss.slope),
    rssSlopeSeMBPerHour: r(rss.slopeSe),
    rssResidualSdMB: r(rss.residualSd),
    heapSlopeMBPerHour: r(heap.slope),
    heapSlopeSeMBPerHour: r(heap.slopeSe),
    heapResidualSdMB: r(heap.residualSd),
    externalSlopeMBPerHour: r(external.slope),
    externalSlopeSeMBPerHour: r(external.slopeSe),
    arrayBuffersSlopeMBPerHour: r(arrayBuffers.slope),
    arrayBuffersSlopeSeMBPerHour: r(arrayBuffers.slopeSe),
    workerHeapsSlopeMBPerHour: r(workerHeaps.slope),
    workerHeapsSlopeSeMBPerHour: r(workerHeaps.slopeSe),
    workerHeapsMBLast: r((lastWorkers?.heapTotal ?? 0) / MB),
    // worker threads the runtime started (schedule searches, training jobs, the kept ones), per plant day
    workerThreadsStarted: lastWorkers?.started ?? null,
    workerThreadsPerPlantDay: lastWorkers && plantDays > 0 ? r(lastWorkers.started / plantDays, 1) : null,
    workerThreadsByScript: lastWorkers?.byScript ?? null,
    rssGrowthBeyondNoise: beyond(rss),
    heapGrowthBeyondNoise: beyond(heap),
    // The heap split by V8 space: data = every space but the code and trusted ones (compiled code, bytecode).
    heapDataSlopeMBPerHour: r(heapData.slope),
    heapDataSlopeSeMBPerHour: r(heapData.slopeSe),
    heapDataResidualSdMB: r(heapData.residualSd),
    heapDataGrowthBeyondNoise: beyond(heapData),
    codeSpaceSlopeMBPerHour: r(codeSpace.slope),
    codeSpaceSlopeSeMBPerHour: r(codeSpace.slopeSe),
    trustedSpaceSlopeMBPerHour: r(trustedSpace.slope),
    trustedSpaceSlopeSeMBPerHour: r(trustedSpace.slopeSe),
    compiledSlopeMBPerHour: r(compiled.slope),
    compiledSlopeSeMBPerHour: r(compiled.slopeSe),
    compiledGrowthBeyondNoise: beyond(compiled),
    v8CodeSlopeMBPerHour: r(v8Code.slope),
    v8BytecodeSlopeMBPerHour: r(v8Bytecode.slope),
    spaceSlopesMBPerHour: Object.fromEntries(bySpace.map((b) => [b.space, r(b.second.slope, 3)])),
    loopDelayP99Ms: r(loop.p99),
    loopDelayMaxMs: r(loop.max),
    // Reference: the same probe in a bare Node process on the same machine over the same half.
    idleLoopDelayP99Ms: r(idleLoop.p99),
    loopDelayP99Ratio: idleLoop.p99 > 0 ? r(loop.p99 / idleLoop.p99) : null,
    rssMBFirst: r((samples[0]?.rss ?? 0) / MB, 1),
    rssMBLast: r((last?.rss ?? 0) / MB, 1),
    heapMBLast: r((last?.heapUsed ?? 0) / MB, 1),
    // Reference from the same run: the slopes over the first half (after a 10% warm-up), while caches fill.
    rssFirstHalfSlopeMBPerHour: r(rss1.slope),
    heapFirstHalfSlopeMBPerHour: r(heap1.slope),
    heapDataFirstHalfSlopeMBPerHour: r(heapData1.slope),
    compiledFirstHalfSlopeMBPerHour: r(compiled1.slope),
    faultsStarted,
    faultsCleared: ended.cleared ?? 0,
    faultsFailed: ended.failure ?? 0,
    approved,
    rejected,
    retrains,
    heapAfterGc: forceGc,
    runtimeFlags: runtimeFlags.join(' '),
  });
  process.exit(errors.length || crashed ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(`soak: ${(err as Error).stack ?? String(err)}`);
  process.exit(2);
});
