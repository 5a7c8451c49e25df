import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { compile, lowerBound, parseFjs, parseJsplib, solve, validate } from '../../nodes/schedule';
import { Worker } from 'node:worker_threads';
import { jackson } from '../../nodes/schedule/bound';
import {
  type FromWorker,
  releaseSearchThreads,
  searchThreadsStarted,
  startingPlan,
  type ToWorker,
  WORKER_FILE,
} from '../../nodes/schedule/solve';
import type { Schedule, SchedulingProblem } from '../../nodes/schedule';

// ft06: Fisher & Thompson (1963), "Probabilistic learning combinations of local job-shop scheduling
// rules", the 6x6 instance (also mt06), as distributed in OR-Library / JSPLIB. Optimum 55.
const FT06 = `# Fisher and Thompson 6x6 instance
6 6
2  1  0  3  1  6  3  7  5  3  4  6
1  8  2  5  4 10  5 10  0 10  3  4
2  5  3  4  5  8  0  9  1  1  4  7
1  5  0  5  2  5  3  3  4  8  5  9
2  9  1  3  4  5  5  4  0  3  3  1
1  3  3  3  5  9  0 10  4  4  2  1
`;

/** A small deterministic random generator for test instances. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return (k: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % k;
  };
}

function randomShop(seed: number, jobs: number, machines: number, flexible: boolean): SchedulingProblem {
  const r = lcg(seed);
  return {
    machines: Array.from({ length: machines }, (_, m) => ({ id: `M${m}` })),
    jobs: Array.from({ length: jobs }, (_, j) => {
      const order = Array.from({ length: machines }, (_, m) => m);
      for (let k = order.length - 1; k > 0; k--) {
        const x = r(k + 1);
        [order[k], order[x]] = [order[x], order[k]];
      }
      return {
        id: `J${j}`,
        operations: order.map((m) => ({
          alternatives: flexible
            ? [
                { machine: `M${m}`, duration: 1 + r(9) },
                { machine: `M${(m + 1) % machines}`, duration: 1 + r(9) },
              ]
            : [{ machine: `M${m}`, duration: 1 + r(9) }],
        })),
      };
    }),
  };
}

/**
 * Exhaustive optimum by depth-first search over every order in which the jobs' next operations
 * are appended to their machines, with every machine choice (all semi-active schedules are reached
 * this way), pruned by the best found. Independent of the engine's code.
 */
function bruteForceMakespan(p: SchedulingProblem): number {
  const jobs = p.jobs;
  const next = jobs.map(() => 0);
  const ready = jobs.map(() => 0);
  const free = new Map(p.machines.map((m) => [m.id, 0]));
  let best = Infinity;
  const total = jobs.reduce((a, j) => a + j.operations.length, 0);
  const dfs = (done: number, cmax: number) => {
    if (cmax >= best) return;
    if (done === total) {
      best = cmax;
      return;
    }
    for (let j = 0; j < jobs.length; j++) {
      if (next[j] >= jobs[j].operations.length) continue;
      for (const a of jobs[j].operations[next[j]].alternatives) {
        const s = Math.max(ready[j], free.get(a.machine) as number);
        const e = s + a.duration;
        const r0 = ready[j];
        const f0 = free.get(a.machine) as number;
        ready[j] = e;
        free.set(a.machine, e);
        next[j]++;
        dfs(done + 1, Math.max(cmax, e));
        next[j]--;
        ready[j] = r0;
        free.set(a.machine, f0);
      }
    }
  };
  dfs(0, 0);
  return best;
}

const ok = (p: SchedulingProblem, s: Schedule) => assert.deepEqual(validate(p, s), []);

