/**
 * bench:models — throughput of the drift check (PSI + two-sample KS per feature, models/drift.ts) against the
 * reference measured in the same run: sorting the same window column by column, the least any exact KS check
 * must do. Also the streaming rate (rows pushed per second with a report every window/4 rows).
 *
 *   npm run bench:models -- [--features 8] [--window 200] [--reference 1000] [--ms 1500]
 */
import { Rng } from '../nodes/core/random';
import { DriftMonitor } from '../nodes/models/drift';
import type { ReferenceSample } from '../nodes/models/types';
import { finalLine, numberFlag, parseFlags, printTable } from './lib/cli';

const flags = parseFlags();
const FEATURES = numberFlag(flags, 'features', 8);
const WINDOW = numberFlag(flags, 'window', 200);
const REFERENCE = numberFlag(flags, 'reference', 1000);
const MS = numberFlag(flags, 'ms', 1500);

const rng = new Rng(5);
const names = Array.from({ length: FEATURES }, (_, j) => `f${j}`);
const ref: ReferenceSample = {
  features: names,
  columns: names.map(() => Array.from({ length: REFERENCE }, () => rng.normal())),
};
const rows = Array.from({ length: 4096 }, () => names.map(() => rng.normal() + 0.1));

/** Runs `f` repeatedly for about MS milliseconds (after a warm-up); returns calls per second. */
function rate(f: () => void): number {
  for (let i = 0; i < 20; i++) f();
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MS) {
    for (let i = 0; i < 10; i++) f();
    calls += 10;
    t = performance.now();
  }
  return (calls * 1000) / (t - t0);
}

// 1. One check over a full window, against sorting the same window (one column per feature).
const mon = new DriftMonitor(ref, { window: WINDOW, step: 1e9 });
for (let i = 0; i < WINDOW; i++) mon.push(rows[i]);
let sink = 0;
const checksPerS = rate(() => {
  sink += mon.check().features.length;
});
const cols = names.map((_, j) => Float64Array.from({ length: WINDOW }, (_, i) => rows[i][j]));
const sortsPerS = rate(() => {
  for (const c of cols) sink += c.slice().sort()[0];
});
const checkRowsPerS = checksPerS * WINDOW;
const sortRowsPerS = sortsPerS * WINDOW;

// 2. Streaming: push rows, a report every window/4 rows.
const stream = new DriftMonitor(ref, { window: WINDOW });
let k = 0;
const pushesPerS = rate(() => {
  for (let i = 0; i < 100; i++) if (stream.push(rows[k++ % rows.length])) sink++;
});
const streamRowsPerS = pushesPerS * 100;
if (!Number.isFinite(sink)) throw new Error('bad result');

printTable([
  ['measure', 'rows/s', 'per window (µs)'],
  [
    `drift check: PSI+KS, ${FEATURES} features, window ${WINDOW}, ref ${REFERENCE}`,
    Math.round(checkRowsPerS),
    1e6 / checksPerS,
  ],
  [`reference: sort the window's ${FEATURES} columns`, Math.round(sortRowsPerS), 1e6 / sortsPerS],
  [`streaming: push + report every ${Math.floor(WINDOW / 4)} rows`, Math.round(streamRowsPerS), ''],
]);
console.log(`drift check / sort: ${(checkRowsPerS / sortRowsPerS).toFixed(3)}`);
finalLine({
  bench: 'models',
  features: FEATURES,
  window: WINDOW,
  reference: REFERENCE,
  checkRowsPerS: Math.round(checkRowsPerS),
  sortRowsPerS: Math.round(sortRowsPerS),
  ratio: Number((checkRowsPerS / sortRowsPerS).toFixed(4)),
  streamRowsPerS: Math.round(streamRowsPerS),
});
