/**
 * bench:spc — (1) agreement with qcc's conventions on fresh random cases: every plotted statistic and limit
 * of the engine against a plain batch calculation written here from qcc's formulas and published d2/d3
 * tables (statistics within 1e-9 relative, limits within 0.05%), with the default constants ('table') and
 * with `constants: 'exact'`, plus the run rules 3, 5 and 6 against a batch check of full windows on the
 * plotted statistic; (2) the SPC engine's samples per second for every chart, streaming against frozen
 * limits, at two run lengths to show the per-sample cost stays constant; (3) takt-spc inside a real
 * Node-RED runtime beside a pass-through node (a change node with no rules) over the same messages in the
 * same run.
 *
 *   npm run bench:spc -- [--samples 200000] [--messages 100000] [--rounds 3] [--cases 165] [--seed 26]
 */
import * as spc from '../nodes/spc';
import { cpuMs, finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import { startEmbedded } from './lib/runtime';

const flags = parseFlags();
const SAMPLES = numberFlag(flags, 'samples', 200000);
const MESSAGES = numberFlag(flags, 'messages', 100000);
const ROUNDS = numberFlag(flags, 'rounds', 3);
const CASES = numberFlag(flags, 'cases', 165);
const SEED = numberFlag(flags, 'seed', 26);

/** Deterministic normal deviates (LCG + Box-Muller): the same data every run. */
function normals(count: number, seed = 1): Float64Array {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

type Gen = (i: number) => { obs: number | number[]; size?: number };

function generators(z: Float64Array): Record<spc.BuiltinChartType, Gen> {
  const at = (i: number) => z[i % z.length];
  const sub = (i: number) => [0, 1, 2, 3, 4].map((k) => 10 + at(i * 5 + k));
  const vec = (i: number) => [0, 1, 2, 3].map((k) => 10 + at(i * 4 + k) + 0.5 * at(i * 4));
  const count = (i: number, mean: number) => Math.max(0, Math.round(mean + Math.sqrt(mean) * at(i)));
  return {
    'xbar-r': (i) => ({ obs: sub(i) }),
    'xbar-s': (i) => ({ obs: sub(i) }),
    imr: (i) => ({ obs: 10 + at(i) }),
    p: (i) => ({ obs: Math.min(100, count(i, 10)), size: 100 }),
    np: (i) => ({ obs: Math.min(100, count(i, 10)), size: 100 }),
    c: (i) => ({ obs: count(i, 20) }),
    u: (i) => ({ obs: count(i, 20), size: 5 }),
    ewma: (i) => ({ obs: 10 + at(i) }),
    cusum: (i) => ({ obs: 10 + at(i) }),
    t2: (i) => ({ obs: vec(i) }),
    mewma: (i) => ({ obs: vec(i) }),
  };
}

function engineBench(): { rows: (string | number)[][]; perChart: Record<string, number> } {
  const z = normals(1 << 20);
  const gens = generators(z);
  const rows: (string | number)[][] = [['chart', 'samples/s', 'ns/sample, first 10%', 'ns/sample, last 10%']];
  const perChart: Record<string, number> = {};
  for (const type of spc.CHART_TYPES) {
    const g = gens[type];
    const phase1 = Array.from({ length: 100 }, (_, i) => g(i));
    const needsSizes = type === 'p' || type === 'np' || type === 'u';
    const r = spc.chart({
      type,
      data: phase1.map((s) => s.obs) as number[] | number[][],
      ...(needsSizes ? { sizes: phase1.map((s) => s.size as number) } : {}),
    });
    const inputs = Array.from({ length: SAMPLES }, (_, i) => g(i + 100));
    const block = Math.max(1, Math.floor(SAMPLES / 10));
    // One long stream, timed in blocks: the cost per sample of the first and of the last tenth shows that
    // it does not grow with the length of the stream (constant time per sample).
    const time = () => {
      const stream = new spc.ChartStream(r.params);
      const blocks: number[] = [];
      let sink = 0;
      for (let b = 0; b * block < SAMPLES; b++) {
        const t0 = performance.now();
        const end = Math.min(SAMPLES, (b + 1) * block);
        for (let i = b * block; i < end; i++) sink += stream.push(inputs[i].obs, inputs[i].size).point.stat;
        blocks.push(((performance.now() - t0) * 1e6) / (end - b * block));
      }
      if (!Number.isFinite(sink)) throw new Error('bad statistic');
      return blocks;
    };
    time(); // warm-up: JIT
    const runs = [time(), time(), time()];
    const best = (k: number) => Math.min(...runs.map((bl) => bl[k]));
    const nBlocks = runs[0].length;
    const total = Math.min(...runs.map((bl) => bl.reduce((a, v) => a + v, 0) / bl.length));
    const first = best(0);
    const last = best(nBlocks - 1);
    perChart[type] = Math.round(1e9 / total);
    rows.push([type, perChart[type], first, last]);
  }
  return { rows, perChart };
}

async function nodeBench() {
  const rt = await startEmbedded(['end-s', 'end-p']);
  const flows = [
    { id: 'tab', type: 'tab', label: 'bench' },
    {
      id: 'spc',
      z: 'tab',
      type: 'takt-spc',
      chartType: 'imr',
      phaseOne: 100,
      rules: 'nelson',
      wires: [['end-s'], [], []],
    },
    { id: 'end-s', z: 'tab', type: 'junction', wires: [] },
    { id: 'pass', z: 'tab', type: 'change', rules: [], wires: [['end-p']] },
    { id: 'end-p', z: 'tab', type: 'junction', wires: [] },
  ];
  await rt.deploy(flows);
  const z = normals(1 << 16, 7);
  const message = (i: number) => ({
    topic: 'line1/grinder/bore',
    payload: 10 + z[i % z.length],
    ts: 1764144000000 + i,
  });
  const run = async (entry: string, exit: string, n: number) => {
    rt.reset();
    const node = rt.RED.nodes.getNode(entry)!;
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      node.receive(message(i));
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    while ((rt.received.get(exit) ?? 0) < n) await new Promise((r) => setImmediate(r));
    return { ms: performance.now() - t0, cpu: cpuMs() - c0 };
  };
  await run('spc', 'end-s', 100); // phase I: the limits freeze
  await run('spc', 'end-s', Math.min(MESSAGES, 20000)); // warm-up
  await run('pass', 'end-p', Math.min(MESSAGES, 20000));
  const rows: (string | number)[][] = [['round', 'spc msg/s', 'pass msg/s', 'spc cpu/1k', 'pass cpu/1k']];
  let sTot = 0;
  let pTot = 0;
  const cpuRatios: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const s = await run('spc', 'end-s', MESSAGES);
    const p = await run('pass', 'end-p', MESSAGES);
    sTot += s.ms;
    pTot += p.ms;
    cpuRatios.push(s.cpu / p.cpu);
    rows.push([
      r,
      (MESSAGES / s.ms) * 1000,
      (MESSAGES / p.ms) * 1000,
      (s.cpu / MESSAGES) * 1000,
      (p.cpu / MESSAGES) * 1000,
    ]);
  }
  await rt.stop();
  return {
    rows,
    msgPerS: Math.round((MESSAGES * ROUNDS * 1000) / sTot),
    passMsgPerS: Math.round((MESSAGES * ROUNDS * 1000) / pTot),
    ratio: Number((pTot / sTot).toFixed(3)),
    cpuRatioMedian: Number(cpuRatios.sort((a, b) => a - b)[Math.floor(cpuRatios.length / 2)].toFixed(3)),
  };
}

// ---------------------------------------------------------------- agreement with qcc's conventions

/**
 * The reference: each chart computed in one batch pass from qcc's formulas (sd.xbar "UWAVE-R" and
 * "UWAVE-SD", sd.xbar.one "MR", limits.R with se.R.unscaled, limits.S, limits.p/np/c/u, ewma(), cusum())
 * and the published tables, independently of the engine's streaming code. d2 and d3 are qcc's
 * exp.R.unscaled and se.R.unscaled (the test suite checks the engine's copy against qcc's source and the
 * exact integrals); c4 is the closed form in both.
 */
interface Ref {
  stat: number[];
  lcl: number[];
  ucl: number[];
  /** R, S or MR chart (MR from the second point), or the lower CUSUM sum in `stat2`. */
  stat2?: number[];
  lcl2?: number[];
  ucl2?: number[];
}

const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rangeOf = (g: readonly number[]) => Math.max(...g) - Math.min(...g);
const sdOf = (g: readonly number[]) => {
  const m = avg(g);
  return Math.sqrt(g.reduce((a, v) => a + (v - m) ** 2, 0) / (g.length - 1));
};
const T2 = (n: number) => spc.QCC_D2[n];
const T3 = (n: number) => spc.QCC_D3[n];

function refXbar(groups: number[][], kind: 'R' | 'S'): Ref {
  const n = groups.map((g) => g.length);
  const N = n.reduce((a, b) => a + b, 0);
  const xbar = groups.map(avg);
  const center = xbar.reduce((a, x, i) => a + n[i] * x, 0) / N;
  const sec = groups.map(kind === 'R' ? rangeOf : sdOf);
  const sigma = avg(sec.map((v, i) => v / (kind === 'R' ? T2(n[i]) : spc.c4(n[i]))));
  const c2 = sec.reduce((a, v, i) => a + n[i] * v, 0) / N;
  const se2 = n.map((k) => (kind === 'R' ? T3(k) : Math.sqrt(1 - spc.c4(k) ** 2)) * sigma);
  return {
    stat: xbar,
    lcl: n.map((k) => center - (3 * sigma) / Math.sqrt(k)),
    ucl: n.map((k) => center + (3 * sigma) / Math.sqrt(k)),
    stat2: sec,
    lcl2: se2.map((e) => Math.max(0, c2 - 3 * e)),
    ucl2: se2.map((e) => c2 + 3 * e),
  };
}

function refImr(x: number[]): Ref {
  const center = avg(x);
  const mr = x.slice(1).map((v, i) => Math.abs(v - x[i]));
  const mrbar = avg(mr);
  const sigma = mrbar / T2(2);
  return {
    stat: x,
    lcl: x.map(() => center - 3 * sigma),
    ucl: x.map(() => center + 3 * sigma),
    stat2: mr,
    lcl2: mr.map(() => Math.max(0, mrbar - 3 * T3(2) * sigma)),
    ucl2: mr.map(() => mrbar + 3 * T3(2) * sigma),
  };
}

/** Sample means and sigma of an EWMA/CUSUM input as qcc takes them (MR for individuals, UWAVE-R else). */
function meansAndSigma(data: number[] | number[][]): {
  m: number[];
  n: number[];
  center: number;
  sigma: number;
} {
  if (typeof data[0] === 'number') {
    const x = data as number[];
    const mrbar = avg(x.slice(1).map((v, i) => Math.abs(v - x[i])));
    return { m: x, n: x.map(() => 1), center: avg(x), sigma: mrbar / T2(2) };
  }
  const g = data as number[][];
  const n = g.map((s) => s.length);
  const m = g.map(avg);
  const center = m.reduce((a, v, i) => a + n[i] * v, 0) / n.reduce((a, b) => a + b, 0);
  return { m, n, center, sigma: avg(g.map((s) => rangeOf(s) / T2(s.length))) };
}

function refEwma(data: number[] | number[][], lambda: number): Ref {
  const { m, n, center, sigma } = meansAndSigma(data);
  let z = center;
  const stat = m.map((v) => (z = lambda * v + (1 - lambda) * z));
  const half = m.map(
    (_, t) =>
      (3 * sigma * Math.sqrt((lambda / (2 - lambda)) * (1 - (1 - lambda) ** (2 * (t + 1))))) /
      Math.sqrt(n[t]),
  );
  return { stat, lcl: half.map((h) => center - h), ucl: half.map((h) => center + h) };
}

function refCusum(data: number[] | number[][], headStart: number): Ref {
  const { m, n, center, sigma } = meansAndSigma(data);
  let pos = headStart;
  let neg = headStart;
  const up: number[] = [];
  const lo: number[] = [];
  m.forEach((v, i) => {
    const z = (v - center) / (sigma / Math.sqrt(n[i]));
    pos = Math.max(0, pos + z - 0.5);
    neg = Math.max(0, neg - z - 0.5);
    up.push(pos);
    lo.push(neg === 0 ? 0 : -neg);
  });
  return { stat: up, lcl: m.map(() => -5), ucl: m.map(() => 5), stat2: lo };
}

function refAttr(type: 'p' | 'np' | 'c' | 'u', x: number[], n: number[]): Ref {
  const rate = x.reduce((a, b) => a + b, 0) / n.reduce((a, b) => a + b, 0);
  const stat = type === 'p' || type === 'u' ? x.map((v, i) => v / n[i]) : x;
  const lcl: number[] = [];
  const ucl: number[] = [];
  n.forEach((k) => {
    if (type === 'p') {
      const h = 3 * Math.sqrt((rate * (1 - rate)) / k);
      lcl.push(Math.max(0, rate - h));
      ucl.push(Math.min(1, rate + h));
    } else if (type === 'np') {
      const h = 3 * Math.sqrt(k * rate * (1 - rate));
      lcl.push(Math.max(0, k * rate - h));
      ucl.push(Math.min(k, k * rate + h));
    } else if (type === 'c') {
      const c = avg(x);
      lcl.push(Math.max(0, c - 3 * Math.sqrt(c)));
      ucl.push(c + 3 * Math.sqrt(c));
    } else {
      const h = 3 * Math.sqrt(rate / k);
      lcl.push(Math.max(0, rate - h));
      ucl.push(rate + h);
    }
  });
  return { stat, lcl, ucl };
}

interface Case {
  family: string;
  opts: spc.ChartOptions;
  ref: Ref;
}

function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}

