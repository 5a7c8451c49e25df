import assert from 'node:assert/strict';
import { HealthTracker, scoreMatrix, trainModel } from '../../nodes/anomaly';
import { DEFAULT_PLANT, PlantSimulator, REASONS } from '../../nodes/sim';
import { features } from '../../nodes/vibration';

const HOUR = 3600000;
const START = Date.UTC(2026, 0, 5, 6, 0);
const NAMES = ['rms', 'kurtosis', 'crestFactor', 'velocityRmsMmS', 'envelopeRms', 'bpfoAmp1', 'bpfoRatio'];

describe('bearing fault in the plant simulator', () => {
  it('is flagged well before the bearing fails', () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 4, startTime: START, stepMs: 1000 });
    const cnc = DEFAULT_PLANT.lines[0].machines.find((m) => m.id === 'CNC1');
    assert.ok(cnc);
    const g = cnc.bearing;
    const stateTopic = sim.tags().find((t) => t.topic.endsWith('/CNC1/State'))?.topic as string;
    const row = (): number[] | undefined => {
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
    // Healthy: one waveform a minute while running, 150 to train and 60 held out.
    const healthy: number[][] = [];
    while (healthy.length < 210) {
      sim.advance(60000);
      const r = row();
      if (r) healthy.push(r);
    }
    const t = trainModel(healthy.slice(0, 150).flat(), 150, NAMES, {
      kind: 'pca',
      thresholdFactor: 1.5,
      smoothing: 3,
    });
    const held = scoreMatrix(t.params, healthy.slice(150).flat(), 60).score;
    assert.equal(held.filter((s) => s > t.card.threshold).length, 0, 'no alarm on healthy held-out data');

    const injectedAt = sim.now;
    sim.inject('CNC1', 'bearing', 0.02);
    const health = new HealthTracker({ smoothing: 3, smoothedThreshold: t.card.smoothedThreshold });
    let alarmAt: number | undefined;
    let failedAt: number | undefined;
    for (let h = 0; h < 72 && failedAt === undefined; h++) {
      const r = sim.advance(HOUR);
      const fail = r.states.find((s) => s.machine === 'CNC1' && s.reason === REASONS.bearingFailure);
      if (fail) failedAt = fail.ts;
      const x = row();
      if (!x || failedAt !== undefined) continue;
      const s = health.push(scoreMatrix(t.params, x, 1).score[0], sim.now);
      if (s.alarm && alarmAt === undefined) alarmAt = sim.now;
    }
    assert.ok(failedAt !== undefined, 'the bearing failed within 72 simulated hours');
    assert.ok(alarmAt !== undefined, 'an alarm was raised');
    assert.ok(alarmAt >= injectedAt);
    assert.ok(failedAt - alarmAt > 24 * HOUR, `alarm ${(failedAt - alarmAt) / HOUR} h before the failure`);
  });
});
