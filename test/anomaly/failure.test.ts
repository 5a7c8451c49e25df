import assert from 'node:assert/strict';
import {
  DEFAULT_FAILURE_INDEX,
  HealthTracker,
  healthPercent,
  predictFailure,
  scoreMatrix,
  trainModel,
} from '../../nodes/anomaly';
import { DEFAULT_PLANT, PlantSimulator, REASONS } from '../../nodes/sim';
import { features } from '../../nodes/vibration';

const H = 3600000;
const MIN = 60000;

describe('health percent: a readable, bounded scale', () => {
  it('is 100 at index 0, 0 at the failure level and beyond, logarithmic between', () => {
    assert.equal(healthPercent(0, 1000), 100);
    assert.equal(healthPercent(1000, 1000), 0);
    assert.equal(healthPercent(1e9, 1000), 0);
    // ln(1 + 1) / ln(1001) = 0.100335 -> the alarm level reads 89.97 %.
    assert.ok(Math.abs(healthPercent(1, 1000) - 100 * (1 - Math.LN2 / Math.log(1001))) < 1e-12);
    assert.ok(Math.abs(healthPercent(1, 1000) - 89.967) < 0.001);
    // sqrt(1001) - 1 = 30.64: halfway on the log scale.
    assert.ok(Math.abs(healthPercent(Math.sqrt(1001) - 1, 1000) - 50) < 1e-9);
    assert.equal(healthPercent(Number.NaN, 1000), 0);
  });

  it('falls monotonically as the index grows, and is in msg.anomaly beside the raw index', () => {
    const h = new HealthTracker({ smoothing: 1, smoothedThreshold: 1 });
    const xs = [0, 0.3, 1, 5, 94, 8421, 44982, DEFAULT_FAILURE_INDEX];
    const ps = xs.map((x, i) => h.push(x, i));
    for (let i = 1; i < ps.length; i++) assert.ok(ps[i].healthPercent < ps[i - 1].healthPercent);
    for (const p of ps) assert.ok(p.healthPercent >= 0 && p.healthPercent <= 100);
    assert.equal(ps[5].healthIndex, 8421);
    assert.equal(ps[7].healthPercent, 0);
  });

  it('rejects a failure level at or under the alarm level', () => {
    assert.throws(
      () => new HealthTracker({ smoothing: 1, smoothedThreshold: 1, failureIndex: 1 }),
      /failureIndex/,
    );
  });
});

describe('failure prediction from the health trend', () => {
  it('finds the crossing of a noiseless √index line exactly, with a zero-width interval', () => {
    // √index = 2 + 3·t (t in h): reaches √F = 32 at t = 10 h; the last point is at t = 4 h, 6 h before.
    const pts = Array.from({ length: 41 }, (_, i) => ({ t: i * 0.1 * H, y: 2 + 3 * i * 0.1 }));
    const f = predictFailure(pts, 4 * H, 32 * 32);
    assert.ok(f);
    assert.ok(Math.abs(f.expectedInMin - 360) < 1e-6);
    assert.ok(Math.abs(f.lowerMin - 360) < 1e-6 && Math.abs(f.upperMin - 360) < 1e-6);
    assert.equal(f.confidence, 0.9);
    assert.ok(Math.abs(f.ratePerHour - 3) < 1e-9);
  });

  it('covers the known crossing with its interval on noisy synthetic trends about 90 % of the time', () => {
    // √index = a + b·t + noise; fresh slopes, levels and noise from a fixed generator (not tuned to it).
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
    let covered = 0;
    let spikes = 0;
    const trials = 200;
    for (let k = 0; k < trials; k++) {
      const a = 1 + 5 * rnd();
      const b = 0.5 + 4 * rnd();
      const sd = 0.2 + 0.8 * rnd();
      const F = (a + b * (12 + 30 * rnd())) ** 2;
      const pts = Array.from({ length: 60 }, (_, i) => {
        const spike = rnd() < 0.05;
        if (spike) spikes++;
        return { t: i * 10 * MIN, y: a + b * (i / 6) + sd * gauss() + (spike ? 20 * sd : 0) };
      });
      const now = pts[59].t;
      const truth = ((Math.sqrt(F) - a) / b - 59 / 6) * 60;
      const f = predictFailure(pts, now, F);
      if (f && truth >= f.lowerMin && truth <= f.upperMin) covered++;
    }
    assert.ok(spikes > 0);
    assert.ok(covered / trials > 0.8, `covered ${covered}/${trials}`);
  });

  it('predicts nothing without an upward trend, nor before the alarm level', () => {
    const flat = Array.from({ length: 30 }, (_, i) => ({ t: i * MIN, y: 3 + (i % 2 ? 0.1 : -0.1) }));
    assert.equal(predictFailure(flat, 29 * MIN, 1000), undefined);
    const down = Array.from({ length: 30 }, (_, i) => ({ t: i * MIN, y: 10 - i * 0.1 }));
    assert.equal(predictFailure(down, 29 * MIN, 1000), undefined);
    const h = new HealthTracker({ smoothing: 1, smoothedThreshold: 1, minPoints: 5 });
    let s;
    for (let i = 0; i < 30; i++) s = h.push(0.01 * (i + 1), i * MIN);
    assert.equal(s?.alarm, false);
    assert.equal(s?.failure, undefined);
  });

  it('fits only the points since the alarm level was reached, and forgets them after a repair', () => {
    const h = new HealthTracker({ smoothing: 1, smoothedThreshold: 1, minPoints: 5, failureIndex: 400 });
    for (let i = 0; i < 20; i++) h.push(0.3, i * MIN);
    // From t = 20 min: √index = 5 + (i - 20) · 0.1 per minute, reaching √400 = 20 at i = 170.
    let s;
    for (let i = 20; i < 30; i++) s = h.push((5 + (i - 20) * 0.1) ** 2, i * MIN);
    assert.ok(s?.failure);
    assert.ok(Math.abs(s.failure.expectedInMin - (170 - 29)) < 1e-6);
    s = h.push(0.2, 30 * MIN);
    assert.equal(s.failure, undefined);
    for (let i = 31; i < 34; i++) s = h.push(30, i * MIN);
    assert.equal(s.failure, undefined, 'fewer than minPoints since the new alarm');
  });
});

