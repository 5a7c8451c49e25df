import assert from 'node:assert/strict';
import { controlRun } from '../../bench/lib/control';

describe('bench/lib/control: closed loop on the simulator', function () {
  this.timeout(60000);

  it('keeps the tuner inside bounds and steps with quality dropping out, and beats fixed setpoints', () => {
    const opts = { seed: 9, parts: 300, badParts: (i: number) => i % 10 === 0 };
    const tune = controlRun('tune', opts);
    const fixed = controlRun('fixed', opts);
    assert.equal(tune.parts, 300);
    assert.equal(tune.fallbacks, 30, 'every part with bad quality fell back');
    assert.deepEqual([tune.outOfBounds, tune.beyondStep], [0, 0]);
    assert.ok(tune.msd < 0.5 * fixed.msd, `tune ${tune.msd} vs fixed ${fixed.msd}`);
  });

  it('gives every controller the same drift path (common random numbers), out-of-tolerance parts or not', () => {
    // Fixed setpoints make many parts out of tolerance, the tuner few: the paths must not depend on that.
    const path = (c: 'tune' | 'fixed') => {
      const seen: string[] = [];
      controlRun(c, {
        seed: 4,
        parts: 400,
        next: (part, t) => {
          if (part % 20 === 0) seen.push(JSON.stringify([t.context, t.disturbance]));
        },
      });
      return seen;
    };
    assert.deepEqual(path('tune'), path('fixed'));
  });
});