describe('schedule engine: parsers', () => {
  it('reads JSPLIB text with comments, 0-based machines, jobs J0.. and machines M0..', () => {
    const p = parseJsplib(FT06);
    assert.equal(p.jobs.length, 6);
    assert.deepEqual(
      p.machines.map((m) => m.id),
      ['M0', 'M1', 'M2', 'M3', 'M4', 'M5'],
    );
    assert.deepEqual(p.jobs[0].operations[0].alternatives, [{ machine: 'M2', duration: 1 }]);
    assert.deepEqual(p.jobs[5].operations[5].alternatives, [{ machine: 'M2', duration: 1 }]);
    assert.equal(p.jobs[3].id, 'J3');
  });

  it('reads Brandimarte .fjs text with 1-based machines, with or without the third header number', () => {
    const text = '2 3 1.5\n2 2 1 5 3 4 1 2 3\n1 1 3 7\n';
    for (const t of [text, text.replace(' 1.5', '')]) {
      const p = parseFjs(t);
      assert.equal(p.machines.length, 3);
      assert.deepEqual(p.jobs[0].operations[0].alternatives, [
        { machine: 'M0', duration: 5 },
        { machine: 'M2', duration: 4 },
      ]);
      assert.deepEqual(p.jobs[0].operations[1].alternatives, [{ machine: 'M1', duration: 3 }]);
      assert.deepEqual(p.jobs[1].operations[0].alternatives, [{ machine: 'M2', duration: 7 }]);
    }
  });

  it('refuses malformed text with a clear error', () => {
    assert.throws(() => parseJsplib('2 2\n0 5 1 x\n'), /not a number/);
    assert.throws(() => parseJsplib('1 2\n0 5 7 3\n'), /names machine 7/);
    assert.throws(() => parseFjs('1 2\n1 1 3 4\n'), /names machine 3/);
    assert.throws(() => parseFjs('1 2\n2 1 1 4\n'), /ended early/);
  });
});

