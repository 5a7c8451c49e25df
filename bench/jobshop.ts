/**
 * bench:jobshop — the scheduling engine on public benchmark instances against the best known
 * makespans: per instance best known, found, gap, time to best; then the means per set.
 *
 *   npm run bench:jobshop -- --set la|ta|ft|abz|orb|swv|yn|fjsp|all|<a,b,...> [--time-limit 10000]
 *                            [--long] [--workers N] [--dir <folder>] [--only la21,la29]
 *                            [--cpsat off] [--python python3]
 *
 * `all` is every job-shop set (ft, la, abz, orb, swv, yn, ta). `--long` runs 60 s per instance.
 * Reads ../shared/benchmarks/jobshop (JSPLIB + bounds.json) or ../shared/benchmarks/fjsp (.fjs +
 * bounds.json) by default. The gap is against the best known makespan: the optimum where it is
 * proven, else the best known upper bound (such instances are marked * in the table).
 *
 * Reference: where `python3` can import `ortools` (a dev-machine install, never a dependency), each
 * instance is also solved by OR-Tools CP-SAT (bench/cpsat_jobshop.py, the textbook interval model)
 * with the same time limit and the same number of threads, right after Takt on the same instance,
 * never at the same time. Its plans go through the same validator.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { ROOT, cpuMs, dataDir, finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import { parseFjs, parseJsplib, solve, validate } from '../nodes/schedule';
import type { Schedule, SchedulingProblem } from '../nodes/schedule';

interface Bound {
  optimum: number | null;
  lower_bound: number;
  upper_bound: number;
}

interface SetSpec {
  folder: string;
  pick: (f: string) => boolean;
}

const SETS: Record<string, SetSpec> = {
  ft: { folder: 'jobshop', pick: (f) => /^ft\d\d$/.test(f) },
  la: { folder: 'jobshop', pick: (f) => /^la\d\d$/.test(f) && Number(f.slice(2)) <= 40 },
  abz: { folder: 'jobshop', pick: (f) => /^abz\d$/.test(f) },
  orb: { folder: 'jobshop', pick: (f) => /^orb\d\d$/.test(f) },
  swv: { folder: 'jobshop', pick: (f) => /^swv\d\d$/.test(f) },
  yn: { folder: 'jobshop', pick: (f) => /^yn\d$/.test(f) },
  ta: { folder: 'jobshop', pick: (f) => /^ta\d\d$/.test(f) && Number(f.slice(2)) <= 50 },
  fjsp: { folder: 'fjsp', pick: (f) => /^mk\d\d\.fjs$/.test(f) },
};
const ALL = ['ft', 'la', 'abz', 'orb', 'swv', 'yn', 'ta'];

/** What the reference solver returned for one instance (bench/cpsat_jobshop.py's JSON). */
interface CpsatOut {
  status: string;
  makespan: number | null;
  bound: number;
  wallS: number;
  cpuS: number;
  timeToBestS: number | null;
  ops: [number, number, number, number, number][];
  version: string;
}

interface CpsatResult {
  makespan: number | null;
  status: string;
  bound: number | null;
  timeToBestS: number | null;
  /** CPU seconds of the solve over all its threads: what it got of the shared machine. */
  cpuS: number | null;
  version: string | null;
}

const CPSAT_SCRIPT = join(ROOT, 'bench', 'cpsat_jobshop.py');