/** Fresh random cases, one family after another (a random mean, sigma, length and sizes each). */
function qccCases(count: number, seed: number): Case[] {
  const u = uniform(seed);
  const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const int = (lo: number, hi: number) => lo + Math.floor(u() * (hi - lo + 1));
  const poisson = (mean: number) => Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
  const level = () => ({ mu: 10 + 90 * u(), sd: 0.05 + 2 * u() });
  const obs = (m: number) => {
    const { mu, sd } = level();
    return Array.from({ length: m }, () => mu + sd * normal());
  };
  const subgroups = (m: number, lo: number, hi: number) => {
    const { mu, sd } = level();
    return Array.from({ length: m }, () => Array.from({ length: int(lo, hi) }, () => mu + sd * normal()));
  };
  const families: ((m: number) => Case)[] = [
    (m) =>
      ((g) => ({ family: 'X-bar R, n = 5', opts: { type: 'xbar-r', data: g }, ref: refXbar(g, 'R') }))(
        subgroups(m, 5, 5),
      ),
    (m) =>
      ((g) => ({ family: 'X-bar R, n = 2-10', opts: { type: 'xbar-r', data: g }, ref: refXbar(g, 'R') }))(
        subgroups(m, 2, 10),
      ),
    (m) =>
      ((g) => ({ family: 'X-bar R, n = 7-12', opts: { type: 'xbar-r', data: g }, ref: refXbar(g, 'R') }))(
        subgroups(m, 7, 12),
      ),
    (m) =>
      ((g) => ({ family: 'X-bar S, n = 2-10', opts: { type: 'xbar-s', data: g }, ref: refXbar(g, 'S') }))(
        subgroups(m, 2, 10),
      ),
    (m) => ((x) => ({ family: 'I-MR', opts: { type: 'imr', data: x }, ref: refImr(x) }))(obs(m)),
    (m) =>
      ((x) => ({ family: 'EWMA, individuals', opts: { type: 'ewma', data: x }, ref: refEwma(x, 0.2) }))(
        obs(m),
      ),
    (m) =>
      ((g) => ({
        family: 'EWMA, n = 4',
        opts: { type: 'ewma', data: g, lambda: 0.1 },
        ref: refEwma(g, 0.1),
      }))(subgroups(m, 4, 4)),
    (m) =>
      ((x) => ({ family: 'CUSUM, individuals', opts: { type: 'cusum', data: x }, ref: refCusum(x, 0) }))(
        obs(m),
      ),
    (m) =>
      ((g) => ({ family: 'CUSUM, n = 5', opts: { type: 'cusum', data: g }, ref: refCusum(g, 0) }))(
        subgroups(m, 5, 5),
      ),
    (m) =>
      ((x) => ({
        family: 'CUSUM, head start 2',
        opts: { type: 'cusum', data: x, headStart: 2 },
        ref: refCusum(x, 2),
      }))(obs(m)),
    (m) => {
      const n = Array.from({ length: m }, () => int(50, 400));
      const p = 0.02 + 0.2 * u();
      const x = n.map((k) => Math.min(k, poisson(k * p)));
      return { family: 'p, unequal sizes', opts: { type: 'p', data: x, sizes: n }, ref: refAttr('p', x, n) };
    },
    (m) => {
      const k = int(50, 300);
      const n = Array.from({ length: m }, () => k);
      const p = 0.02 + 0.2 * u();
      const x = n.map(() => Math.min(k, poisson(k * p)));
      return { family: 'np', opts: { type: 'np', data: x, sizes: n }, ref: refAttr('np', x, n) };
    },
    (m) => {
      const c = 2 + 30 * u();
      const x = Array.from({ length: m }, () => poisson(c));
      const n = x.map(() => 1);
      return { family: 'c', opts: { type: 'c', data: x }, ref: refAttr('c', x, n) };
    },
    (m) => {
      const n = Array.from({ length: m }, () => int(1, 10));
      const rate = 0.5 + 5 * u();
      const x = n.map((k) => poisson(k * rate));
      return { family: 'u, unequal sizes', opts: { type: 'u', data: x, sizes: n }, ref: refAttr('u', x, n) };
    },
    (m) =>
      ((g) => ({ family: 'X-bar R, n = 2', opts: { type: 'xbar-r', data: g }, ref: refXbar(g, 'R') }))(
        subgroups(m, 2, 2),
      ),
  ];
  return Array.from({ length: count }, (_, i) => families[i % families.length](int(20, 60)));
}