describe('schedule engine: solve', function () {
  this.timeout(60000);

  it('finds the optimum 55 of ft06 and the plan passes validate', async () => {
    const p = parseJsplib(FT06);
    const s = await solve(p, { timeLimitMs: 5000, workers: 0, target: 55 });
    assert.equal(s.makespan, 55);
    assert.ok(s.lowerBound <= 55);
    ok(p, s);
  });

  it('finds the optimum of small random job shops (checked by exhaustive search)', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const p = randomShop(seed, 4, 3, false);
      const opt = bruteForceMakespan(p);
      const s = await solve(p, { timeLimitMs: 3000, workers: 0, seed, target: opt });
      assert.equal(s.makespan, opt, `seed ${seed}`);
      assert.ok(s.lowerBound <= opt, `seed ${seed}: bound ${s.lowerBound} above optimum ${opt}`);
      ok(p, s);
    }
  });

  it('finds the optimum of small random flexible job shops (checked by exhaustive search)', async () => {
    for (const seed of [11, 12, 13]) {
      const p = randomShop(seed, 3, 3, true);
      const opt = bruteForceMakespan(p);
      const s = await solve(p, { timeLimitMs: 3000, workers: 0, seed, target: opt });
      assert.equal(s.makespan, opt, `seed ${seed}`);
      ok(p, s);
    }
  });

  it('reports "optimal" when the plan meets the lower bound', async () => {
    const p: SchedulingProblem = {
      machines: [{ id: 'A' }, { id: 'B' }],
      jobs: [
        {
          id: 'x',
          operations: [
            { alternatives: [{ machine: 'A', duration: 4 }] },
            { alternatives: [{ machine: 'B', duration: 2 }] },
          ],
        },
        {
          id: 'y',
          operations: [
            { alternatives: [{ machine: 'A', duration: 3 }] },
            { alternatives: [{ machine: 'B', duration: 6 }] },
          ],
        },
      ],
    };
    // Johnson's rule: y first (3 < ...), makespan 3 + 6 + 2 = 11; machine B bound = 3 + 8 = 11.
    const s = await solve(p, { timeLimitMs: 2000, workers: 0 });
    assert.equal(s.makespan, 11);
    assert.equal(s.lowerBound, 11);
    assert.equal(s.status, 'optimal');
    ok(p, s);
  });

  it('runs in worker threads and returns a valid plan no better than the known optimum (ft06)', async () => {
    const p = parseJsplib(FT06);
    const s = await solve(p, { timeLimitMs: 1500, workers: 2 });
    assert.ok(s.makespan >= 55);
    ok(p, s);
  });

  it('stops on abort with the best plan so far', async () => {
    const p = randomShop(7, 15, 8, false);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 300); // in case no improvement is ever reported
    const s = await solve(p, {
      timeLimitMs: 600000,
      workers: 1,
      signal: ac.signal,
      onProgress: () => ac.abort(),
    }).finally(() => clearTimeout(timer));
    ok(p, s);
    assert.equal(s.status === 'optimal' || s.status === 'feasible', true);
  });

  it('honours windows, setups, materials, releases, now and frozen operations', async () => {
    const p: SchedulingProblem = {
      machines: [{ id: 'M1', unavailable: [{ start: 10, end: 30, reason: 'maintenance' }] }, { id: 'M2' }],
      materials: [
        {
          id: 'steel',
          available: [
            { at: 0, qty: 2 },
            { at: 50, qty: 10 },
          ],
        },
      ],
      jobs: [
        {
          id: 'J1',
          operations: [
            { alternatives: [{ machine: 'M1', duration: 5 }], setupFamily: 'A' },
            { alternatives: [{ machine: 'M2', duration: 8 }], consumes: [{ material: 'steel', qty: 2 }] },
          ],
        },
        {
          id: 'J2',
          release: 3,
          due: 40,
          operations: [
            {
              alternatives: [{ machine: 'M1', duration: 12 }],
              setupFamily: 'B',
              consumes: [{ material: 'steel', qty: 2 }],
            },
            { alternatives: [{ machine: 'M2', duration: 4 }] },
          ],
        },
        {
          id: 'J3',
          operations: [
            {
              alternatives: [
                { machine: 'M1', duration: 6 },
                { machine: 'M2', duration: 9 },
              ],
              setupFamily: 'A',
            },
            { alternatives: [{ machine: 'M2', duration: 2 }] },
          ],
        },
      ],
      setup: {
        M1: [
          { from: 'A', to: 'B', time: 7 },
          { from: 'B', to: 'A', time: 7 },
        ],
      },
      now: 2,
      frozen: [{ job: 'J1', op: 0, machine: 'M1', start: 0, end: 5 }],
    };
    const s = await solve(p, { timeLimitMs: 1000, workers: 0 });
    ok(p, s);
    const at = (job: string, op: number) => s.operations.find((o) => o.job === job && o.op === op);
    assert.deepEqual(at('J1', 0), { job: 'J1', op: 0, machine: 'M1', start: 0, end: 5 });
    // only 2 steel until 50: one of the two consumers waits for the delivery
    const steel = [at('J1', 1), at('J2', 0)].map((o) => o?.start ?? -1).sort((a, b) => a - b);
    assert.ok(steel[1] >= 50, `second steel consumer starts at ${steel[1]}`);
    // J2 on M1 (12 long) cannot fit before the window: it starts at 30 or later
    assert.ok((at('J2', 0)?.start ?? 0) >= 30);
  });

  it('minimises weighted tardiness on one machine like an exhaustive search', async () => {
    const durs = [4, 3, 7, 2, 5];
    const due = [6, 5, 20, 3, 9];
    const w = [1, 3, 1, 2, 2];
    const p: SchedulingProblem = {
      machines: [{ id: 'M' }],
      jobs: durs.map((d, j) => ({
        id: `J${j}`,
        due: due[j],
        weight: w[j],
        operations: [{ alternatives: [{ machine: 'M', duration: d }] }],
      })),
      objective: { makespan: 0, weightedTardiness: 1 },
    };
    let best = Infinity;
    const perm = (left: number[], t: number, cost: number) => {
      if (cost >= best) return;
      if (!left.length) best = cost;
      for (const j of left)
        perm(
          left.filter((x) => x !== j),
          t + durs[j],
          cost + Math.max(0, t + durs[j] - due[j]) * w[j],
        );
    };
    perm([0, 1, 2, 3, 4], 0, 0);
    const s = await solve(p, { timeLimitMs: 2000, workers: 0 });
    assert.equal(s.weightedTardiness, best);
    ok(p, s);
  });
});

