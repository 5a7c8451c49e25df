import assert from 'node:assert/strict';
import { ATTACK_CLASSES, plantTraffic } from '../../bench/lib/guard-traffic';
import { Rng } from '../../nodes/core/random';
import {
  clientFamily,
  createDetector,
  type GuardAlert,
  type GuardEvent,
  inspectPayload,
} from '../../nodes/guard';
import { codec } from '../../nodes/mqtt/codec';

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

  it('takes a busier window below twice the busiest learned one for traffic, a multiple for a flood', () => {
    const plant = plantTraffic(13);
    const events = plant.normal(T0, T0 + 20 * MIN);
    const det = createDetector();
    det.train(events);
    // the box's busiest 5 s window of publishes in the learned (not held-out) part
    const perWindow = new Map<number, number>();
    for (const e of events)
      if (e.kind === 'publish' && e.ts < T0 + 14 * MIN)
        perWindow.set(Math.floor(e.ts / 5000), (perWindow.get(Math.floor(e.ts / 5000)) ?? 0) + 1);
    const busiest = Math.max(...perWindow.values());
    let t = T0 + 20 * MIN;
    /** Normal traffic plus `extra` more publishes, spread over the sensors, in one 5 s window. */
    const burst = (extra: number) => {
      const more: GuardEvent[] = Array.from({ length: extra }, (_, i) => {
        const k = i % plant.sensors.length;
        const s = plant.sensors[k];
        return {
          ts: t + 5000 + Math.floor((i * 4900) / extra),
          proto: 'mqtt',
          kind: 'publish',
          client: `sensor-${k}`,
          addr: `127.0.0.${10 + k}`,
          topic: s.topic,
          // a value as the sensor sends it (the same size)
          payload: new TextEncoder().encode(
            s.json ? JSON.stringify({ value: Number(s.mean.toFixed(3)), unit: 'u' }) : s.mean.toFixed(3),
          ),
        };
      });
      const alerts = observeAll(det, [...plant.normal(t, t + 15_000), ...more]);
      t += 90_000; // past the cooldown
      observeAll(det, plant.normal(t - 75_000, t));
      return alerts.filter((a) => a.type === 'flood');
    };
    const calm = burst(Math.round(0.9 * busiest));
    assert.deepEqual(calm, [], JSON.stringify(calm[0]?.evidence));
    assert.ok(burst(Math.round(3 * busiest)).length > 0, 'four times the busiest window');
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
    // a client whose values glitch ever further in the held-out part (each glitch ten times the last)
    for (let t = 0; t < 20 * 60; t += 1) {
      const k = t - 14 * 60;
      const v = k < 0 || k % 30 !== 0 ? 10 + (t % 3) : 10 ** (2 + k / 30);
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

  it('keeps memory bounded: new subjects over the cap evict the oldest new ones, learned ones stay', () => {
    const plant = plantTraffic(5);
    const det = createDetector({ maxSubjects: 40 });
    det.train(plant.normal(T0, T0 + 10 * MIN));
    const learned = det.stats().subjects;
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
    assert.equal(s.subjects, 40);
    assert.ok(s.evictedSubjects >= 500 * 2 - (40 - learned), `evicted ${s.evictedSubjects}`);
    // a learned sensor is still judged by its own baseline: its flood is seen
    const topic = plant.sensors[0].topic;
    const flood: GuardEvent[] = Array.from({ length: 400 }, (_, i) => ({
      ts: t + 1000 + i * 5,
      proto: 'mqtt',
      kind: 'publish',
      client: 'sensor-0',
      addr: '127.0.0.10',
      topic,
      bytes: 30,
    }));
    const alerts = observeAll(det, flood);
    assert.ok(
      alerts.some((a) => a.type === 'flood' && a.evidence.some((e) => e.subject === 'client:mqtt/sensor-0')),
      JSON.stringify(alerts.map((a) => a.type)),
    );
    // training keeps at most maxLearned of each learned set and counts the rest
    const small = createDetector({ maxLearned: 5 });
    small.train(plantTraffic(5).normal(T0, T0 + 10 * MIN));
    assert.ok(small.stats().learnedDropped > 0);
  });

  it("treats process excursions as the process's business, and values no sensor gives as malformed", () => {
    const plant = plantTraffic(11);
    const events = plant.normal(T0, T0 + 20 * MIN);
    // a Sparkplug machine of its own edge node: measurements (Double), a state and a reason code (Int32)
    const topic = 'spBv1.0/Plant2/DDATA/EdgeX/M9';
    let seq = 0;
    const rng = new Rng(5);
    const dd = (ts: number, m: Record<string, [number, 'Double' | 'Int32']>): GuardEvent => ({
      ts,
      proto: 'mqtt',
      kind: 'publish',
      client: 'edge-x',
      addr: '127.0.0.50',
      topic,
      payload: codec.encodePayload({
        timestamp: ts,
        seq: seq++ % 256,
        metrics: Object.entries(m).map(([name, [value, type]]) => ({ name, type, value })),
      }),
    });
    for (let t = T0; t < T0 + 20 * MIN; t += 2000)
      events.push(
        dd(t + 11, {
          Speed: [1800 + 5 * rng.normal(), 'Double'],
          Temp: [38 + 0.3 * rng.normal(), 'Double'],
          Vibration: [2 + 0.05 * rng.normal(), 'Double'],
          StateCode: [1, 'Int32'],
          ReasonCode: [0, 'Int32'],
        }),
      );
    const det = createDetector();
    det.train(events);
    let t = T0 + 20 * MIN;
    const live = (m: Record<string, [number, 'Double' | 'Int32']>) => {
      t += 2000;
      return observeAll(det, [...plant.normal(t - 2000, t), dd(t - 1, m)]);
    };
    // the machine breaks down, cools, overheats, its bearing wears: no alert
    const excursions = [
      ...live({
        Speed: [0, 'Double'],
        Temp: [22, 'Double'],
        StateCode: [3, 'Int32'],
        ReasonCode: [101, 'Int32'],
      }),
      ...live({ Vibration: [0.1, 'Double'] }),
      ...live({ Temp: [98, 'Double'], StateCode: [1, 'Int32'], ReasonCode: [0, 'Int32'] }),
      ...live({ Vibration: [8, 'Double'], Speed: [1800, 'Double'] }),
    ];
    assert.deepEqual(excursions, []);
    // a speed no motor gives, a code sent as a float, a value that is not a number: malformed
    type Metrics = Record<string, [number, 'Double' | 'Int32']>;
    const bad: [Metrics, RegExp][] = [
      [{ Speed: [1800 * 20, 'Double'] }, /"Speed" out of range: 36000/],
      [{ StateCode: [1.5, 'Double'] }, /"StateCode" type changed/],
      [{ Temp: [Number.NaN, 'Double'] }, /"Temp" non-finite/],
    ];
    for (const [m, detail] of bad) {
      t += 70_000; // past the cooldown
      observeAll(det, plant.normal(t - 70_000, t - 2000));
      const alerts = live(m);
      const a = alerts.find((x) => x.type === 'malformed');
      assert.ok(a, `${JSON.stringify(m)}: ${JSON.stringify(alerts)}`);
      assert.match(a.evidence[0].detail ?? '', detail);
    }
  });

  it('knows a restarted program by its client id family; an unknown family is new', () => {
    const plant = plantTraffic(12);
    // the edge node's client id carries its pid, as takt-sim's does
    const as = (events: GuardEvent[], id: string) =>
      events.map((e) => (e.client === plant.edge.client ? { ...e, client: id } : e));
    const det = createDetector();
    det.train(as(plant.normal(T0, T0 + 20 * MIN), 'takt-sim-Plant1-Edge1-4242'));
    const t = T0 + 20 * MIN;
    const next = as(plant.normal(t, t + 2 * MIN), 'takt-sim-Plant1-Edge1-31337');
    // the restarted node is born again (birth, then its data in sequence)
    const first = next.find((e) => e.topic?.includes('/DDATA/'))!;
    const seq = inspectPayload(first.payload!, true).seq!;
    const rebirth: GuardEvent[] = [
      {
        ts: t,
        proto: 'mqtt',
        kind: 'connect',
        client: 'takt-sim-Plant1-Edge1-31337',
        addr: '127.0.0.2',
        keepalive: 30,
      },
      {
        ts: t + 1,
        proto: 'mqtt',
        kind: 'publish',
        client: 'takt-sim-Plant1-Edge1-31337',
        addr: '127.0.0.2',
        topic: `spBv1.0/${plant.edge.group}/NBIRTH/${plant.edge.node}`,
        payload: codec.encodePayload({ timestamp: t, seq: (seq + 255) % 256, metrics: [] }),
      },
    ];
    assert.deepEqual(observeAll(det, [...rebirth, ...next]), []);
    // another program is new, and a birth from it is foreign
    const rogue = observeAll(det, [
      {
        ts: t + 3 * MIN,
        proto: 'mqtt',
        kind: 'connect',
        client: 'edge-7f3a',
        addr: '127.0.0.2',
        keepalive: 30,
      },
    ]);
    assert.deepEqual(
      rogue.map((a) => a.type),
      ['new-client'],
    );
    // a known id keeps its own rights only: sensor-3 on sensor-5's topic is a foreign writer
    const foreign = observeAll(det, [
      {
        ts: t + 3 * MIN + 10,
        proto: 'mqtt',
        kind: 'publish',
        client: 'sensor-3',
        addr: '127.0.0.13',
        topic: plant.sensors[5].topic,
        payload: new TextEncoder().encode(plant.sensors[5].json ? '{"value":1,"unit":"u"}' : '1'),
      },
    ]);
    assert.ok(
      foreign.some((a) => a.evidence.some((e) => e.feature === 'foreignTopic')),
      JSON.stringify(foreign),
    );
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

  it('masks the variable parts of a client id into its family', () => {
    assert.equal(clientFamily('takt-sim-Plant1-Edge1-10997'), 'takt-sim-Plant#-Edge#-#');
    assert.equal(clientFamily('mqttjs_3f2a9b1c'), 'mqttjs_#');
    assert.equal(clientFamily('node-red-deadbeefcafe'), 'node-red-deadbeefcafe');
    assert.equal(clientFamily('mes'), 'mes');
  });

  it('reads the kind and numbers of payloads', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.deepEqual(inspectPayload(enc(' 12.5 '), false), { kind: 'number', numbers: [['', 12.5, 'num']] });
    assert.deepEqual(inspectPayload(enc('{"a":1,"b":{"c":2},"d":"x","e":true}'), false), {
      kind: 'json',
      numbers: [
        ['a', 1, 'num'],
        ['b.c', 2, 'num'],
        ['e', 1, 'bool'],
      ],
    });
    assert.equal(inspectPayload(enc('{"a":'), false).kind, 'text');
    assert.equal(inspectPayload(new Uint8Array([0xff, 0xfe]), false).kind, 'binary');
    assert.equal(inspectPayload(new Uint8Array(0), false).kind, 'empty');
    assert.equal(inspectPayload(enc('not protobuf at all'), true).kind, 'binary');
  });
});
