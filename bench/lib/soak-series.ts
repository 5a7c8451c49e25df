/**
 * The soak's memory over time, from the samples it keeps with `--samples FILE` (one probe sample per line): the
 * heap split into data (every V8 space but the code and trusted ones) and compiled code (code and trusted spaces:
 * machine code, bytecode and their metadata), with V8's own code statistics, and the slope of each over every
 * quarter of the run. A JIT warm-up levels off (the quarters' slopes fall towards 0); a leak keeps its slope.
 *
 *   node dist/bench/lib/soak-series.js samples.jsonl [--every 4] [--fit-from 15]
 *
 * --every N prints every Nth sample of the series (the slopes use all of them). Last, each series fitted from
 * minute --fit-from on as a curve that levels off (bench/lib/trend.ts saturatingFit): its time constant, the level
 * it tends to and what is left to grow; a series that does not level off within MAX_TAU_MIN says so.
 */
import { readFileSync } from 'node:fs';
import { numberFlag, parseFlags, printTable } from './cli';
import { linearTrend, saturatingFit } from './trend';
import type { ProbeSample } from '../soak-probe';

export const MB = 1024 * 1024;
/** The longest time constant the levelling-off fit tries (minutes): beyond it a series counts as unbounded. */
const MAX_TAU_MIN = 2000;

export type Sample = ProbeSample & { elapsedS: number };

/** Code and trusted spaces hold compiled code, bytecode and their metadata; the rest is the program's data. */
export const isCodeSpace = (space: string): boolean => /code|trusted/.test(space);

export interface Split {
  data: number;
  compiled: number;
}

/** Bytes of a sample's heap in the data spaces and in the code and trusted spaces. */
export function splitHeap(s: Pick<ProbeSample, 'spaces'>): Split {
  let data = 0;
  let compiled = 0;
  for (const [space, used] of Object.entries(s.spaces ?? {})) {
    if (isCodeSpace(space)) compiled += used;
    else data += used;
  }
  return { data, compiled };
}

/** Linear trend of pick (bytes) over the samples' time: slope in MB per hour, its standard error, residual SD in MB. */
export function trendMB<S extends { elapsedS: number }>(
  samples: readonly S[],
  pick: (s: S) => number,
): ReturnType<typeof linearTrend> {
  return linearTrend(
    samples.map((s) => s.elapsedS / 3600),
    samples.map((s) => pick(s) / MB),
  );
}

/** Slope (MB per hour) of pick over each of `parts` equal stretches of time, with its standard error. */
export function partSlopes(
  samples: readonly Sample[],
  pick: (s: Sample) => number,
  parts = 4,
): { slope: number; se: number }[] {
  const end = samples.at(-1)?.elapsedS ?? 0;
  const out: { slope: number; se: number }[] = [];
  for (let p = 0; p < parts; p++) {
    const set = samples.filter(
      (s) => s.elapsedS >= (end * p) / parts && (p === parts - 1 || s.elapsedS < (end * (p + 1)) / parts),
    );
    const t = trendMB(set, pick);
    out.push({ slope: t.slope, se: t.slopeSe });
  }
  return out;
}

function main(): void {
  const flags = parseFlags();
  const file = process.argv.slice(2).find((a) => !a.startsWith('--') && a.endsWith('.jsonl'));
  if (!file) {
    console.error('usage: soak-series samples.jsonl [--every 4] [--fit-from 15]');
    process.exit(2);
  }
  const every = numberFlag(flags, 'every', 4);
  const samples = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Sample);
  const mb = (x: number) => (x / MB).toFixed(2);
  printTable([
    ['min', 'RSS MB', 'heap MB', 'data MB', 'code+trusted MB', 'V8 code MB', 'V8 bytecode MB'],
    ...samples
      .filter((_, i) => i % every === 0 || i === samples.length - 1)
      .map((s) => {
        const { data, compiled } = splitHeap(s);
        return [
          (s.elapsedS / 60).toFixed(1),
          (s.rss / MB).toFixed(1),
          mb(s.heapUsed),
          mb(data),
          mb(compiled),
          mb(s.code?.codeAndMetadata ?? 0),
          mb(s.code?.bytecodeAndMetadata ?? 0),
        ];
      }),
  ]);
  const series: [string, (s: Sample) => number][] = [
    ['heap used', (s) => s.heapUsed],
    ['data spaces', (s) => splitHeap(s).data],
    ['code + trusted spaces', (s) => splitHeap(s).compiled],
    ['V8 machine code + meta', (s) => s.code?.codeAndMetadata ?? 0],
    ['V8 bytecode + meta', (s) => s.code?.bytecodeAndMetadata ?? 0],
    ['worker thread heaps', (s) => s.workers?.heapTotal ?? 0],
    ['RSS', (s) => s.rss],
  ];
  console.log('\nslope MB/h (± 2 SE) over each quarter of the run');
  printTable([
    ['', 'Q1', 'Q2', 'Q3', 'Q4'],
    ...series.map(([name, pick]) => [
      name,
      ...partSlopes(samples, pick).map((q) => `${q.slope.toFixed(2)} ± ${(2 * q.se).toFixed(2)}`),
    ]),
  ]);
  const from = numberFlag(flags, 'fit-from', 15);
  const late = samples.filter((s) => s.elapsedS >= from * 60);
  console.log(`\nlevelling off: y = asymptote − b·exp(−t/τ), fitted from minute ${from}`);
  printTable([
    ['', 'τ min', 'asymptote MB', 'left to grow MB', 'residual SD MB'],
    ...series.map(([name, pick]) => {
      const f = saturatingFit(
        late.map((s) => s.elapsedS / 60),
        late.map((s) => pick(s) / MB),
        2,
        MAX_TAU_MIN,
      );
      return f.unbounded
        ? [name, `> ${MAX_TAU_MIN} (no levelling off)`, '-', '-', f.residualSd.toFixed(3)]
        : [name, f.tau.toFixed(0), f.asymptote.toFixed(2), f.left.toFixed(2), f.residualSd.toFixed(3)];
    }),
  ]);
}

if (require.main === module) main();
