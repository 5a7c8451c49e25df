import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { Rng } from '../../nodes/core/random';
import { features, isoZone, timeFeatures, WaveformBuffer } from '../../nodes/vibration';

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

function sine(amp: number, hz: number, fs: number, n: number, phase = 0.3): number[] {
  return Array.from({ length: n }, (_, i) => amp * Math.sin(2 * Math.PI * hz * (i / fs) + phase));
}

describe('vibration features', () => {
  it('gives a sine its analytic RMS, peak, crest factor, kurtosis, shape factor and frequency', () => {
    const f = features(sine(2, 100, 10240, 8192), { sampleRateHz: 10240 });
    close(f.rms, Math.SQRT2, 1e-9, 'rms');
    close(f.peak, 2, 1e-3, 'peak');
    close(f.peakToPeak, 4, 2e-3, 'peak-to-peak');
    close(f.crestFactor, Math.SQRT2, 1e-3, 'crest');
    close(f.kurtosis, 1.5, 1e-6, 'kurtosis');
    close(f.skewness, 0, 1e-6, 'skewness');
    close(f.shapeFactor, Math.PI / (2 * Math.SQRT2), 1e-4, 'shape');
    close(f.impulseFactor, Math.PI / 2, 1e-3, 'impulse');
    close(f.dom1Hz as number, 100, 0.5, 'dominant frequency');
    close(f.dom1Amp as number, 2, 0.02, 'dominant amplitude');
  });

  it('finds an off-bin frequency and the energy of a band', () => {
    const f = features(sine(1, 123.4, 8192, 8192), {
      sampleRateHz: 8192,
      bands: [
        [100, 150],
        [300, 400],
      ],
    });
    close(f.dom1Hz as number, 123.4, 0.3, 'frequency');
    close(f.band_100_150 as number, 0.5, 0.01, 'band with the sine (A²/2)');
    assert.ok((f.band_300_400 as number) < 1e-4);
  });

  it('gives Gaussian noise a kurtosis of 3 and uniform noise 1.8', () => {
    const rng = new Rng(5);
    const g = Array.from({ length: 1 << 16 }, () => rng.normal());
    const u = Array.from({ length: 1 << 16 }, () => rng.next() - 0.5);
    close(timeFeatures(g).kurtosis, 3, 0.1, 'gaussian');
    close(timeFeatures(u).kurtosis, 1.8, 0.05, 'uniform');
    close(timeFeatures(g).skewness, 0, 0.05, 'gaussian skewness');
  });

  it('integrates acceleration to velocity RMS and picks the ISO zone', () => {
    // 0.2 g at 100 Hz: v = a / (2πf) = 0.2·9806.65 mm/s² / 628.3 /s amplitude, RMS over √2.
    const expected = (0.2 * 9806.65) / (2 * Math.PI * 100) / Math.SQRT2;
    const f = features(sine(0.2, 100, 10240, 8192), { sampleRateHz: 10240, machineClass: 'II' });
    close(f.velocityRmsMmS, expected, expected * 0.01, 'velocity');
    assert.equal(f.zone, 'B'); // 2.2 mm/s: 1.12..2.8 for class II
    assert.equal(isoZone(0.5, 'I'), 'A');
    assert.equal(isoZone(12, 'III'), 'D');
    assert.equal(isoZone(5, 'IV'), 'B');
  });

  it('computes the textbook bearing frequencies of a 6205 at 1797 rpm', () => {
    // SKF 6205-2RS (the CWRU bearing data set): multiples of shaft speed BPFO 3.5848, BPFI 5.4152, FTF 0.39828,
    // ball spin 4.7135 / 2 (CWRU lists twice the ball spin frequency).
    const fr = 1797 / 60;
    const f = features(sine(0.1, 50, 12000, 4096), {
      sampleRateHz: 12000,
      rpm: 1797,
      bearing: { balls: 9, ballDiameter: 7.94, pitchDiameter: 39.04, contactAngleDeg: 0 },
    });
    close(f.bpfoHz as number, 3.5848 * fr, 0.01, 'BPFO');
    close(f.bpfiHz as number, 5.4152 * fr, 0.01, 'BPFI');
    close(f.ftfHz as number, 0.39828 * fr, 0.005, 'FTF');
    close(f.bsfHz as number, (4.7135 / 2) * fr, 0.01, 'BSF');
  });

  it('finds an impulse train at BPFO in the envelope spectrum, not at BPFI', () => {
    const fs = 20480;
    const n = 16384;
    const rpm = 1500;
    const bearing = { balls: 9, ballDiameter: 7.94, pitchDiameter: 39.04, contactAngleDeg: 0 };
    const fr = rpm / 60;
    const bpfo = (9 / 2) * fr * (1 - 7.94 / 39.04);
    const rng = new Rng(9);
    const x = sine(0.5, fr, fs, n).map(
      (v, i) => v + 0.15 * Math.sin(4 * Math.PI * fr * (i / fs)) + 0.05 * rng.normal(),
    );
    for (let t0 = 0.001; t0 < n / fs; t0 += 1 / bpfo) {
      for (let k = Math.ceil(t0 * fs); k < Math.min(n, Math.ceil(t0 * fs) + 60); k++) {
        const dt = k / fs - t0;
        x[k] += 0.4 * Math.exp(-dt / 0.0008) * Math.sin(2 * Math.PI * 3500 * dt);
      }
    }
    const f = features(x, { sampleRateHz: fs, rpm, bearing, envelopeBand: [2500, 4500] });
    assert.ok((f.bpfoRatio as number) > 10, `BPFO line ${String(f.bpfoRatio)} x the floor`);
    assert.ok((f.bpfoAmp1 as number) > 5 * (f.bpfiAmp1 as number), 'BPFO above BPFI');
    assert.ok((f.bpfoAmp2 as number) > 5 * (f.bsfAmp1 as number), 'second harmonic of BPFO above BSF');
    const healthy = features(sine(0.5, fr, fs, n), {
      sampleRateHz: fs,
      rpm,
      bearing,
      envelopeBand: [2500, 4500],
    });
    assert.ok((f.bpfoAmp1 as number) > 10 * (healthy.bpfoAmp1 as number));
  });

  it('rejects a waveform shorter than the FFT size, NaN samples and a bad rate', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof TaktError);
        return e.code;
      }
      return 'no error';
    };
    assert.equal(
      code(() => features(sine(1, 10, 1000, 1000), { sampleRateHz: 1000, fftSize: 2048 })),
      'vibration.tooShort',
    );
    assert.equal(
      code(() => features([1, 2, Number.NaN, ...sine(1, 10, 1000, 100)], { sampleRateHz: 1000 })),
      'vibration.notFinite',
    );
    assert.equal(
      code(() => features(sine(1, 10, 1000, 128), { sampleRateHz: 0 })),
      'vibration.badInput',
    );
    assert.equal(
      code(() => features(sine(1, 10, 1000, 128), { sampleRateHz: 1000, rpm: 1500 })),
      'vibration.badInput',
    );
  });

  it('buffers single samples into windows', () => {
    const b = new WaveformBuffer(16, 8);
    assert.deepEqual(b.push(Array.from({ length: 15 }, (_, i) => i)), []);
    const w = b.push([15, 16]);
    assert.equal(w.length, 1);
    assert.deepEqual(
      w[0],
      Array.from({ length: 16 }, (_, i) => i),
    );
    assert.equal(b.buffered, 9);
    assert.throws(() => b.push(Number.NaN), /finite/);
  });
});