describe('schedule engine: kept search threads', function () {
  this.timeout(30000);
  after(() => releaseSearchThreads());

  it('solves again and again on the threads of the first solve, starting no new ones', async () => {
    await releaseSearchThreads();
    const before = searchThreadsStarted();
    for (let k = 0; k < 4; k++) {
      const p = randomShop(200 + k, 6, 4, false);
      const s = await solve(p, { timeLimitMs: 200, workers: 2 });
      ok(p, s);
    }
    assert.equal(searchThreadsStarted() - before, 2);
  });

  it('refuses a problem that cannot be copied to its threads before taking one', async () => {
    const p = randomShop(3, 4, 3, false);
    await solve(p, { timeLimitMs: 100, workers: 1 });
    const before = searchThreadsStarted();
    const bad = { ...p, note: () => 'not data' } as unknown as SchedulingProblem;
    await assert.rejects(solve(bad, { timeLimitMs: 100, workers: 1, target: 0 }), (e: TaktError) => {
      assert.equal(e.code, 'schedule.badProblem');
      return true;
    });
    ok(p, await solve(p, { timeLimitMs: 100, workers: 1, target: 0 }));
    assert.equal(searchThreadsStarted() - before, 0);
  });

  it('a kept thread ignores a stop meant for an earlier search, and obeys one for its own', async () => {
    const p = randomShop(7, 15, 8, false);
    const start = startingPlan(compile(p), undefined, 1);
    const w = new Worker(WORKER_FILE);
    const next = () =>
      new Promise<{ msg: FromWorker; at: number }>((resolve) => {
        const on = (msg: FromWorker) => {
          if (msg.type === 'best') return;
          w.off('message', on);
          resolve({ msg, at: Date.now() });
        };
        w.on('message', on);
      });
    try {
      let deadline = Date.now() + 300;
      let init = { problem: p, seed: 1, deadline, t0: Date.now(), target: 0, start };
      let reply = next();
      w.postMessage({ type: 'start', job: 2, init } satisfies ToWorker);
      w.postMessage({ type: 'stop', job: 1 } satisfies ToWorker); // queued behind the start: read while searching
      let { msg, at } = await reply;
      assert.equal(msg.type, 'done');
      assert.ok(at >= deadline, `stopped ${deadline - at} ms before its deadline`);
      deadline = Date.now() + 60000;
      init = { ...init, deadline };
      reply = next();
      w.postMessage({ type: 'start', job: 3, init } satisfies ToWorker);
      w.postMessage({ type: 'stop', job: 3 } satisfies ToWorker);
      ({ msg, at } = await reply);
      assert.equal(msg.type, 'done');
      assert.ok(at < deadline - 50000, 'the stop for its own search was not obeyed');
    } finally {
      await w.terminate();
    }
  });
});

describe('schedule engine: lower bound', () => {
  it("Jackson's preemptive schedule gives the known one-machine bound", () => {
    // r, p, q: at 0 run a (q 1); b arrives at 1 with q 10 and preempts; b ends 6 -> 16; a ends 9 -> 10
    assert.equal(
      jackson([
        { r: 0, p: 4, q: 1 },
        { r: 1, p: 5, q: 10 },
      ]),
      16,
    );
  });

  it('is at most the optimum and at least the longest job and the busiest machine', () => {
    const p = parseJsplib(FT06);
    const lb = lowerBound(p);
    assert.ok(lb <= 55);
    const longestJob = Math.max(
      ...p.jobs.map((j) => j.operations.reduce((a, o) => a + o.alternatives[0].duration, 0)),
    );
    assert.ok(lb >= longestJob);
    for (let k = 0; k < 5; k++) {
      const q = randomShop(100 + k, 4, 3, false);
      assert.ok(lowerBound(q) <= bruteForceMakespan(q));
    }
  });
});

describe('schedule engine: bad input', () => {
  const base = (): SchedulingProblem => ({
    machines: [{ id: 'M1' }],
    materials: [{ id: 'steel', available: [{ at: 0, qty: 3 }] }],
    jobs: [{ id: 'J1', operations: [{ alternatives: [{ machine: 'M1', duration: 5 }] }] }],
  });
  const fails = (change: (p: SchedulingProblem) => void, code: string, text: RegExp) => {
    const p = base();
    change(p);
    assert.throws(
      () => compile(p),
      (e: unknown) => e instanceof TaktError && e.code === code && text.test(e.message),
    );
  };

  it('names the job and operation of an unknown machine, a bad duration, a job without operations', () => {
    fails(
      (p) => (p.jobs[0].operations[0].alternatives[0].machine = 'M9'),
      'schedule.unknownMachine',
      /job J1 operation 0: unknown machine "M9"/,
    );
    fails(
      (p) => (p.jobs[0].operations[0].alternatives[0].duration = -1),
      'schedule.badDuration',
      /job J1 operation 0 on M1: duration -1/,
    );
    fails(
      (p) => (p.jobs[0].operations[0].alternatives[0].duration = 2.5),
      'schedule.badDuration',
      /duration 2.5/,
    );
    fails((p) => (p.jobs[0].operations = []), 'schedule.noOperations', /job J1 has no operations/);
  });

  it('refuses a material plan that can never be served', () => {
    fails(
      (p) => {
        p.jobs[0].operations[0].consumes = [{ material: 'steel', qty: 2 }];
        p.jobs.push({
          id: 'J2',
          operations: [
            { alternatives: [{ machine: 'M1', duration: 1 }], consumes: [{ material: 'steel', qty: 2 }] },
          ],
        });
      },
      'schedule.materialShort',
      /job J2 operation 0 needs 2 steel but only 3/,
    );
  });

  it('refuses a frozen operation after a free one in the same job', () => {
    fails(
      (p) => {
        p.jobs[0].operations.push({ alternatives: [{ machine: 'M1', duration: 1 }] });
        p.frozen = [{ job: 'J1', op: 1, machine: 'M1', start: 0, end: 1 }];
      },
      'schedule.badFrozen',
      /job J1 operation 1 is frozen but operation 0/,
    );
  });
});

