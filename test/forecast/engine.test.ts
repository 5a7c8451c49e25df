import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { Rng } from '../../nodes/core/random';
import * as forecast from '../../nodes/forecast';

const close = (a: number, b: number, tol = 1e-9, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} is not within ${tol} of ${b}`);

const code = (c: string) => (err: unknown) => err instanceof TaktError && err.code === c;

describe('forecast engine', () => {
  describe('exponential smoothing recursions', () => {
    it('simple exponential smoothing by hand (alpha 0.5, l0 3)', () => {
      // l_t = l_{t-1} + 0.5 (y_t - l_{t-1}): 3 -> 3 -> 4 -> 4 -> 5
      const r = forecast.etsFilter(
        [3, 5, 4, 6],
        { error: 'A', trend: 'N', season: 'N' },
        { alpha: 0.5, l0: 3 },
      );
      assert.deepEqual(r.fitted, [3, 3, 4, 4]);
      assert.deepEqual(r.residuals, [0, 2, 0, 2]);
      assert.equal(r.state.l, 5);
    });

    it("Holt's linear trend by hand (alpha 0.5, beta 0.25, l0 10, b0 1)", () => {
      // f1 = 11, y1 = 13: l = 11 + 0.5*2 = 12, b = 1 + 0.25*2 = 1.5 (beta applied to the error, beta = 0.25)
      // f2 = 13.5, y2 = 13.5: l = 13.5, b = 1.5
      const r = forecast.etsFilter(
        [13, 13.5],
        { error: 'A', trend: 'A', season: 'N' },
        { alpha: 0.5, beta: 0.25, l0: 10, b0: 1 },
      );
      assert.deepEqual(r.fitted, [11, 13.5]);
      close(r.state.l, 13.5);
      close(r.state.b, 1.5);
    });

    it('additive seasonal recursion by hand (m = 2)', () => {
      // s = [-1, 1], l0 = 10, alpha 0.5, gamma 0.5. y1 = 10: f = 9, e = 1, l = 10.5, s1 = -1 + 0.5*(10-10 - -1) = -0.5
      const r = forecast.etsFilter(
        [10],
        { error: 'A', trend: 'N', season: 'A' },
        { alpha: 0.5, gamma: 0.5, l0: 10, s0: [-1, 1] },
        2,
      );
      assert.deepEqual(r.fitted, [9]);
      close(r.state.l, 10.5);
      close(r.state.s[0], -0.5);
    });
  });

  describe('intermittent demand', () => {
    const y = [0, 0, 3, 0, 5, 0, 0, 2];
    it('Croston on a small example by hand (alpha 0.1)', () => {
      // sizes 3,5,2 and intervals 3,2,3: z = 3 -> 3.2 -> 3.08, p = 3 -> 2.9 -> 2.91
      const r = forecast.croston(y, 'croston', 0.1);
      close(r.size, 3.08);
      close(r.interval as number, 2.91);
      close(r.forecast, 3.08 / 2.91);
    });
    it('SBA is Croston times (1 - alpha/2)', () => {
      close(forecast.croston(y, 'sba', 0.1).forecast, (0.95 * 3.08) / 2.91);
    });
    it('TSB by hand (alpha = beta = 0.5)', () => {
      // z0 = 2, p0 = 2/4; p: .25, .625, .3125, .65625; z: 2, 2, 2, 3
      const r = forecast.tsb([0, 2, 0, 4], 0.5, 0.5);
      close(r.forecast, 0.65625 * 3);
    });
    it('classifies intermittent series by ADI', () => {
      assert.equal(forecast.isIntermittent(y), true);
      assert.equal(forecast.isIntermittent([4, 5, 6, 5, 4, 5]), false);
      assert.equal(forecast.fit(y, { frequency: 1, horizon: 3 }).method, 'sba');
    });
  });

  describe('seasonality', () => {
    const idx = [0.8, 1.2, 1.1, 0.9];
    const seasonal = Array.from({ length: 40 }, (_, t) => 100 * idx[t % 4]);
    it('classical decomposition recovers exact multiplicative indices', () => {
      forecast.seasonalIndices(seasonal, 4).forEach((v, k) => close(v, idx[k], 1e-12, `index ${k}`));
    });
    it('the 90% ACF test finds the period and not in white noise', () => {
      assert.equal(forecast.isSeasonal(seasonal, 4), true);
      const rng = new Rng(7);
      assert.equal(
        forecast.isSeasonal(
          Array.from({ length: 40 }, () => 100 + rng.normal()),
          4,
        ),
        false,
      );
    });
    it('seasonal naive repeats the last season', () => {
      const r = forecast.fit(seasonal, { frequency: 4, horizon: 6, method: 'snaive' });
      assert.deepEqual(
        r.forecast,
        [0, 1, 2, 3, 0, 1].map((k) => seasonal[36 + k]),
      );
    });
    it('theta on a purely seasonal series forecasts the seasonal pattern', () => {
      const r = forecast.fit(seasonal, { frequency: 4, horizon: 4, method: 'theta' });
      r.forecast.forEach((v, k) => close(v, 100 * idx[k], 1e-3, `h=${k + 1}`));
    });
  });

  describe('fitting and intervals', () => {
    it('Holt fitted by maximum likelihood extends a straight line', () => {
      const y = Array.from({ length: 30 }, (_, t) => 5 + 2 * t);
      const r = forecast.fit(y, { frequency: 1, horizon: 3, method: 'holt' });
      r.forecast.forEach((v, k) => close(v, 65 + 2 * k, 0.05, `h=${k + 1}`));
    });
    it('every method returns ordered 80% and 95% intervals', () => {
      const y = Array.from(
        { length: 48 },
        (_, t) => 50 + t + 10 * Math.sin((2 * Math.PI * t) / 12) + 3 * Math.cos(t * 7.3),
      );
      for (const method of forecast.METHODS) {
        const r = forecast.fit(y, { frequency: 12, horizon: 6, method });
        assert.equal(r.forecast.length, 6, method);
        for (let k = 0; k < 6; k++) {
          assert.ok(r.lower95[k] <= r.lower80[k] + 1e-9, `${method} lower95 <= lower80`);
          assert.ok(r.lower80[k] <= r.forecast[k] + 1e-9, `${method} lower80 <= forecast`);
          assert.ok(r.forecast[k] <= r.upper80[k] + 1e-9, `${method} forecast <= upper80`);
          assert.ok(r.upper80[k] <= r.upper95[k] + 1e-9, `${method} upper80 <= upper95`);
        }
      }
    });
    it('selection by rolling-origin validation picks a method that forecasts a clean trend', () => {
      const y = Array.from({ length: 30 }, (_, t) => 5 + 2 * t);
      const r = forecast.fit(y, { frequency: 1, horizon: 3, selection: 'validation' });
      assert.notEqual(r.method, 'snaive');
      r.forecast.forEach((v, k) => close(v, 65 + 2 * k, 0.5, `h=${k + 1}`));
    });
    it('AICc selection returns an AICc and a model name', () => {
      const y = Array.from({ length: 40 }, (_, t) => 20 + (t % 3) + 0.5 * t);
      const r = forecast.fit(y, { frequency: 1, horizon: 2, method: 'ets' });
      assert.ok(Number.isFinite(r.aicc));
      assert.match(String(r.params.model), /^ETS\([AM],(N|A|Ad),N\)$/);
    });
    it('Nelder-Mead finds the minimum of the Rosenbrock function', () => {
      const f = (x: number[]) => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2;
      const r = forecast.nelderMead(f, [-1.2, 1], [-5, -5], [5, 5], { maxEval: 5000, tol: 1e-14 });
      close(r.x[0], 1, 1e-3);
      close(r.x[1], 1, 1e-3);
    });
  });

  describe('error measures and backtest', () => {
    it('sMAPE and MASE by hand', () => {
      close(forecast.smape([100, 200], [110, 180]), (2000 / 210 + 4000 / 380) / 2);
      close(forecast.mase([1, 3, 2, 5], [100, 200], [110, 180], 1), 15 / 2);
    });
    it('rolling-origin backtest of the naive method by hand', () => {
      const y = Array.from({ length: 20 }, (_, t) => t + 1);
      const r = forecast.backtest(y, { frequency: 1, horizon: 2, method: 'naive' });
      close(r.bias, -1.5);
      close(r.mae, 1.5);
      close(r.mase, 1.5);
      close(r.smape, (200 / 37 + 400 / 38) / 2);
      const r3 = forecast.backtest(y, { frequency: 1, horizon: 2, method: 'naive', origins: 3 });
      assert.equal(r3.origins, 3);
    });
  });

  describe('bad input', () => {
    it('negative demand', () => {
      assert.throws(
        () => forecast.fit([1, -2, 3, 4], { frequency: 1, horizon: 1 }),
        code('forecast.negative'),
      );
    });
    it('gaps and NaN are reported, or filled as asked', () => {
      assert.throws(() => forecast.fit([1, NaN, 3, 4], { frequency: 1, horizon: 1 }), code('forecast.gap'));
      assert.throws(() => forecast.fit([1, null, 3, 4], { frequency: 1, horizon: 1 }), code('forecast.gap'));
      assert.deepEqual(
        forecast.cleanSeries([1, null, 3, NaN, NaN, 9], { gaps: 'interpolate' }).values,
        [1, 2, 3, 5, 7, 9],
      );
      assert.deepEqual(forecast.cleanSeries([1, null, 3], { gaps: 'previous' }).values, [1, 1, 3]);
      const r = forecast.fit([5, null, 5, 5, 5, 5], {
        frequency: 1,
        horizon: 1,
        method: 'naive',
        gaps: 'zero',
      });
      assert.deepEqual(r.filled, [1]);
    });
    it('too short a series for the seasonality', () => {
      assert.throws(
        () => forecast.fit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { frequency: 12, horizon: 3, method: 'snaive' }),
        code('forecast.tooShort'),
      );
      // 23 monthly values are fewer than two seasons, for every method; 24 are enough
      const y = Array.from({ length: 24 }, (_, t) => 10 + (t % 12));
      assert.throws(() => forecast.fit(y.slice(1), { frequency: 12, horizon: 3 }), /at least 24/);
      assert.equal(forecast.fit(y, { frequency: 12, horizon: 3 }).forecast.length, 3);
    });
    it('bad options name the field', () => {
      assert.throws(() => forecast.fit([1, 2, 3, 4], { frequency: 0, horizon: 1 }), /frequency/);
      assert.throws(() => forecast.fit([1, 2, 3, 4], { frequency: 1, horizon: 0 }), /horizon/);
      assert.throws(
        () => forecast.fit([1, 2, 3, 4], { frequency: 1, horizon: 1, method: 'arima' as forecast.Method }),
        code('forecast.badMethod'),
      );
      assert.throws(() => forecast.fit([1, 'x', 3], { frequency: 1, horizon: 1 }), code('forecast.badValue'));
    });
  });
});

describe('forecast engine on 15-minute energy data', () => {
  it('follows the daily profile with frequency [96, 672]', () => {
    // two weeks of a noiseless daily load profile: 100 kW base, +50 kW from 08:00 to 18:00
    const day = Array.from({ length: 96 }, (_, q) => (q >= 32 && q < 72 ? 150 : 100));
    const y = Array.from({ length: 14 * 96 }, (_, t) => day[t % 96]);
    const r = forecast.fit(y, { frequency: [96, 672], horizon: 96 });
    r.forecast.forEach((v, q) => close(v, day[q], 1e-6 * day[q] + 1e-6, `slot ${q}`));
  });

  it('solar output (zero at night) is forecast as seasonal, not as intermittent demand', () => {
    // 14 days of a noiseless solar profile: 0 at night, a half sine from 06:00 to 18:00 (peak 400 kW)
    const day = Array.from({ length: 96 }, (_, q) =>
      q >= 24 && q < 72 ? 400 * Math.sin((Math.PI * (q - 24)) / 48) : 0,
    );
    const y = Array.from({ length: 14 * 96 }, (_, t) => day[t % 96]);
    const r = forecast.fit(y, { frequency: [96, 672], horizon: 96 });
    assert.notEqual(r.method, 'sba');
    r.forecast.forEach((v, q) => close(v, day[q], 1e-3, `slot ${q}`));
    assert.ok(r.lower95.every((v) => v >= 0));
  });
});
