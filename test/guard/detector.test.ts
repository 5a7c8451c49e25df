import assert from 'node:assert/strict';
import { ATTACK_CLASSES, plantTraffic } from '../../bench/lib/guard-traffic';
import { Rng } from '../../nodes/core/random';
import { createDetector, type GuardAlert, type GuardEvent, inspectPayload } from '../../nodes/guard';

const T0 = Date.UTC(2026, 10, 2, 6, 0, 0);
const MIN = 60_000;

function trained(seed: number, minutes = 20) {
  const plant = plantTraffic(seed);
  const det = createDetector();
  det.train(plant.normal(T0, T0 + minutes * MIN));
  return { plant, det, t: T0 + minutes * MIN };
}

function observeAll(det: ReturnType<typeof createDetector>, events: GuardEvent[]): GuardAlert[] {
  return events.sort((a, b) => a.ts - b.ts).flatMap((e) => det.observe(e));
}

describe('guard detector (engine)', function () {
  this.timeout(60_000);

  it('raises no alert on later normal traffic of the plant it learned', () => {
    const { plant, det, t } = trained(1);
    const alerts = observeAll(det, plant.normal(t, t + 20 * MIN));
    assert.deepEqual(alerts, []);
    const s = det.stats();
    assert.equal(s.state, 'watching');
    assert.ok(s.windows >= 239, `windows ${s.windows}`);
    assert.equal(s.flaggedWindows, 0);
  });

  for (const cls of ATTACK_CLASSES) {
    it(`types a ${cls} attack as ${cls}, whatever its variant`, () => {
      const { plant, det, t } = trained(2);
      const rng = new Rng(99, ATTACK_CLASSES.indexOf(cls));
      let now = t;
      for (let trial = 0; trial < 6; trial++) {
        const at = now + 30_000;
        const normal = plant.normal(now, at + 30_000);
        const attack = plant.attack(cls, at, rng);
        const alerts = observeAll(det, [...normal, ...attack]);
        const hit = alerts.filter((a) => a.type === cls);
        assert.ok(hit.length > 0, `trial ${trial}: no ${cls} alert (got ${alerts.map((a) => a.type)})`);
        assert.ok(hit[0].ts >= at && hit[0].ts - at <= 5000, `trial ${trial}: delay ${hit[0].ts - at} ms`);
        // nothing before the attack started
        assert.deepEqual(
          alerts.filter((a) => a.ts < at),
          [],
        );
        now = at + 30_000 + 70_000; // past the cooldown
        observeAll(det, plant.normal(at + 30_000, now));
      }
    });
  }

  it('names the features that moved and their baselines', () => {
    const { plant, det, t } = trained(3);
    const flood: GuardEvent[] = [];
    const topic = plant.sensors[0].topic;
    for (let i = 0; i < 500; i++)
      flood.push({
        ts: t + 1000 + i * 4,
        proto: 'mqtt',
        kind: 'publish',
        client: 'sensor-0',
        addr: '127.0.0.10',
        topic,
        bytes: 30,
        payload: new TextEncoder().encode('{"value":50}'),
      });
    const alerts = observeAll(det, [...plant.normal(t, t + 5000), ...flood]);
    const a = alerts.find((x) => x.type === 'flood');
    assert.ok(a, 'a flood alert');
    assert.equal(a.client, 'sensor-0');
    assert.equal(a.addr, '127.0.0.10');
    assert.ok(a.score >= 1);
    const ev = a.evidence.find(
      (e) => ['pub', 'bytes'].includes(e.feature) && e.subject === 'client:mqtt/sensor-0',
    );
    assert.ok(ev, JSON.stringify(a.evidence));
    assert.ok(ev.baseline >= 1, `baseline ${ev.baseline}`);
    assert.ok(ev.value > ev.threshold && ev.threshold > ev.baseline);
  });

  it('holds back a repeated alert of one type from one source for the cooldown', () => {
    const { det, t } = trained(4);
    const fails = (from: number): GuardEvent[] =>
      Array.from({ length: 20 }, (_, i) => ({
        ts: from + i * 100,
        proto: 'mqtt' as const,
        kind: 'auth-fail' as const,
        client: `c${i}`,
        addr: '10.0.0.9',
        user: 'admin',
      }));
    const first = observeAll(det, fails(t + 1000)).filter((a) => a.type === 'brute-force');
    assert.equal(first.length, 1);
    const again = observeAll(det, fails(t + 10_000)).filter((a) => a.type === 'brute-force');
    assert.equal(again.length, 0);
    assert.ok(det.stats().suppressed > 0);
    const later = observeAll(det, fails(t + 80_000)).filter((a) => a.type === 'brute-force');
    assert.equal(later.length, 1);
  });

  it('adds up a slow password guesser (refused logins fade over minutes, not per window)', () => {
    const { det, t } = trained(8);
    const slow: GuardEvent[] = Array.from({ length: 10 }, (_, i) => ({
      ts: t + 1000 + i * 20_000,
      proto: 'opcua' as const,
      kind: 'auth-fail' as const,
      client: `s${i}`,
      user: 'mes',
      addr: '10.0.0.5',
    }));
    const alerts = observeAll(det, slow);
    assert.ok(
      alerts.some((a) => a.type === 'brute-force'),
      JSON.stringify(alerts.map((a) => a.type)),
    );
  });

  it("judges a client's payloads by its own held-out noise, not by a drifting neighbour's", () => {
    const plant = plantTraffic(9);
    const events = plant.normal(T0, T0 + 20 * MIN);
    // a client whose values run away in the held-out part (a process drifting, not an attack)
    for (let t = 0; t < 20 * 60; t += 1) {
      const v = t < 14 * 60 ? 10 + (t % 3) : 10 * (t - 14 * 60);
      events.push({
        ts: T0 + t * 1000 + 7,
        proto: 'mqtt',
        kind: 'publish',
        client: 'drifter',
        addr: '127.0.0.99',
        topic: 'acme/drift/a',
        payload: new TextEncoder().encode(String(v)),
      });
      events.push({
        ts: T0 + t * 1000 + 8,
        proto: 'mqtt',
        kind: 'publish',
        client: 'drifter',
        addr: '127.0.0.99',
        topic: 'acme/drift/b',
        payload: new TextEncoder().encode(String(v)),
      });
    }
    const det = createDetector();
    det.train(events);
    assert.ok(det.stats().thresholds.outOfRange > 1, 'the drift raised the global threshold');
    const s = plant.sensors[0];
    const t = T0 + 20 * MIN + 1000;
    const bad = s.json ? JSON.stringify({ value: s.mean * 50, unit: 'u' }) : String(s.mean * 50);
    const alerts = observeAll(det, [
      {
        ts: t,
        proto: 'mqtt',
        kind: 'publish',
        client: 'sensor-0',
        addr: '127.0.0.10',
        topic: s.topic,
        payload: new TextEncoder().encode(bad),
      },
    ]);
    assert.deepEqual(
      alerts.map((a) => a.type),
      ['malformed'],
    );
  });

  it('types an alert only by what its event moved (a lingering count is context, not a second alert)', () => {
    const { det, t } = trained(10);
    const fails: GuardEvent[] = Array.from({ length: 20 }, (_, i) => ({
      ts: t + 1000 + i * 100,
      proto: 'mqtt' as const,
      kind: 'auth-fail' as const,
      client: `g${i}`,
      user: 'admin',
      addr: '10.0.0.9',
    }));
    observeAll(det, fails);
    const later = observeAll(det, [
      { ts: t + 9000, proto: 'mqtt', kind: 'connect', client: 'newcomer', addr: '10.0.0.77', keepalive: 60 },
    ]);
    assert.deepEqual(
      later.map((a) => a.type),
      ['new-client'],
    );
    assert.ok(
      later[0].evidence.some((e) => e.feature === 'authFail'),
      'the lingering failures are shown as context',
    );
  });

  it('keeps memory bounded: subjects over the cap are counted as dropped', () => {
    const plant = plantTraffic(5);
    const det = createDetector({ maxSubjects: 40 });
    det.train(plant.normal(T0, T0 + 10 * MIN));
    const t = T0 + 10 * MIN;
    const many: GuardEvent[] = Array.from({ length: 500 }, (_, i) => ({
      ts: t + i,
      proto: 'mqtt',
      kind: 'connect',
      client: `n${i}`,
      addr: `10.1.${i >> 8}.${i & 255}`,
    }));
    observeAll(det, many);
    const s = det.stats();
    assert.ok(s.subjects <= 40, `subjects ${s.subjects}`);
    assert.ok(s.droppedSubjects > 0);
  });

  it('refuses bad events, observing before training, and too little training', () => {
    const det = createDetector();
    assert.throws(() => det.observe({ ts: 1, proto: 'mqtt', kind: 'publish', client: 'a' }), {
      code: 'guard.notTrained',
    });
    assert.throws(() => det.train([]), { code: 'guard.noEvents' });
    assert.throws(() => det.train([{ ts: Number.NaN, proto: 'mqtt', kind: 'publish', client: 'a' }]), {
      code: 'guard.badEvent',
      message: /ts/,
    });
    assert.throws(() => det.train([{ ts: 1, proto: 'http' as 'mqtt', kind: 'publish', client: 'a' }]), {
      code: 'guard.badEvent',
      message: /proto/,
    });
    assert.throws(() => det.train([{ ts: 1, proto: 'mqtt', kind: 'poke' as 'publish', client: 'a' }]), {
      code: 'guard.badEvent',
      message: /kind/,
    });
    const short = plantTraffic(6).normal(T0, T0 + 8000);
    assert.throws(() => det.train(short), { code: 'guard.tooLittle' });
    assert.throws(() => createDetector({ windowMs: 10 }), { code: 'guard.badOption', message: /windowMs/ });
  });

  it('trains the same way streaming (begin, learn, end) as from a list', () => {
    const events = plantTraffic(7).normal(T0, T0 + 10 * MIN);
    const a = createDetector();
    a.train(events);
    const b = createDetector();
    b.beginTraining(T0 + 0.7 * (events.at(-1)!.ts - T0));
    for (const e of events) b.learn(e);
    b.endTraining(events.at(-1)!.ts);
    assert.deepEqual(b.stats().thresholds, a.stats().thresholds);
  });

  it('reads the kind and numbers of payloads', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.deepEqual(inspectPayload(enc(' 12.5 '), false), { kind: 'number', numbers: [['', 12.5]] });
    assert.deepEqual(inspectPayload(enc('{"a":1,"b":{"c":2},"d":"x"}'), false), {
      kind: 'json',
      numbers: [
        ['a', 1],
        ['b.c', 2],
      ],
    });
    assert.equal(inspectPayload(enc('{"a":'), false).kind, 'text');
    assert.equal(inspectPayload(new Uint8Array([0xff, 0xfe]), false).kind, 'binary');
    assert.equal(inspectPayload(new Uint8Array(0), false).kind, 'empty');
    assert.equal(inspectPayload(enc('not protobuf at all'), true).kind, 'binary');
  });
});
