/**
 * validate(problem, schedule): every violated constraint, not just the first. Independent of the
 * solver's code paths on purpose (plain loops over the contract), so tests can trust it.
 */
import { compile } from './model';
import type { Schedule, ScheduledOperation, SchedulingProblem, Violation } from './types';

export function validate(problem: SchedulingProblem, schedule: Schedule): Violation[] {
  compile(problem); // bad input throws here, with the job and operation named
  const out: Violation[] = [];
  const v = (x: Violation) => out.push(x);
  const now = problem.now ?? 0;
  const machineIds = new Set(problem.machines.map((m) => m.id));
  const byKey = new Map<string, ScheduledOperation>();
  const frozen = new Map<string, ScheduledOperation>();
  for (const f of problem.frozen ?? []) frozen.set(`${f.job}\u0000${f.op}`, f);
  const jobs = new Map(problem.jobs.map((j) => [j.id, j]));

  for (const o of schedule.operations ?? []) {
    const key = `${o.job}\u0000${o.op}`;
    const job = jobs.get(o.job);
    if (!job || !Number.isInteger(o.op) || o.op < 0 || o.op >= job.operations.length) {
      v({
        code: 'unknown',
        message: `job ${o.job} operation ${o.op} is not in the problem`,
        job: o.job,
        op: o.op,
      });
      continue;
    }
    if (byKey.has(key)) {
      v({
        code: 'duplicate',
        message: `job ${o.job} operation ${o.op} is scheduled more than once`,
        job: o.job,
        op: o.op,
      });
      continue;
    }
    byKey.set(key, o);
    const f = frozen.get(key);
    if (f && (f.machine !== o.machine || f.start !== o.start || f.end !== o.end))
      v({
        code: 'frozen',
        message: `job ${o.job} operation ${o.op} is frozen at ${f.machine} ${f.start}-${f.end} but scheduled at ${o.machine} ${o.start}-${o.end}`,
        job: o.job,
        op: o.op,
      });
    if (!machineIds.has(o.machine)) {
      v({
        code: 'machine',
        message: `job ${o.job} operation ${o.op} runs on unknown machine ${o.machine}`,
        job: o.job,
        op: o.op,
        machine: o.machine,
      });
      continue;
    }
    if (f) continue; // a frozen operation is what happened on the floor: its duration is as reported
    const alt = job.operations[o.op].alternatives.find((a) => a.machine === o.machine);
    if (!alt)
      v({
        code: 'machine',
        message: `job ${o.job} operation ${o.op} cannot run on ${o.machine}`,
        job: o.job,
        op: o.op,
        machine: o.machine,
      });
    else if (o.end - o.start !== alt.duration)
      v({
        code: 'duration',
        message: `job ${o.job} operation ${o.op} on ${o.machine} lasts ${o.end - o.start}, not ${alt.duration}`,
        job: o.job,
        op: o.op,
        machine: o.machine,
      });
    if (o.start < now)
      v({
        code: 'now',
        message: `job ${o.job} operation ${o.op} starts at ${o.start}, before now (${now})`,
        job: o.job,
        op: o.op,
      });
    if (o.op === 0 && o.start < (job.release ?? 0))
      v({
        code: 'release',
        message: `job ${o.job} starts at ${o.start}, before its release ${job.release}`,
        job: o.job,
        op: o.op,
      });
  }
  // every operation once; job order
  for (const j of problem.jobs)
    j.operations.forEach((_, i) => {
      const o = byKey.get(`${j.id}\u0000${i}`);
      if (!o) {
        v({ code: 'missing', message: `job ${j.id} operation ${i} is not scheduled`, job: j.id, op: i });
        return;
      }
      const p = i > 0 ? byKey.get(`${j.id}\u0000${i - 1}`) : undefined;
      const bothFrozen = frozen.has(`${j.id}\u0000${i}`) && frozen.has(`${j.id}\u0000${i - 1}`);
      if (p && o.start < p.end && !bothFrozen)
        v({
          code: 'precedence',
          message: `job ${j.id} operation ${i} starts at ${o.start}, before operation ${i - 1} ends (${p.end})`,
          job: j.id,
          op: i,
        });
    });
  // machines: one at a time, setups, windows
  const family = (o: ScheduledOperation) => jobs.get(o.job)?.operations[o.op]?.setupFamily;
  for (const m of problem.machines) {
    const list = [...byKey.values()]
      .filter((o) => o.machine === m.id)
      .sort((a, b) => a.start - b.start || a.end - b.end);
    const rules = problem.setup?.[m.id] ?? [];
    for (let k = 1; k < list.length; k++) {
      const a = list[k - 1];
      const b = list[k];
      // two frozen operations are what happened on the floor: never a violation between them
      if (frozen.has(`${a.job}\u0000${a.op}`) && frozen.has(`${b.job}\u0000${b.op}`)) continue;
      if (b.start < a.end && b.end > b.start && a.end > a.start)
        v({
          code: 'overlap',
          message: `${m.id}: job ${a.job} operation ${a.op} (${a.start}-${a.end}) overlaps job ${b.job} operation ${b.op} (${b.start}-${b.end})`,
          machine: m.id,
          job: b.job,
          op: b.op,
        });
      else {
        const fa = family(a);
        const fb = family(b);
        const rule = rules.find((r) => r.from === fa && r.to === fb);
        if (rule && b.start < a.end + rule.time && !frozen.has(`${b.job}\u0000${b.op}`))
          v({
            code: 'setup',
            message: `${m.id}: job ${b.job} operation ${b.op} starts ${b.start}, but the setup ${fa}->${fb} after job ${a.job} operation ${a.op} needs until ${a.end + rule.time}`,
            machine: m.id,
            job: b.job,
            op: b.op,
          });
      }
    }
    for (const o of list) {
      if (frozen.has(`${o.job}\u0000${o.op}`)) continue;
      for (const w of m.unavailable ?? [])
        if (o.start < w.end && o.end > w.start && o.end > o.start)
          v({
            code: 'unavailable',
            message: `${m.id}: job ${o.job} operation ${o.op} (${o.start}-${o.end}) runs while the machine is unavailable (${w.start}-${w.end}${w.reason ? ', ' + w.reason : ''})`,
            machine: m.id,
            job: o.job,
            op: o.op,
          });
    }
  }
  // materials: at every start, what has been consumed up to then is at most what has arrived
  for (const mt of problem.materials ?? []) {
    const uses: { t: number; qty: number; o: ScheduledOperation }[] = [];
    for (const o of byKey.values())
      for (const c of jobs.get(o.job)?.operations[o.op]?.consumes ?? [])
        if (c.material === mt.id && c.qty > 0) uses.push({ t: o.start, qty: c.qty, o });
    uses.sort((a, b) => a.t - b.t);
    let used = 0;
    for (let k = 0; k < uses.length; k++) {
      used += uses[k].qty;
      if (k + 1 < uses.length && uses[k + 1].t === uses[k].t) continue;
      const got = mt.available.filter((a) => a.at <= uses[k].t).reduce((s, a) => s + a.qty, 0);
      if (used > got + 1e-9) {
        const o = uses[k].o;
        v({
          code: 'material',
          message: `material ${mt.id}: ${used} used by ${o.start} (job ${o.job} operation ${o.op}) but only ${got} available by then`,
          job: o.job,
          op: o.op,
        });
      }
    }
  }
  // reported figures
  const ends = new Map<string, number>();
  for (const o of byKey.values()) ends.set(o.job, Math.max(ends.get(o.job) ?? -Infinity, o.end));
  const makespan = Math.max(0, ...[...ends.values()]);
  if (schedule.makespan !== makespan)
    v({
      code: 'kpi',
      message: `makespan is reported as ${schedule.makespan} but the operations end at ${makespan}`,
    });
  let wt = 0;
  let late = 0;
  for (const j of problem.jobs) {
    const c = ends.get(j.id);
    if (c !== undefined && j.due !== undefined && c > j.due) {
      wt += (c - j.due) * (j.weight ?? 1);
      late++;
    }
  }
  if (schedule.weightedTardiness !== wt)
    v({
      code: 'kpi',
      message: `weightedTardiness is reported as ${schedule.weightedTardiness} but is ${wt}`,
    });
  if (schedule.lateJobs !== late)
    v({ code: 'kpi', message: `lateJobs is reported as ${schedule.lateJobs} but is ${late}` });
  return out;
}
