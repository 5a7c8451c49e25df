/**
 * Shared benchmark plumbing: flags, a readable table while running, and the one JSON line that ends
 * every benchmark's output (DESIGN.md "Benchmarks": scripts read that last line, keep its keys stable).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (benches run from dist/bench/...). */
export const ROOT = join(__dirname, '..', '..', '..');
/** ../shared beside the project, where data sets and benchmark instances live. */
export const SHARED = join(ROOT, '..', 'shared');

/** Parses `--name value` and `--flag` arguments (and `--name=value`). */
export function parseFlags(argv: string[] = process.argv.slice(2)): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[a.slice(2)] = argv[++i];
    else out[a.slice(2)] = true;
  }
  return out;
}

export function numberFlag(flags: Record<string, string | true>, name: string, dflt: number): number {
  const v = flags[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v === true || !Number.isFinite(n)) throw new Error(`--${name} needs a number`);
  return n;
}

/** A data folder from `--<flag>` or the default under ../shared, with a clear message when missing. */
export function dataDir(flags: Record<string, string | true>, flag: string, sharedSubdir: string): string {
  const dir = typeof flags[flag] === 'string' ? (flags[flag] as string) : join(SHARED, sharedSubdir);
  if (!existsSync(dir)) {
    console.error(`no data at ${dir}: pass --${flag} <folder>`);
    process.exit(2);
  }
  return dir;
}

/** The median as the benches quote it: the middle value, the upper of the two middle ones for an even count. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Prints rows as an aligned text table (header first). */
export function printTable(rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) console.log(r.map((c, i) => c.padStart(widths[i])).join('  '));
}

/** Numbers for tables: integers as they are, others to 4 significant digits. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return Number(n.toPrecision(4)).toString();
}

/** The last line of every benchmark: one JSON object with its key figures and reference. */
export function finalLine(result: Record<string, unknown>): void {
  console.log(JSON.stringify(result));
}

/** CPU time (user + system) of this process in milliseconds. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