describe('schedule engine: validate', () => {
  const problem: SchedulingProblem = {
    machines: [{ id: 'M1', unavailable: [{ start: 100, end: 110 }] }, { id: 'M2' }],
    materials: [
      {
        id: 'steel',
        available: [
          { at: 0, qty: 1 },
          { at: 50, qty: 1 },
        ],
      },
    ],
    jobs: [
      {
        id: 'J1',
        release: 5,
        due: 20,
        operations: [
          {
            alternatives: [{ machine: 'M1', duration: 10 }],
            setupFamily: 'A',
            consumes: [{ material: 'steel', qty: 1 }],
          },
          { alternatives: [{ machine: 'M2', duration: 5 }] },
        ],
      },
      {
        id: 'J2',
        operations: [
          {
            alternatives: [{ machine: 'M1', duration: 10 }],
            setupFamily: 'B',
            consumes: [{ material: 'steel', qty: 1 }],
          },
        ],
      },
    ],
    setup: { M1: [{ from: 'A', to: 'B', time: 5 }] },
    frozen: [],
  };
  const good = (): Schedule => ({
    operations: [
      { job: 'J1', op: 0, machine: 'M1', start: 5, end: 15 },
      { job: 'J1', op: 1, machine: 'M2', start: 15, end: 20 },
      { job: 'J2', op: 0, machine: 'M1', start: 50, end: 60 },
    ],
    makespan: 60,
    weightedTardiness: 0,
    lateJobs: 0,
    lowerBound: 0,
    status: 'feasible',
    elapsedMs: 0,
  });
  const codes = (s: Schedule, p: SchedulingProblem = problem) => validate(p, s).map((v) => v.code);

  it('accepts a correct plan', () => assert.deepEqual(codes(good()), []));

  it('catches each kind of violation', () => {
    const cases: [string, (s: Schedule) => void, SchedulingProblem?][] = [
      ['missing', (s) => s.operations.splice(1, 1)],
      ['duplicate', (s) => s.operations.push({ ...s.operations[0] })],
      ['unknown', (s) => s.operations.push({ job: 'J7', op: 0, machine: 'M1', start: 200, end: 210 })],
      ['machine', (s) => (s.operations[1].machine = 'M1')],
      ['duration', (s) => (s.operations[1].end = 21)],
      ['release', (s) => Object.assign(s.operations[0], { start: 0, end: 10 })],
      ['now', (s) => Object.assign(s.operations[2], { start: 50, end: 60 }), { ...problem, now: 55 }],
      ['precedence', (s) => Object.assign(s.operations[1], { start: 10, end: 15 })],
      ['overlap', (s) => Object.assign(s.operations[2], { start: 10, end: 20 })],
      ['setup', (s) => Object.assign(s.operations[2], { start: 17, end: 27 })],
      ['unavailable', (s) => Object.assign(s.operations[2], { start: 95, end: 105 })],
      ['material', (s) => Object.assign(s.operations[2], { start: 30, end: 40 })],
      [
        'frozen',
        () => undefined,
        { ...problem, frozen: [{ job: 'J2', op: 0, machine: 'M1', start: 40, end: 50 }] },
      ],
      ['kpi', (s) => (s.makespan = 59)],
    ];
    for (const [code, change, p] of cases) {
      const s = good();
      change(s);
      const got = codes(s, p);
      assert.ok(got.includes(code as never), `${code}: got ${JSON.stringify(got)}`);
    }
  });

  it('names the job and operation in the message', () => {
    const s = good();
    Object.assign(s.operations[2], { start: 10, end: 20 });
    const v = validate(problem, s).find((x) => x.code === 'overlap');
    assert.equal(v?.job, 'J2');
    assert.match(v?.message ?? '', /job J1 operation 0 \(5-15\) overlaps job J2 operation 0 \(10-20\)/);
  });
});
