/**
 * What held the event loop: reads a V8 CPU profile (`node --cpu-prof`, e.g. `npm run soak -- --cpu-prof DIR`)
 * and cuts its samples into tasks, each a run of samples that are not idle. The longest tasks are what an
 * event-loop delay histogram sees as its tail. For each long task it names the outermost frames of the
 * project's code (dist/nodes/..., else the first frame with a file) with their share of the task, and it
 * sums all tasks over a threshold by that frame.
 *
 *   node dist/bench/lib/long-tasks.js PROFILE.cpuprofile [--over 20] [--top 25]
 */
import { readFileSync } from 'node:fs';
import { numberFlag, parseFlags, printTable } from './cli';

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Task {
  /** Start, µs since the profile began. */
  start: number;
  /** Length, µs. */
  length: number;
  /** Time (µs) by the frame that names it (see `label`), largest first. */
  by: [string, number][];
}

const IDLE = new Set(['(idle)', '(program)']);

function short(url: string): string {
  const i = url.lastIndexOf('/dist/');
  if (i >= 0) return url.slice(i + 6);
  const j = url.lastIndexOf('node_modules/');
  return j >= 0 ? url.slice(j + 13) : url;
}

/**
 * Cuts the profile into tasks (runs of non-idle samples) and labels each sample by the outermost frame of
 * the project's own code (`nodes/...`), else by the outermost frame of a package, else the innermost frame.
 */
export function tasks(p: CpuProfile): Task[] {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const labels = new Map<number, string>();
  const label = (id: number): string => {
    let l = labels.get(id);
    if (l !== undefined) return l;
    let own: string | undefined;
    let pkg: string | undefined;
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const f = byId.get(x)!.callFrame;
      const name = `${f.functionName || '(anonymous)'} ${short(f.url)}:${f.lineNumber + 1}`;
      if (f.url.includes('/dist/nodes/')) own = name;
      else if (f.url.includes('node_modules/')) pkg = name;
    }
    const leaf = byId.get(id)!.callFrame;
    l = own ?? pkg ?? `${leaf.functionName || '(anonymous)'} ${short(leaf.url)}`;
    labels.set(id, l);
    return l;
  };
  const out: Task[] = [];
  let t = 0;
  let cur: { start: number; length: number; by: Map<string, number> } | undefined;
  const close = () => {
    if (cur) out.push({ start: cur.start, length: cur.length, by: [...cur.by].sort((a, b) => b[1] - a[1]) });
    cur = undefined;
  };
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i];
    t += dt;
    const node = byId.get(p.samples[i])!;
    if (IDLE.has(node.callFrame.functionName)) {
      close();
      continue;
    }
    cur ??= { start: t - dt, length: 0, by: new Map() };
    cur.length += dt;
    const l = label(node.id);
    cur.by.set(l, (cur.by.get(l) ?? 0) + dt);
  }
  close();
  return out;
}

function main(): void {
  const flags = parseFlags();
  const file = process.argv.slice(2).find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: node dist/bench/lib/long-tasks.js PROFILE.cpuprofile [--over 20] [--top 25]');
    process.exit(2);
  }
  const over = numberFlag(flags, 'over', 20) * 1000;
  const top = numberFlag(flags, 'top', 25);
  const all = tasks(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const long = all.filter((x) => x.length >= over);
  const busy = all.reduce((s, x) => s + x.length, 0);
  console.log(
    `${all.length} tasks, busy ${(busy / 1e6).toFixed(1)} s; ${long.length} of ${over / 1000} ms or more, ` +
      `${(long.reduce((s, x) => s + x.length, 0) / 1e6).toFixed(1)} s in all`,
  );
  const rows: (string | number)[][] = [['at s', 'ms', 'mostly (share)']];
  for (const x of [...long].sort((a, b) => b.length - a.length).slice(0, top)) {
    rows.push([
      (x.start / 1e6).toFixed(1),
      Math.round(x.length / 1000),
      x.by
        .slice(0, 3)
        .map(([l, v]) => `${l} (${Math.round((100 * v) / x.length)}%)`)
        .join('; '),
    ]);
  }
  printTable(rows);
  const sum = new Map<string, { ms: number; tasks: number }>();
  for (const x of long) {
    for (const [l, v] of x.by) {
      const s = sum.get(l) ?? { ms: 0, tasks: 0 };
      s.ms += v / 1000;
      s.tasks++;
      sum.set(l, s);
    }
  }
  console.log(`\ntime inside tasks of ${over / 1000} ms or more, by frame:`);
  printTable([
    ['ms', 'tasks', 'frame'],
    ...[...sum]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, top)
      .map(([l, s]) => [Math.round(s.ms), s.tasks, l]),
  ]);
}

if (require.main === module) main();
