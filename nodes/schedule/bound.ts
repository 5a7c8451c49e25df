/**
 * Lower bounds, so that "optimal" and the gap are honest. Relaxations of the Model:
 * - job bound: earliest start + the shortest durations of the job's remaining operations;
 * - machine bound: for each machine, the operations that can run only there, as a one-machine
 *   problem with heads and tails, solved preemptively (Jackson's preemptive schedule, exact for
 *   the relaxation);
 * - capacity bound for flexible operations: total shortest work over the machines that can run it;
 * - frozen operations end where they end.
 * Windows, setups and materials are dropped (they can only make plans longer), so the bound holds.
 * For a tardiness objective each job's bound is compared with its due date.
 */
import type { Model } from './model';

export interface Bounds {
  makespan: number;
  /** Per job: a lower bound on its completion. */
  jobEnd: Float64Array;
  /** Lower bound on the objective value. */
  objective: number;
}

export function lowerBound(m: Model): Bounds {
  const n = m.n;
  const minDur = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let d = Infinity;
    for (let k = m.altStart[i]; k < m.altStart[i + 1]; k++) d = Math.min(d, m.altDur[k]);
    minDur[i] = d;
  }
  // heads (earliest start) and tails (work after) along each job
  const head = new Float64Array(n);
  const tail = new Float64Array(n);
  for (let i = 0; i < n; i++) head[i] = Math.max(m.lb[i], m.jp[i] >= 0 ? head[m.jp[i]] + minDur[m.jp[i]] : 0);
  for (let i = n - 1; i >= 0; i--) tail[i] = m.js[i] >= 0 ? tail[m.js[i]] + minDur[m.js[i]] : 0;
  const jobEnd = Float64Array.from(m.frozenJobEnd, (v) => (Number.isFinite(v) ? v : 0));
  let mk = m.frozenMakespan;
  for (let j = 0; j < m.nJobs; j++) {
    const x = m.lastOp[j];
    if (x >= 0) jobEnd[j] = Math.max(jobEnd[j], head[x] + minDur[x]);
    mk = Math.max(mk, jobEnd[j]);
  }
  // one-machine relaxations for operations bound to one machine
  const only: number[][] = Array.from({ length: m.nMach }, () => []);
  const flexible: number[] = [];
  for (let i = 0; i < n; i++) {
    const m0 = m.altMach[m.altStart[i]];
    let single = true;
    for (let k = m.altStart[i] + 1; k < m.altStart[i + 1]; k++) if (m.altMach[k] !== m0) single = false;
    if (single) only[m0].push(i);
    else flexible.push(i);
  }
  for (let mc = 0; mc < m.nMach; mc++) {
    if (only[mc].length === 0) continue;
    mk = Math.max(mk, jackson(only[mc].map((i) => ({ r: head[i], p: minDur[i], q: tail[i] }))));
  }
  // capacity: all work that must go on machines of a set, over the set's size (whole shop here)
  if (flexible.length) {
    let work = 0;
    let minHead = Infinity;
    let minTail = Infinity;
    for (let i = 0; i < n; i++) {
      work += minDur[i];
      minHead = Math.min(minHead, head[i]);
      minTail = Math.min(minTail, tail[i]);
    }
    const used = new Set<number>();
    for (let k = 0; k < m.altMach.length; k++) used.add(m.altMach[k]);
    mk = Math.max(mk, Math.ceil(minHead + work / used.size + minTail));
  }
  let wt = 0;
  for (let j = 0; j < m.nJobs; j++) if (jobEnd[j] > m.due[j]) wt += (jobEnd[j] - m.due[j]) * m.weight[j];
  return { makespan: mk, jobEnd, objective: m.wMakespan * mk + m.wTardiness * wt };
}

/**
 * Preemptive one-machine bound: the makespan of Jackson's preemptive schedule (at any time run the
 * released job with the largest tail), max over jobs of completion + tail.
 */
export function jackson(jobs: { r: number; p: number; q: number }[]): number {
  const byR = [...jobs].sort((a, b) => a.r - b.r);
  const left = byR.map((j) => j.p);
  const ready: number[] = [];
  let t = 0;
  let k = 0;
  let best = 0;
  while (k < byR.length || ready.length) {
    if (!ready.length && t < byR[k].r) t = byR[k].r;
    while (k < byR.length && byR[k].r <= t) ready.push(k++);
    // largest tail first
    let bi = 0;
    for (let x = 1; x < ready.length; x++) if (byR[ready[x]].q > byR[ready[bi]].q) bi = x;
    const j = ready[bi];
    const nextR = k < byR.length ? byR[k].r : Infinity;
    const run = Math.min(left[j], nextR - t);
    t += run;
    left[j] -= run;
    if (left[j] === 0) {
      best = Math.max(best, t + byR[j].q);
      ready.splice(bi, 1);
    }
  }
  return best;
}