const relDiff = (a: number, b: number) =>
  a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));

/** Largest relative differences of the statistics and of the limits between a chart and its reference. */
function compare(r: spc.ChartResult, ref: Ref): { stat: number; limit: number } {
  let stat = 0;
  let limit = 0;
  const sec = r.secondary?.points ?? [];
  r.points.forEach((p, i) => {
    if (r.type === 'cusum') {
      stat = Math.max(
        stat,
        relDiff(p.upper as number, ref.stat[i]),
        relDiff(p.lower as number, ref.stat2![i]),
      );
    } else stat = Math.max(stat, relDiff(p.stat, ref.stat[i]));
    limit = Math.max(limit, relDiff(p.lcl, ref.lcl[i]), relDiff(p.ucl, ref.ucl[i]));
  });
  sec.forEach((p, j) => {
    stat = Math.max(stat, relDiff(p.stat, ref.stat2![j]));
    limit = Math.max(limit, relDiff(p.lcl, ref.lcl2![j]), relDiff(p.ucl, ref.ucl2![j]));
  });
  return { stat, limit };
}

/**
 * Rules 3, 5 and 6 in one batch pass, as a reader of the chart applies them: six in a row rising or
 * falling on the plotted statistic, two of three beyond 2 sigma and four of five beyond 1 sigma on one side
 * only once the window of three or five points exists, the completing point itself beyond.
 */
