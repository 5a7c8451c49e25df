/**
 * bench:jobshop — the scheduling engine on public benchmark instances against the best known
 * makespans: per instance best known, found, gap, time to best; then the means.
 *
 *   npm run bench:jobshop -- --set la|ta|fjsp|ft [--time-limit 10000] [--long] [--workers N]
 *                            [--dir <folder>] [--only la21,la29]
 *
 * `--long` runs 60 s per instance. Reads ../shared/benchmarks/jobshop (JSPLIB + bounds.json) or
 * ../shared/benchmarks/fjsp (.fjs + bounds.json) by default.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { dataDir, finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import { parseFjs, parseJsplib, solve, validate } from '../nodes/schedule';

interface Bound {
  optimum: number | null;
  lower_bound: number;
  upper_bound: number;
}

const SETS: Record<
  string,
  { folder: string; pick: (f: string) => boolean; order: (a: string, b: string) => number }
> = {
  la: {
    folder: 'jobshop',
    pick: (f) => /^la\d\d$/.test(f) && Number(f.slice(2)) <= 40,
    order: (a, b) => a.localeCompare(b),
  },
  ta: {
    folder: 'jobshop',
    pick: (f) => /^ta\d\d$/.test(f) && Number(f.slice(2)) <= 50,
    order: (a, b) => a.localeCompare(b),
  },
  ft: { folder: 'jobshop', pick: (f) => /^ft\d\d$/.test(f), order: (a, b) => a.localeCompare(b) },
  fjsp: { folder: 'fjsp', pick: (f) => /^mk\d\d\.fjs$/.test(f), order: (a, b) => a.localeCompare(b) },
};

async function main() {
  const flags = parseFlags();
  const set = typeof flags.set === 'string' ? flags.set : 'la';
  const spec = SETS[set];
  if (!spec) {
    console.error(`--set must be one of ${Object.keys(SETS).join(', ')}`);
    process.exit(2);
  }
  const limit = flags.long ? 60000 : numberFlag(flags, 'time-limit', 10000);
  const workers = numberFlag(flags, 'workers', availableParallelism());
  const dir = dataDir(flags, 'dir', join('benchmarks', spec.folder));
  const bounds = JSON.parse(readFileSync(join(dir, 'bounds.json'), 'utf8')) as Record<string, Bound>;
  const only = typeof flags.only === 'string' ? new Set(flags.only.split(',')) : null;
  const files = readdirSync(dir)
    .filter(spec.pick)
    .filter((f) => !only || only.has(f.replace(/\.fjs$/, '')))
    .sort(spec.order);
  console.log(
    `jobshop bench: set ${set}, ${files.length} instances, ${limit} ms each, ${workers} workers, ${new Date().toISOString()}`,
  );
  const rows: (string | number)[][] = [
    ['instance', 'size', 'best known', 'found', 'gap %', 'to best s', 'LB', 'status'],
  ];
  const gaps: number[] = [];
  for (const f of files) {
    const name = f.replace(/\.fjs$/, '');
    const text = readFileSync(join(dir, f), 'utf8');
    const problem = set === 'fjsp' ? parseFjs(text) : parseJsplib(text);
    const b = bounds[name];
    if (!b) throw new Error(`${name}: no entry in bounds.json`);
    const known = b.optimum ?? b.upper_bound;
    const s = await solve(problem, { timeLimitMs: limit, workers });
    // every plan is checked against the problem: a figure from an invalid plan would be worthless
    const broken = validate(problem, s);
    if (broken.length)
      throw new Error(`${name}: invalid plan: ${broken[0].message} (${broken.length} violations)`);
    const gap = ((s.makespan - known) / known) * 100;
    gaps.push(gap);
    const row = [
      name,
      `${problem.jobs.length}x${problem.machines.length}`,
      known,
      s.makespan,
      gap.toFixed(2),
      ((s.timeToBestMs ?? 0) / 1000).toFixed(1),
      s.lowerBound,
      s.status,
    ];
    rows.push(row);
    console.log(row.join('\t'));
  }
  const mean = gaps.reduce((a, g) => a + g, 0) / Math.max(1, gaps.length);
  const max = Math.max(...gaps);
  rows.push(['mean', '', '', '', mean.toFixed(2), '', '', '']);
  console.log('');
  printTable(rows);
  finalLine({
    bench: 'jobshop',
    set,
    instances: gaps.length,
    meanGapPct: Number(mean.toFixed(3)),
    maxGapPct: Number(max.toFixed(3)),
    timeLimitMs: limit,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