function hasOrtools(python: string): boolean {
  const r = spawnSync(python, ['-c', 'import ortools'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** CP-SAT on the instance file, its plan checked by the same validator as Takt's. */
function runCpsat(
  python: string,
  file: string,
  fjs: boolean,
  problem: SchedulingProblem,
  limitMs: number,
  workers: number,
): CpsatResult {
  const args = [CPSAT_SCRIPT, file, '--time-limit', String(limitMs / 1000), '--workers', String(workers)];
  if (fjs) args.push('--fjs');
  try {
    const text = execFileSync(python, args, {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: limitMs + 120000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = JSON.parse(text) as CpsatOut;
    if (out.makespan === null)
      return {
        makespan: null,
        status: out.status,
        bound: out.bound,
        timeToBestS: null,
        cpuS: out.cpuS,
        version: out.version,
      };
    const plan: Schedule = {
      operations: out.ops.map(([j, op, m, start, end]) => ({
        job: `J${j}`,
        op,
        machine: `M${m}`,
        start,
        end,
      })),
      makespan: out.makespan,
      weightedTardiness: 0,
      lateJobs: 0,
      lowerBound: out.bound,
      status: out.status === 'OPTIMAL' ? 'optimal' : 'feasible',
      elapsedMs: out.wallS * 1000,
    };
    const broken = validate(problem, plan);
    if (broken.length) throw new Error(`invalid plan: ${broken[0].message} (${broken.length} violations)`);
    const end = Math.max(...plan.operations.map((o) => o.end));
    if (end !== out.makespan) throw new Error(`reported makespan ${out.makespan}, plan ends at ${end}`);
    return {
      makespan: out.makespan,
      status: out.status,
      bound: out.bound,
      timeToBestS: out.timeToBestS,
      cpuS: out.cpuS,
      version: out.version,
    };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      makespan: null,
      status: `error: ${msg}`,
      bound: null,
      timeToBestS: null,
      cpuS: null,
      version: null,
    };
  }
}

interface Row {
  set: string;
  name: string;
  open: boolean;
  gap: number;
  cpuS: number;
  cpsatGap: number | null;
  cpsatCpuS: number | null;
  ratio: number | null;
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
const r3 = (x: number) => Number(x.toFixed(3));

async function main() {
  const flags = parseFlags();
  const setFlag = typeof flags.set === 'string' ? flags.set : 'la';
  const sets = setFlag === 'all' ? ALL : setFlag.split(',');
  const unknown = sets.filter((s) => !SETS[s]);
  if (unknown.length) {
    console.error(`--set must be all or one or more (comma-separated) of ${Object.keys(SETS).join(', ')}`);
    process.exit(2);
  }
  const limit = flags.long ? 60000 : numberFlag(flags, 'time-limit', 10000);
  const workers = numberFlag(flags, 'workers', availableParallelism());
  const python = typeof flags.python === 'string' ? flags.python : 'python3';
  const cpsat = flags.cpsat !== 'off' && hasOrtools(python);
  const only = typeof flags.only === 'string' ? new Set(flags.only.split(',')) : null;
  const work: { set: string; dir: string; file: string; bound: Bound | undefined }[] = [];
  for (const set of sets) {
    const spec = SETS[set];
    const dir = dataDir(flags, 'dir', join('benchmarks', spec.folder));
    const bounds = JSON.parse(readFileSync(join(dir, 'bounds.json'), 'utf8')) as Record<string, Bound>;
    for (const file of readdirSync(dir)
      .filter(spec.pick)
      .filter((f) => !only || only.has(f.replace(/\.fjs$/, '')))
      .sort((a, b) => a.localeCompare(b)))
      work.push({ set, dir, file, bound: bounds[file.replace(/\.fjs$/, '')] });
  }
  if (!work.length) {
    console.error('no instances matched --set and --only');
    process.exit(2);
  }
  console.log(
    `jobshop bench: set ${setFlag}, ${work.length} instances, ${limit} ms each, ${workers} workers, ${new Date().toISOString()}`,
  );
  console.log(
    cpsat
      ? `reference: OR-Tools CP-SAT (${python}), same limit and threads, run after Takt on each instance`
      : `reference unavailable: ${flags.cpsat === 'off' ? '--cpsat off' : `${python} cannot import ortools (pip install ortools)`}; Takt only`,
  );
  console.log(
    'gap % against the optimum, or against the best known upper bound where only bounds are known (*)',
  );
  const head = ['instance', 'size', 'best known', 'found', 'gap %', 'to best s', 'CPU s', 'LB', 'status'];
  if (cpsat) head.push('CP-SAT', 'gap %', 'to best s', 'CPU s', 'status', 'Takt/CP-SAT');
  const table: (string | number)[][] = [head];
  console.log(head.join('\t'));
  const rows: Row[] = [];
  let version: string | null = null;
  for (const { set, dir, file, bound: b } of work) {
    const name = file.replace(/\.fjs$/, '');
    const fjs = set === 'fjsp';
    const text = readFileSync(join(dir, file), 'utf8');
    const problem = fjs ? parseFjs(text) : parseJsplib(text);
    if (!b) throw new Error(`${name}: no entry in bounds.json`);
    const known = b.optimum ?? b.upper_bound;
    const cpu0 = cpuMs(); // this process, worker threads included
    const s = await solve(problem, { timeLimitMs: limit, workers });
    const cpuS = (cpuMs() - cpu0) / 1000;
    // every plan is checked against the problem: a figure from an invalid plan would be worthless
    const broken = validate(problem, s);
    if (broken.length)
      throw new Error(`${name}: invalid plan: ${broken[0].message} (${broken.length} violations)`);
    const gap = ((s.makespan - known) / known) * 100;
    const row: (string | number)[] = [
      name,
      `${problem.jobs.length}x${problem.machines.length}`,
      b.optimum === null ? `${known}*` : known,
      s.makespan,
      gap.toFixed(2),
      ((s.timeToBestMs ?? 0) / 1000).toFixed(1),
      cpuS.toFixed(1),
      s.lowerBound,
      s.status,
    ];
    const result: Row = {
      set,
      name,
      open: b.optimum === null,
      gap,
      cpuS,
      cpsatGap: null,
      cpsatCpuS: null,
      ratio: null,
    };
    if (cpsat) {
      const c = runCpsat(python, join(dir, file), fjs, problem, limit, workers);
      version = version ?? c.version;
      result.cpsatCpuS = c.cpuS;
      if (c.makespan !== null) {
        result.cpsatGap = ((c.makespan - known) / known) * 100;
        result.ratio = s.makespan / c.makespan;
      }
      row.push(
        c.makespan ?? 'no plan',
        result.cpsatGap === null ? '' : result.cpsatGap.toFixed(2),
        c.timeToBestS === null ? '' : c.timeToBestS.toFixed(1),
        c.cpuS === null ? '' : c.cpuS.toFixed(1),
        c.status.toLowerCase(),
        result.ratio === null ? '' : result.ratio.toFixed(4),
      );
    }
    rows.push(result);
    table.push(row);
    console.log(row.join('\t'));
  }

  // means per set, then over everything
  const perSet: Record<string, Record<string, number>> = {};
  const summary: (string | number)[][] = [
    [
      'set',
      'instances',
      'open*',
      'Takt mean gap %',
      'max %',
      'CPU s',
      ...(cpsat ? ['CP-SAT mean gap %', 'max %', 'CPU s', 'Takt/CP-SAT', 'shorter: Takt', 'CP-SAT'] : []),
    ],
  ];
  const summarise = (label: string, rs: Row[]): Record<string, number> => {
    const gaps = rs.map((r) => r.gap);
    const cg = rs.flatMap((r) => (r.cpsatGap === null ? [] : [r.cpsatGap]));
    const ratios = rs.flatMap((r) => (r.ratio === null ? [] : [r.ratio]));
    const out: Record<string, number> = {
      instances: rs.length,
      meanGapPct: r3(mean(gaps)),
      maxGapPct: r3(Math.max(...gaps)),
      meanCpuS: r3(mean(rs.map((r) => r.cpuS))),
    };
    const line: (string | number)[] = [
      label,
      rs.length,
      rs.filter((r) => r.open).length,
      mean(gaps).toFixed(3),
      Math.max(...gaps).toFixed(2),
      mean(rs.map((r) => r.cpuS)).toFixed(1),
    ];
    if (cpsat) {
      out.cpsatInstances = cg.length;
      if (cg.length) {
        out.cpsatMeanGapPct = r3(mean(cg));
        out.cpsatMaxGapPct = r3(Math.max(...cg));
        out.makespanRatio = Number(mean(ratios).toFixed(5));
      }
      const cpu = rs.flatMap((r) => (r.cpsatCpuS === null ? [] : [r.cpsatCpuS]));
      if (cpu.length) out.cpsatMeanCpuS = r3(mean(cpu));
      out.taktShorter = ratios.filter((x) => x < 1).length;
      out.cpsatShorter = ratios.filter((x) => x > 1).length;
      line.push(
        cg.length ? mean(cg).toFixed(3) : 'n/a',
        cg.length ? Math.max(...cg).toFixed(2) : '',
        cpu.length ? mean(cpu).toFixed(1) : '',
        ratios.length ? mean(ratios).toFixed(4) : '',
        out.taktShorter,
        out.cpsatShorter,
      );
      if (cg.length < rs.length) line[0] = `${label} (CP-SAT ${cg.length} plans)`;
    }
    summary.push(line);
    return out;
  };
  for (const set of sets) {
    const rs = rows.filter((r) => r.set === set);
    if (rs.length) perSet[set] = summarise(set, rs); // --only can leave a set empty
  }
  const total = sets.length > 1 ? summarise('all', rows) : perSet[sets[0]];
  console.log('');
  printTable(table);
  console.log('');
  printTable(summary);
  if (cpsat)
    console.log(
      'Takt/CP-SAT: mean ratio of the makespans (below 1: Takt shorter); CPU s: what each solve got of the shared cores (all its threads); CP-SAT times exclude Python start-up and model building',
    );
  const line: Record<string, unknown> = {
    bench: 'jobshop',
    set: setFlag,
    instances: rows.length,
    meanGapPct: total.meanGapPct,
    maxGapPct: total.maxGapPct,
    timeLimitMs: limit,
    workers,
    meanCpuS: total.meanCpuS,
  };
  if (cpsat) {
    line.reference = `OR-Tools CP-SAT ${version ?? '?'}`;
    line.cpsatInstances = total.cpsatInstances;
    line.cpsatMeanGapPct = total.cpsatMeanGapPct ?? null;
    line.cpsatMaxGapPct = total.cpsatMaxGapPct ?? null;
    line.cpsatMeanCpuS = total.cpsatMeanCpuS ?? null;
    line.makespanRatio = total.makespanRatio ?? null;
    line.taktShorter = total.taktShorter;
    line.cpsatShorter = total.cpsatShorter;
  }
  if (sets.length > 1) line.sets = perSet;
  finalLine(line);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