describe('failure prediction against the simulator ground truth (bearing run to failure)', () => {
  const NAMES = ['rms', 'kurtosis', 'crestFactor', 'velocityRmsMmS', 'envelopeRms', 'bpfoAmp1', 'bpfoRatio'];
  const START = Date.UTC(2026, 0, 5, 6, 0);
  const cnc = DEFAULT_PLANT.lines[0].machines.find((m) => m.id === 'CNC1');
  assert.ok(cnc);
  const g = cnc.bearing;
  const rowOf = (sim: PlantSimulator, stateTopic: string): number[] | undefined => {
    if (sim.snapshot().get(stateTopic)?.value !== 'Running') return undefined;
    const f = features(sim.waveform('CNC1'), {
      sampleRateHz: cnc.vibration.sampleRateHz,
      rpm: sim.bearing('CNC1').shaftHz * 60,
      bearing: {
        balls: g.balls,
        ballDiameter: g.ballDiameterMm,
        pitchDiameter: g.pitchDiameterMm,
        contactAngleDeg: g.contactAngleDeg,
      },
      envelopeBand: [2500, 5000],
    });
    return NAMES.map((k) => f[k] as number);
  };
  const newSim = (seed: number) => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed, startTime: START, stepMs: 1000 });
    const topic = sim.tags().find((t) => t.topic.endsWith('/CNC1/State'))?.topic as string;
    return { sim, row: () => rowOf(sim, topic) };
  };
  /** Runs a bearing fault to failure scored every 10 min; the failure time is the simulator's ground truth. */
  const runToFailure = (seed: number, score: (x: number[]) => number, health: HealthTracker) => {
    const { sim, row } = newSim(seed);
    sim.advance(3 * H);
    sim.inject('CNC1', 'bearing', 0.02);
    const seen: { ts: number; state: ReturnType<HealthTracker['push']> }[] = [];
    for (let i = 0; i < 80 * 6; i++) {
      const r = sim.advance(10 * MIN);
      const ended = r.faults.find((f) => f.event === 'end' && f.fault.kind === 'bearing');
      const down = r.states.find((s) => s.machine === 'CNC1' && s.reason === REASONS.bearingFailure);
      if (ended || down) {
        assert.equal(ended?.fault.endReason, 'failure');
        return { failedAt: ended?.fault.end as number, seen };
      }
      const x = row();
      if (x) seen.push({ ts: sim.now, state: health.push(score(x), sim.now) });
    }
    throw new Error('the bearing did not fail within 80 simulated hours');
  };

  it('has the actual failure time inside the predicted interval for most of the run after the alarm', () => {
    // A fleet model trained on healthy running of one simulator run; the failure level is the index this model
    // reached at the failure of a first bearing (history), and the prediction is checked on other runs.
    const hist = newSim(101);
    const healthy: number[][] = [];
    while (healthy.length < 150) {
      hist.sim.advance(MIN);
      const r = hist.row();
      if (r) healthy.push(r);
    }
    const t = trainModel(healthy.flat(), 150, NAMES, { kind: 'pca', thresholdFactor: 1.5, smoothing: 3 });
    const score = (x: number[]) => scoreMatrix(t.params, x, 1).score[0];
    const tracker = (failureIndex?: number) =>
      new HealthTracker({ smoothing: 3, smoothedThreshold: t.card.smoothedThreshold, failureIndex });
    const history = runToFailure(102, score, tracker());
    const failureIndex = Math.max(...history.seen.slice(-6).map((p) => p.state.healthIndex));
    assert.ok(failureIndex > 1);
    const fractions: number[] = [];
    for (const seed of [103, 104]) {
      const run = runToFailure(seed, score, tracker(failureIndex));
      const after = run.seen.filter((p) => p.state.alarm);
      assert.ok(after.length > 100);
      let covered = 0;
      for (const p of after) {
        const f = p.state.failure;
        const actualMin = (run.failedAt - p.ts) / MIN;
        if (f && actualMin >= f.lowerMin && actualMin <= f.upperMin) covered++;
      }
      fractions.push(covered / after.length);
      // The health percent falls from the alarm to the failure.
      assert.ok(after[0].state.healthPercent > after[after.length - 1].state.healthPercent);
    }
    console.log(`      covered: ${fractions.map((f) => (100 * f).toFixed(0) + ' %').join(', ')}`);
    // Measured 57 % and 53 % (the misses: the failure level of one history run is not this bearing's, and the
    // trend bends); the same test with the interval at the level now only (not scaled to the failure level)
    // gave 51 % and 41 %, and a log-linear (exponential) trend under 10 %.
    for (const f of fractions)
      assert.ok(f > 0.5, `interval covers the failure ${(100 * f).toFixed(0)} % of the run`);
  });
});
