/**
 * bench:forecast — M3 competition series with their standard horizons: sMAPE and MASE per period
 * and overall for seasonal naive, each method and the automatic choice, plus runtime, against R's
 * forecast 8.20 figures on the same 2,348 series (../shared/datasets/m3/README.md). With a folder
 * holding carparts.jsonl it runs the intermittent-demand bench instead (bench/intermittent.ts).
 *
 *   npm run bench:forecast -- [--data <folder of JSON-lines files>] [--workers 2] [--limit N]
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as forecast from '../nodes/forecast';
import { dataDir, finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import { runIntermittent } from './intermittent';

interface Series {
  id: string;
  period: string;
  frequency: number;
  horizon: number;
  train: number[];
  test: number[];
}

const METHODS = ['snaive', 'ses', 'damped', 'theta', 'ets', 'auto'] as const;
type Row = {
  c80: number;
  c95: number;
  id: string;
  period: string;
  smape: Record<string, number>;
  mase: Record<string, number>;
  autoMs: number;
};

function evaluate(s: Series): Row {
  const row: Row = { id: s.id, period: s.period, smape: {}, mase: {}, autoMs: 0, c80: 0, c95: 0 };
  const fc: Record<string, number[]> = {};
  for (const m of METHODS) {
    const t0 = performance.now();
    const r = forecast.fit(s.train, {
      frequency: s.frequency,
      horizon: s.horizon,
      method: m as forecast.Method,
    });
    if (m === 'auto') {
      row.autoMs = performance.now() - t0;
      s.test.forEach((y, k) => {
        if (y >= r.lower80[k] && y <= r.upper80[k]) row.c80 += 1 / s.horizon;
        if (y >= r.lower95[k] && y <= r.upper95[k]) row.c95 += 1 / s.horizon;
      });
    }
    fc[m] = r.forecast;
  }
  // extra combinations of the components (same arithmetic as method "combination")
  const avg = (ks: string[]) => s.test.map((_, k) => ks.reduce((a, x) => a + fc[x][k], 0) / ks.length);
  fc['ses+theta+damped'] = avg(['ses', 'theta', 'damped']);
  fc['ets+theta'] = avg(['ets', 'theta']);
  for (const [m, f] of Object.entries(fc)) {
    row.smape[m] = forecast.smape(s.test, f);
    row.mase[m] = forecast.mase(s.train, s.test, f, s.frequency);
  }
  return row;
}

if (!isMainThread) {
  const rows = (workerData as Series[]).map(evaluate);
  parentPort?.postMessage(rows);
} else {
  void main();
}

const REF = {
  ets: {
    yearly: [17.0, 2.86],
    quarterly: [9.99, 1.194],
    monthly: [13.97, 0.861],
    other: [4.37, 1.814],
    all: [13.19, 1.556],
  },
  thetaf: {
    yearly: [16.76, 2.774],
    quarterly: [9.53, 1.139],
    monthly: [13.74, 0.851],
    other: [4.92, 2.271],
    all: [12.96, 1.549],
  },
  snaive: {
    yearly: [17.88, 3.172],
    quarterly: [11.31, 1.439],
    monthly: [17.11, 1.134],
    other: [6.3, 3.089],
    all: [15.22, 1.907],
  },
} as const;

async function main(): Promise<void> {
  const flags = parseFlags();
  const dir = dataDir(flags, 'data', join('datasets', 'm3'));
  if (existsSync(join(dir, 'carparts.jsonl'))) {
    runIntermittent(dir, flags);
    return;
  }
  const workers = numberFlag(flags, 'workers', 2);
  const limit = numberFlag(flags, 'limit', Infinity);
  const periods = ['yearly', 'quarterly', 'monthly', 'other'];
  let all: Series[] = [];
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.jsonl'))
    .sort()) {
    const lines = readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    all = all.concat(lines.map((l) => JSON.parse(l) as Series).slice(0, limit));
  }
  console.log(
    `forecast bench: ${all.length} M3 series from ${dir}, ${workers} workers, ${new Date().toISOString()}`,
  );
  const t0 = performance.now();
  const chunks: Series[][] = Array.from({ length: workers }, () => []);
  all.forEach((s, i) => chunks[i % workers].push(s));
  const rows = (
    await Promise.all(
      chunks.map(
        (c) =>
          new Promise<Row[]>((res, rej) => {
            const w = new Worker(__filename, { workerData: c });
            w.once('message', (r: Row[]) => res(r));
            w.once('error', rej);
          }),
      ),
    )
  ).flat();
  const seconds = (performance.now() - t0) / 1000;
  const autoSeconds = rows.reduce((a, r) => a + r.autoMs, 0) / 1000 / workers;
  const methods = Object.keys(rows[0].smape);
  const table: (string | number)[][] = [
    ['method', ...periods.map((p) => `${p} sMAPE/MASE`), 'all sMAPE/MASE'],
  ];
  const score = (m: string, p?: string) => {
    const rs = rows.filter((r) => !p || r.period === p);
    const sm = rs.reduce((a, r) => a + r.smape[m], 0) / rs.length;
    const ms = rs.reduce((a, r) => a + r.mase[m], 0) / rs.length;
    return [sm, ms];
  };
  const cell = ([a, b]: readonly number[]) => `${a.toFixed(2)} / ${b.toFixed(3)}`;
  for (const m of methods) table.push([m, ...periods.map((p) => cell(score(m, p))), cell(score(m))]);
  for (const [name, ref] of Object.entries(REF))
    table.push([`R ${name} (ref)`, ...periods.map((p) => cell(ref[p as keyof typeof ref])), cell(ref.all)]);
  printTable(table);
  const [smape, mase] = score('auto');
  const c80 = rows.reduce((a, r) => a + r.c80, 0) / rows.length;
  const c95 = rows.reduce((a, r) => a + r.c95, 0) / rows.length;
  console.log(
    `auto interval coverage on the test periods: 80% -> ${(100 * c80).toFixed(1)}%, 95% -> ${(100 * c95).toFixed(1)}%`,
  );
  const [sn, snm] = score('snaive');
  console.log(
    `auto: ${rows.filter((r) => r.smape.auto !== undefined).length} series, whole bench ${seconds.toFixed(1)} s wall, auto alone ≈ ${autoSeconds.toFixed(1)} s on ${workers} workers`,
  );
  finalLine({
    bench: 'forecast',
    series: rows.length,
    smape: +smape.toFixed(3),
    mase: +mase.toFixed(4),
    seconds: +seconds.toFixed(1),
    autoSeconds: +autoSeconds.toFixed(1),
    coverage80: +c80.toFixed(4),
    coverage95: +c95.toFixed(4),
    snaiveSmape: +sn.toFixed(3),
    snaiveMase: +snm.toFixed(4),
    thetafSmape: 12.96,
    thetafMase: 1.549,
    etsSmape: 13.19,
    etsMase: 1.556,
    smapeVsThetaf: +(smape / 12.96).toFixed(4),
    maseVsThetaf: +(mase / 1.549).toFixed(4),
  });
}
