import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KeptWorker, MAX_WAITING_JOBS } from '../../nodes/core/jobs';
import { features, type FeatureOptions } from '../../nodes/vibration/features';
import { acquireFeatureWorker, featuresInWorker } from '../../nodes/vibration/offload';
import { Rng } from '../../nodes/spc/patterns';
import { getNode, helper, load, nextMessages } from '../helpers/nodered';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const vibrationNode = require('../../nodes/vibration/vibration.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

const FS = 20480;
const BEARING = { balls: 9, ballDiameter: 7.94, pitchDiameter: 39.04, contactAngleDeg: 0 };

/** A shaft line, a bearing-like train of decaying impacts and noise: every part of `features` has work. */
function waveform(rng: Rng, n: number): number[] {
  const x: number[] = [];
  const period = Math.round(FS / (87 + 40 * rng.uniform(0, 1)));
  for (let i = 0; i < n; i++) {
    const k = i % period;
    x.push(
      0.3 * Math.sin((2 * Math.PI * 30 * i) / FS) +
        0.8 * Math.exp(-k / 12) * Math.sin((2 * Math.PI * 3500 * k) / FS) +
        0.05 * rng.normal(),
    );
  }
  return x;
}

const OPTIONS: FeatureOptions[] = [
  { sampleRateHz: FS },
  { sampleRateHz: FS, rpm: 1800, bearing: BEARING, envelopeBand: [2500, 5000], machineClass: 'I' },
  {
    sampleRateHz: FS,
    fftSize: 1024,
    bands: [
      [10, 1000],
      [1000, 5000],
    ],
    unit: 'm/s2',
    peaks: 5,
  },
];

describe('vibration features in the worker thread', () => {
  it('gives exactly the numbers of the in-thread path (sizes 1,024 to 65,536, every option set)', async () => {
    const kept = acquireFeatureWorker();
    try {
      const rng = new Rng(17);
      for (const o of OPTIONS)
        for (const n of [1024, 3000, 16384, 65536]) {
          const windows = [waveform(rng, n), waveform(rng, n)];
          const there = await featuresInWorker(kept.worker, windows, o);
          const here = windows.map((w) => features(w, o));
          assert.deepStrictEqual(there, here, `n ${n}, options ${JSON.stringify(o)}`);
        }
    } finally {
      await kept.release();
    }
  });

  it('fails with the error and code of the in-thread path', async () => {
    const kept = acquireFeatureWorker();
    try {
      const w = waveform(new Rng(3), 2048);
      const bad: FeatureOptions = { sampleRateHz: FS, rpm: -5, bearing: BEARING };
      const inThread = (() => {
        try {
          features(w, bad);
        } catch (err) {
          return err as Error & { code: string };
        }
        throw new Error('features accepted a negative speed');
      })();
      await assert.rejects(featuresInWorker(kept.worker, [w], bad), {
        code: inThread.code,
        message: inThread.message,
      });
      // text in a waveform is refused before the copy to a Float64Array could turn it into a number
      await assert.rejects(
        featuresInWorker(kept.worker, [[...w.slice(0, 100), '1.5' as unknown as number, ...w]], OPTIONS[0]),
        { code: 'vibration.notFinite' },
      );
      // and the worker still answers
      assert.equal((await featuresInWorker(kept.worker, [w], OPTIONS[0])).length, 1);
    } finally {
      await kept.release();
    }
  });

  it('kept worker: one thread shared by its users, a dead thread fails its calls and the next call starts another', async () => {
    const a = KeptWorker.acquire<unknown, unknown>(join(__dirname, 'no-such-worker.js'), 'probe');
    const b = KeptWorker.acquire<unknown, unknown>(join(__dirname, 'no-such-worker.js'), 'probe');
    assert.equal(a.worker, b.worker);
    await assert.rejects(a.worker.call({}), { code: 'probe.workerFailed' });
    await assert.rejects(a.worker.call({}), { code: 'probe.workerFailed' });
    await a.release();
    await a.release(); // twice counts once
    const c = KeptWorker.acquire(join(__dirname, 'no-such-worker.js'), 'probe');
    assert.equal(c.worker, a.worker);
    await b.release();
    await c.release();
    // the last release ended it: a new user gets a new one
    const d = KeptWorker.acquire(join(__dirname, 'no-such-worker.js'), 'probe');
    assert.notEqual(d.worker, a.worker);
    await d.release();
  });
});

interface Out {
  payload: Record<string, number | string>;
  vibration: { samples: number; zone: string; dropped: number };
  seq: number;
}

describe('takt-vibration node with the worker thread', () => {
  afterEach(() => helper.unload());

  const node = (id: string, extra: object) => ({
    id,
    z: 'tab',
    type: 'takt-vibration',
    sampleRateHz: FS,
    windowSize: 1024,
    rpm: 1800,
    balls: 9,
    ballDiameter: 7.94,
    pitchDiameter: 39.04,
    envelopeLo: 2500,
    envelopeHi: 5000,
    wires: [[`${id}-out`]],
    ...extra,
  });

  it('sends the same features as in the runtime thread, in arrival order, small and large blocks mixed', async () => {
    await load(
      [vibrationNode],
      [
        { id: 'tab', type: 'tab' },
        node('here', { workerSamples: 1e12 }),
        node('there', {}),
        { id: 'here-out', z: 'tab', type: 'helper' },
        { id: 'there-out', z: 'tab', type: 'helper' },
      ],
    );
    const rng = new Rng(8);
    // waveforms of 4096 and 16384 samples go to the worker; runs of single samples stay in the thread
    const msgs: object[] = [];
    for (let k = 0; k < 12; k++) {
      if (k % 3 === 2) for (const v of waveform(rng, 1024)) msgs.push({ payload: v, seq: k });
      else msgs.push({ payload: waveform(rng, k % 2 ? 16384 : 4096), seq: k });
    }
    const here = nextMessages<Out>('here-out', 12, 30000);
    const there = nextMessages<Out>('there-out', 12, 30000);
    for (const m of msgs) {
      getNode('here').receive({ ...m });
      getNode('there').receive({ ...m });
    }
    const [a, b] = await Promise.all([here, there]);
    assert.deepEqual(
      b.map((m) => m.seq),
      Array.from({ length: 12 }, (_, k) => k),
    );
    assert.deepStrictEqual(
      b.map((m) => m.payload),
      a.map((m) => m.payload),
    );
    assert.deepEqual(
      b.map((m) => m.vibration),
      a.map((m) => m.vibration),
    );
  });

  it('refuses a message beyond the waiting cap with "busy", counts it, and goes on', async () => {
    await load(
      [vibrationNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        node('v', {}),
        { id: 'v-out', z: 'tab', type: 'helper' },
        { id: 'c', z: 'tab', type: 'catch', scope: ['v'], uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ],
    );
    const w = waveform(new Rng(4), 4096);
    const total = MAX_WAITING_JOBS + 50;
    // all handed over at once: the first is next, MAX_WAITING_JOBS wait behind it, the other 49 are refused
    const out = nextMessages<Out>('v-out', MAX_WAITING_JOBS + 1, 60000);
    const caught = nextMessages<{ error: { message: string }; seq: number }>('caught', 49, 60000);
    for (let k = 0; k < total; k++) getNode('v').receive({ payload: w, seq: k });
    const [sent, refused] = await Promise.all([out, caught]);
    assert.deepEqual(
      sent.map((m) => m.seq),
      Array.from({ length: MAX_WAITING_JOBS + 1 }, (_, k) => k),
    );
    assert.deepEqual(
      refused.map((m) => m.seq),
      Array.from({ length: 49 }, (_, k) => MAX_WAITING_JOBS + 1 + k),
    );
    assert.match(refused[0].error.message, /busy: 100 messages are already waiting/);
    assert.ok(sent.every((m) => m.vibration.dropped === 49));
    // the queue drained: the next message is taken
    const next = nextMessages<Out>('v-out', 1, 30000);
    getNode('v').receive({ payload: w, seq: total });
    assert.equal((await next)[0].seq, total);
  });
});