function refRules(stat: readonly number[], z: readonly number[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const add = (i: number, rule: number) => out.set(i, [...(out.get(i) ?? []), rule]);
  for (let i = 0; i < stat.length; i++) {
    if (i >= 5) {
      const w = stat.slice(i - 5, i + 1);
      const up = w.every((v, j) => j === 0 || v > w[j - 1]);
      const down = w.every((v, j) => j === 0 || v < w[j - 1]);
      if (up || down) add(i, 3);
    }
    for (const [rule, len, need, k] of [
      [5, 3, 2, 2],
      [6, 5, 4, 1],
    ] as const) {
      if (i < len - 1 || !(Math.abs(z[i]) > k)) continue;
      const side = Math.sign(z[i]);
      const c = z.slice(i - len + 1, i + 1).filter((v) => side * v > k).length;
      if (c >= need) add(i, rule);
    }
  }
  return out;
}

/** p charts with unequal sizes, shifted or drifting, starting beyond 2 sigma or not: rules 3, 5, 6. */
function ruleCases(count: number, seed: number): spc.ChartOptions[] {
  const u = uniform(seed + 1);
  const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return Array.from({ length: count }, () => {
    const p0 = 0.05 + 0.1 * u();
    const m = 30 + Math.floor(u() * 30);
    const n = Array.from({ length: m }, () => 50 + Math.floor(u() * 450));
    const drift = u() < 0.5 ? (u() - 0.5) * 0.01 : 0;
    const start = u() < 0.5 ? 2.5 : 0; // first points near 2.5 sigma: the rule 5/6 windows at the start
    const x = n.map((k, i) => {
      const sd = Math.sqrt((p0 * (1 - p0)) / k);
      const p = p0 + drift * i + (i < 4 ? start * sd : 0) + 0.6 * sd * normal();
      return Math.min(k, Math.max(0, Math.round(p * k)));
    });
    return { type: 'p', data: x, sizes: n, limits: { center: p0 }, rules: [3, 5, 6] };
  });
}

function qccBench() {
  const cases = qccCases(CASES, SEED);
  const byFamily = new Map<
    string,
    {
      cases: number;
      table: number;
      exact: number;
      stat: number;
      limit: number;
      statExact: number;
      limitExact: number;
    }
  >();
  let differTable = 0;
  let differExact = 0;
  let maxStat = 0;
  let maxLimit = 0;
  let maxLimitExact = 0;
  let maxStatExact = 0;
  for (const c of cases) {
    const t = compare(spc.chart(c.opts), c.ref);
    const x = compare(spc.chart({ ...c.opts, constants: 'exact' }), c.ref);
    const badT = t.stat > 1e-9 || t.limit > 5e-4;
    const badX = x.stat > 1e-9 || x.limit > 5e-4;
    differTable += badT ? 1 : 0;
    differExact += badX ? 1 : 0;
    maxStat = Math.max(maxStat, t.stat);
    maxLimit = Math.max(maxLimit, t.limit);
    maxLimitExact = Math.max(maxLimitExact, x.limit);
    maxStatExact = Math.max(maxStatExact, x.stat);
    const f = byFamily.get(c.family) ?? {
      cases: 0,
      table: 0,
      exact: 0,
      stat: 0,
      limit: 0,
      statExact: 0,
      limitExact: 0,
    };
    f.cases++;
    f.table += badT ? 1 : 0;
    f.exact += badX ? 1 : 0;
    f.stat = Math.max(f.stat, t.stat);
    f.limit = Math.max(f.limit, t.limit);
    f.limitExact = Math.max(f.limitExact, x.limit);
    f.statExact = Math.max(f.statExact, x.stat);
    byFamily.set(c.family, f);
  }
  const rows: (string | number)[][] = [
    [
      'family',
      'cases',
      'differ (tables)',
      'differ (exact)',
      'max stat rel',
      'max limit rel',
      'max stat rel, exact',
      'max limit rel, exact',
    ],
  ];
  for (const [name, f] of byFamily)
    rows.push([name, f.cases, f.table, f.exact, f.stat, f.limit, f.statExact, f.limitExact]);
  // rules 3, 5, 6 against the batch check
  const rc = ruleCases(CASES, SEED);
  let ruleDiffer = 0;
  let ruleHits = 0;
  for (const o of rc) {
    const r = spc.chart(o);
    const want = refRules(
      r.points.map((p) => p.stat),
      r.points.map((p) => p.z),
    );
    const same = r.points.every((p, i) => {
      const a = [...p.violations].sort().join();
      const b = [...(want.get(i) ?? [])].sort().join();
      return a === b;
    });
    ruleHits += r.points.reduce((a, p) => a + p.violations.length, 0);
    if (!same) ruleDiffer++;
  }
  return {
    rows,
    qcc: {
      cases: cases.length,
      seed: SEED,
      differTable,
      differExact,
      maxStatRelTable: Number(maxStat.toPrecision(3)),
      maxLimitRelTable: Number(maxLimit.toPrecision(3)),
      maxStatRelExact: Number(maxStatExact.toPrecision(3)),
      maxLimitRelExact: Number(maxLimitExact.toPrecision(3)),
    },
    rules: { cases: rc.length, hits: ruleHits, differ: ruleDiffer },
  };
}

async function main() {
  console.log(
    `Agreement with qcc's formulas and tables, ${CASES} fresh random cases (seed ${SEED}); statistics 1e-9, limits 0.05%`,
  );
  const q = qccBench();
  printTable(q.rows);
  console.log(
    `rules 3, 5, 6 on ${q.rules.cases} p charts with unequal sizes: ${q.rules.hits} reports, ${q.rules.differ} charts differ from the batch check`,
  );
  console.log(`\nSPC engine, streaming against frozen limits (${SAMPLES} samples per chart)`);
  const eng = engineBench();
  printTable(eng.rows);
  console.log(
    `\ntakt-spc (I-MR, Nelson rules, phase II) vs pass-through, ${MESSAGES} messages x ${ROUNDS} rounds`,
  );
  const node = await nodeBench();
  printTable(node.rows);
  finalLine({
    bench: 'spc',
    samples: SAMPLES,
    samplesPerS: eng.perChart,
    messages: MESSAGES,
    rounds: ROUNDS,
    msgPerS: node.msgPerS,
    passMsgPerS: node.passMsgPerS,
    throughputRatio: node.ratio,
    cpuRatioMedian: node.cpuRatioMedian,
    constants: 'table',
    qcc: q.qcc,
    rules: q.rules,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
