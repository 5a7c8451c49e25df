/**
 * Compiles a SchedulingProblem into flat typed arrays the search works on, checking every input rule
 * on the way (bad input throws a TaktError naming the job and operation).
 *
 * Frozen operations leave the search: they become busy windows on their machine, push their job's
 * remaining operations to after their end, and use up material. What stays are the free operations.
 */
import { TaktError } from '../core/errors';
import type { SchedulingProblem, ScheduledOperation } from './types';

export interface Model {
  /** Free (not frozen) operations. */
  n: number;
  nJobs: number;
  nMach: number;
  jobIds: string[];
  machineIds: string[];
  /** Per free op: job index, operation index in the job, job predecessor/successor among free ops. */
  job: Int32Array;
  opIndex: Int32Array;
  jp: Int32Array;
  js: Int32Array;
  /** Alternatives of op i: altStart[i] .. altStart[i + 1] - 1. */
  altStart: Int32Array;
  altMach: Int32Array;
  altDur: Float64Array;
  /** Earliest start of each free op from release, now and frozen predecessors. */
  lb: Float64Array;
  /** Job due date (Infinity when none) and tardiness weight, priority. */
  due: Float64Array;
  weight: Float64Array;
  priority: Float64Array;
  /** Objective weights. */
  wMakespan: number;
  wTardiness: number;
  wStability: number;
  /** Start of each free op in the previous plan (NaN: none), for the stability term. */
  ref: Float64Array;
  /** True when windows, setups or materials need the general decoder. */
  general: boolean;
  /** Per machine: merged busy windows (unavailable + frozen) as [s0, e0, s1, e1, ...]. */
  windows: Float64Array[];
  /** Setup family per free op (-1: none); family names. */
  family: Int32Array;
  families: string[];
  /** Per machine: setup matrix [from * F + to] or null; initial family (-1: none). */
  setup: (Float64Array | null)[];
  initFamily: Int32Array;
  /** Material needs of op i: needStart[i] .. needStart[i + 1] - 1 into needMat/needQty. */
  needStart: Int32Array;
  needMat: Int32Array;
  needQty: Float64Array;
  materialIds: string[];
  /** Per material: delivery times and cumulative quantities, and what frozen operations used. */
  supplyAt: Float64Array[];
  supplyCum: Float64Array[];
  frozenUse: Float64Array;
  /** Frozen operations as given, and per job the end of its frozen part (-Infinity: none). */
  frozen: ScheduledOperation[];
  frozenJobEnd: Float64Array;
  frozenMakespan: number;
  /** Free ops whose job has no free op after them, per job (-1 when fully frozen). */
  lastOp: Int32Array;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function fail(code: string, message: string, field?: string, subject?: string): never {
  throw new TaktError(`schedule.${code}`, message, field, subject);
}

function checkTime(v: unknown, what: string, field: string, allowNegative = true): number {
  if (!isInt(v) || (!allowNegative && v < 0))
    fail('badTime', `${what}: ${JSON.stringify(v)} is not a valid integer time`, field);
  return v;
}

/** Checks a problem and compiles it. Throws TaktError on the first broken input rule. */
export function compile(problem: SchedulingProblem): Model {
  if (typeof problem !== 'object' || problem === null) fail('badProblem', 'the problem must be an object');
  if (!Array.isArray(problem.machines) || problem.machines.length === 0)
    fail('noMachines', 'the problem needs a non-empty "machines" array', 'machines');
  if (!Array.isArray(problem.jobs)) fail('noJobs', 'the problem needs a "jobs" array', 'jobs');

  const machineIds: string[] = [];
  const mIndex = new Map<string, number>();
  const rawWindows: number[][] = [];
  problem.machines.forEach((m, k) => {
    if (typeof m?.id !== 'string' || m.id === '')
      fail('badMachine', `machines[${k}] has no id`, `machines[${k}].id`);
    if (mIndex.has(m.id)) fail('duplicateMachine', `machine ${m.id} is listed twice`, `machines[${k}].id`);
    mIndex.set(m.id, k);
    machineIds.push(m.id);
    const w: number[] = [];
    for (const [i, u] of (m.unavailable ?? []).entries()) {
      const f = `machines[${k}].unavailable[${i}]`;
      const s = checkTime(u?.start, `machine ${m.id} unavailable[${i}].start`, f);
      const e = checkTime(u?.end, `machine ${m.id} unavailable[${i}].end`, f);
      if (e < s) fail('badWindow', `machine ${m.id} unavailable[${i}] ends before it starts`, f);
      if (e > s) w.push(s, e);
    }
    rawWindows.push(w);
  });
  const nMach = machineIds.length;

  const now = problem.now === undefined ? 0 : checkTime(problem.now, 'now', 'now');
  const wMakespan = problem.objective?.makespan ?? 1;
  const wTardiness = problem.objective?.weightedTardiness ?? 0;
  const wStability = problem.objective?.stability ?? 0;
  for (const [k, v] of [
    ['makespan', wMakespan],
    ['weightedTardiness', wTardiness],
    ['stability', wStability],
  ] as const)
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))
      fail('badObjective', `objective.${k} must be a number >= 0`, `objective.${k}`);

  // Setup families and matrices.
  const families: string[] = [];
  const famIndex = new Map<string, number>();
  const fam = (name: string) => {
    let f = famIndex.get(name);
    if (f === undefined) {
      f = families.length;
      famIndex.set(name, f);
      families.push(name);
    }
    return f;
  };
  for (const j of problem.jobs)
    for (const o of j?.operations ?? []) if (typeof o?.setupFamily === 'string') fam(o.setupFamily);
  const setupRules = problem.setup ?? {};
  for (const rules of Object.values(setupRules))
    for (const r of rules ?? []) {
      fam(String(r.from));
      fam(String(r.to));
    }
  const F = families.length;
  const setup: (Float64Array | null)[] = new Array(nMach).fill(null);
  for (const [mid, rules] of Object.entries(setupRules)) {
    const m = mIndex.get(mid);
    if (m === undefined) fail('unknownMachine', `setup names unknown machine ${mid}`, `setup.${mid}`, mid);
    if (!Array.isArray(rules)) fail('badSetup', `setup.${mid} must be an array`, `setup.${mid}`);
    const mat = new Float64Array(F * F);
    rules.forEach((r, i) => {
      const t = checkTime(r?.time, `setup.${mid}[${i}].time`, `setup.${mid}[${i}]`, false);
      mat[fam(String(r.from)) * F + fam(String(r.to))] = t;
    });
    setup[m] = mat;
  }

  // Materials.
  const materialIds: string[] = [];
  const matIndex = new Map<string, number>();
  const supplyAt: Float64Array[] = [];
  const supplyCum: Float64Array[] = [];
  (problem.materials ?? []).forEach((mt, k) => {
    if (typeof mt?.id !== 'string') fail('badMaterial', `materials[${k}] has no id`, `materials[${k}].id`);
    if (matIndex.has(mt.id))
      fail('duplicateMaterial', `material ${mt.id} is listed twice`, `materials[${k}].id`);
    matIndex.set(mt.id, k);
    materialIds.push(mt.id);
    const d = [...(mt.available ?? [])];
    d.forEach((a, i) => {
      checkTime(a?.at, `material ${mt.id} available[${i}].at`, `materials[${k}].available[${i}]`);
      if (typeof a.qty !== 'number' || !(a.qty >= 0))
        fail('badQty', `material ${mt.id} available[${i}].qty must be >= 0`);
    });
    d.sort((a, b) => a.at - b.at);
    const at = new Float64Array(d.length);
    const cum = new Float64Array(d.length);
    let c = 0;
    d.forEach((a, i) => {
      c += a.qty;
      at[i] = a.at;
      cum[i] = c;
    });
    supplyAt.push(at);
    supplyCum.push(cum);
  });

  // Jobs and operations.
  const jobIds: string[] = [];
  const jIndex = new Map<string, number>();
  problem.jobs.forEach((j, k) => {
    if (typeof j?.id !== 'string' || j.id === '') fail('badJob', `jobs[${k}] has no id`, `jobs[${k}].id`);
    if (jIndex.has(j.id)) fail('duplicateJob', `job ${j.id} is listed twice`, `jobs[${k}].id`);
    jIndex.set(j.id, k);
    jobIds.push(j.id);
    if (!Array.isArray(j.operations) || j.operations.length === 0)
      fail('noOperations', `job ${j.id} has no operations`, `jobs[${k}].operations`);
    if (j.release !== undefined) checkTime(j.release, `job ${j.id} release`, `jobs[${k}].release`);
    if (j.due !== undefined) checkTime(j.due, `job ${j.id} due`, `jobs[${k}].due`);
    for (const key of ['weight', 'priority'] as const) {
      const v = j[key];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
        fail('badWeight', `job ${j.id} ${key} must be a number >= 0`, `jobs[${k}].${key}`);
    }
    j.operations.forEach((o, i) => {
      const f = `jobs[${k}].operations[${i}]`;
      if (!Array.isArray(o?.alternatives) || o.alternatives.length === 0)
        fail('noAlternatives', `job ${j.id} operation ${i} has no alternatives`, `${f}.alternatives`);
      o.alternatives.forEach((a, x) => {
        if (!mIndex.has(a?.machine))
          fail(
            'unknownMachine',
            `job ${j.id} operation ${i}: unknown machine ${JSON.stringify(a?.machine)}`,
            `${f}.alternatives[${x}].machine`,
            String(a?.machine),
          );
        if (!isInt(a.duration) || a.duration < 0)
          fail(
            'badDuration',
            `job ${j.id} operation ${i} on ${a.machine}: duration ${JSON.stringify(a.duration)} must be an integer >= 0`,
            `${f}.alternatives[${x}].duration`,
          );
      });
      for (const [x, c] of (o.consumes ?? []).entries()) {
        if (!matIndex.has(c?.material))
          fail(
            'unknownMaterial',
            `job ${j.id} operation ${i}: unknown material ${JSON.stringify(c?.material)}`,
            `${f}.consumes[${x}]`,
          );
        if (typeof c.qty !== 'number' || !(c.qty >= 0) || !Number.isFinite(c.qty))
          fail(
            'badQty',
            `job ${j.id} operation ${i}: material quantity must be a number >= 0`,
            `${f}.consumes[${x}].qty`,
          );
      }
    });
  });
  const nJobs = jobIds.length;

  // Frozen operations.
  const frozen = [...(problem.frozen ?? [])];
  const frozenSet = new Set<string>();
  const frozenJobEnd = new Float64Array(nJobs).fill(-Infinity);
  const frozenUse = new Float64Array(materialIds.length);
  let frozenMakespan = -Infinity;
  frozen.forEach((fz, k) => {
    const f = `frozen[${k}]`;
    const ji = jIndex.get(fz?.job);
    if (ji === undefined) fail('unknownJob', `frozen[${k}] names unknown job ${JSON.stringify(fz?.job)}`, f);
    const job = problem.jobs[ji];
    if (!isInt(fz.op) || fz.op < 0 || fz.op >= job.operations.length)
      fail('unknownOperation', `frozen[${k}]: job ${fz.job} has no operation ${JSON.stringify(fz.op)}`, f);
    const m = mIndex.get(fz.machine);
    if (m === undefined)
      fail(
        'unknownMachine',
        `frozen job ${fz.job} operation ${fz.op}: unknown machine ${fz.machine}`,
        f,
        String(fz.machine),
      );
    checkTime(fz.start, `frozen job ${fz.job} operation ${fz.op} start`, f);
    checkTime(fz.end, `frozen job ${fz.job} operation ${fz.op} end`, f);
    if (fz.end < fz.start)
      fail('badFrozen', `frozen job ${fz.job} operation ${fz.op} ends before it starts`, f);
    const key = `${ji}:${fz.op}`;
    if (frozenSet.has(key)) fail('badFrozen', `job ${fz.job} operation ${fz.op} is frozen twice`, f);
    frozenSet.add(key);
    if (fz.end > fz.start) rawWindows[m].push(fz.start, fz.end);
    frozenJobEnd[ji] = Math.max(frozenJobEnd[ji], fz.end);
    frozenMakespan = Math.max(frozenMakespan, fz.end);
    for (const c of job.operations[fz.op].consumes ?? [])
      frozenUse[matIndex.get(c.material) as number] += c.qty;
  });
  // Frozen operations must be a prefix of their job.
  problem.jobs.forEach((j, ji) => {
    let seenFree = -1;
    j.operations.forEach((_, i) => {
      const isFrozen = frozenSet.has(`${ji}:${i}`);
      if (!isFrozen && seenFree < 0) seenFree = i;
      if (isFrozen && seenFree >= 0)
        fail(
          'badFrozen',
          `job ${j.id} operation ${i} is frozen but operation ${seenFree} before it is not`,
          'frozen',
        );
    });
  });

  // Free operations, in job order.
  const opsJob: number[] = [];
  const opsIdx: number[] = [];
  problem.jobs.forEach((j, ji) =>
    j.operations.forEach((_, i) => frozenSet.has(`${ji}:${i}`) || (opsJob.push(ji), opsIdx.push(i))),
  );
  const n = opsJob.length;
  const job = Int32Array.from(opsJob);
  const opIndex = Int32Array.from(opsIdx);
  const jp = new Int32Array(n).fill(-1);
  const js = new Int32Array(n).fill(-1);
  const lastOp = new Int32Array(nJobs).fill(-1);
  for (let i = 0; i < n; i++) {
    if (i > 0 && job[i - 1] === job[i]) jp[i] = i - 1;
    if (i + 1 < n && job[i + 1] === job[i]) js[i] = i + 1;
    lastOp[job[i]] = i;
  }
  const altStart = new Int32Array(n + 1);
  const altMach: number[] = [];
  const altDur: number[] = [];
  const family = new Int32Array(n).fill(-1);
  const needStart = new Int32Array(n + 1);
  const needMat: number[] = [];
  const needQty: number[] = [];
  const lb = new Float64Array(n);
  const due = new Float64Array(nJobs);
  const weight = new Float64Array(nJobs);
  const priority = new Float64Array(nJobs);
  problem.jobs.forEach((j, ji) => {
    due[ji] = j.due ?? Infinity;
    weight[ji] = j.weight ?? 1;
    priority[ji] = j.priority ?? 1;
  });
  for (let i = 0; i < n; i++) {
    const o = problem.jobs[job[i]].operations[opIndex[i]];
    altStart[i] = altMach.length;
    for (const a of o.alternatives) {
      altMach.push(mIndex.get(a.machine) as number);
      altDur.push(a.duration);
    }
    if (typeof o.setupFamily === 'string') family[i] = famIndex.get(o.setupFamily) as number;
    needStart[i] = needMat.length;
    for (const c of o.consumes ?? [])
      if (c.qty > 0) {
        needMat.push(matIndex.get(c.material) as number);
        needQty.push(c.qty);
      }
    if (jp[i] < 0) lb[i] = Math.max(problem.jobs[job[i]].release ?? 0, now, frozenJobEnd[job[i]]);
    else lb[i] = now;
  }
  altStart[n] = altMach.length;
  needStart[n] = needMat.length;

  // Material feasibility: with enough material in total, any order of the operations can be served.
  const demand = Float64Array.from(frozenUse);
  for (let i = 0; i < n; i++)
    for (let k = needStart[i]; k < needStart[i + 1]; k++) {
      const mt = needMat[k];
      demand[mt] += needQty[k];
      const cum = supplyCum[mt];
      const total = cum.length ? cum[cum.length - 1] : 0;
      if (demand[mt] > total + 1e-9)
        fail(
          'materialShort',
          `job ${jobIds[job[i]]} operation ${opIndex[i]} needs ${needQty[k]} ${materialIds[mt]} but only ${total} is ever available in all (${demand[mt]} needed up to this operation)`,
        );
    }

  // Windows: sort and merge.
  const windows = rawWindows.map((w) => {
    const pairs: [number, number][] = [];
    for (let k = 0; k < w.length; k += 2) pairs.push([w[k], w[k + 1]]);
    pairs.sort((a, b) => a[0] - b[0]);
    const out: number[] = [];
    for (const [s, e] of pairs) {
      if (out.length && s <= out[out.length - 1]) out[out.length - 1] = Math.max(out[out.length - 1], e);
      else out.push(s, e);
    }
    return Float64Array.from(out);
  });

  // The family a machine is in before its first free op: its last frozen op's.
  const initFamily = new Int32Array(nMach).fill(-1);
  const lastEnd = new Float64Array(nMach).fill(-Infinity);
  for (const fz of frozen) {
    const m = mIndex.get(fz.machine) as number;
    const sf = problem.jobs[jIndex.get(fz.job) as number].operations[fz.op].setupFamily;
    if (fz.end >= lastEnd[m]) {
      lastEnd[m] = fz.end;
      initFamily[m] = typeof sf === 'string' ? (famIndex.get(sf) as number) : -1;
    }
  }

  const general = windows.some((w) => w.length > 0) || setup.some((s) => s !== null) || needMat.length > 0;
  return {
    n,
    nJobs,
    nMach,
    jobIds,
    machineIds,
    job,
    opIndex,
    jp,
    js,
    altStart,
    altMach: Int32Array.from(altMach),
    altDur: Float64Array.from(altDur),
    lb,
    due,
    weight,
    priority,
    wMakespan,
    wTardiness,
    wStability,
    ref: new Float64Array(n).fill(NaN),
    general,
    windows,
    family,
    families,
    setup,
    initFamily,
    needStart,
    needMat: Int32Array.from(needMat),
    needQty: Float64Array.from(needQty),
    materialIds,
    supplyAt,
    supplyCum,
    frozenUse,
    frozen,
    frozenJobEnd,
    frozenMakespan: frozen.length ? frozenMakespan : 0,
    lastOp,
  };
}

/** Setup time on machine m from family a to family b (0 when either has none or no rule). */
export function setupTime(model: Model, m: number, a: number, b: number): number {
  const s = model.setup[m];
  if (s === null || a < 0 || b < 0) return 0;
  return s[a * model.families.length + b];
}

/** Records the previous plan's start times (the reference of the stability term). */
export function setReference(model: Model, ops: ScheduledOperation[]): void {
  const at = new Map<string, number>();
  for (const o of ops) at.set(`${o.job}\u0000${o.op}`, o.start);
  for (let i = 0; i < model.n; i++)
    model.ref[i] = at.get(`${model.jobIds[model.job[i]]}\u0000${model.opIndex[i]}`) ?? NaN;
}
