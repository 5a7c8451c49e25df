import assert from 'node:assert/strict';
import { getNode, helper, load, nextMessages } from '../helpers/nodered';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const vibrationNode = require('../../nodes/vibration/vibration.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

interface Out {
  payload: Record<string, number | string>;
  vibration: { samples: number; zone: string };
  topic?: string;
}

const flow = (extra: object = {}) => [
  { id: 'tab', type: 'tab' },
  {
    id: 'v',
    z: 'tab',
    type: 'takt-vibration',
    sampleRateHz: 10240,
    windowSize: 1024,
    wires: [['out']],
    ...extra,
  },
  { id: 'out', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['v'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

const sine = (n: number) =>
  Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 160 * i) / 10240));

describe('takt-vibration node', () => {
  afterEach(() => helper.unload());

  it('turns a waveform into features and buffers single samples into windows', async () => {
    await load([vibrationNode, catchNode], flow());
    const got = nextMessages<Out>('out', 2);
    getNode('v').receive({ topic: 'cnc1/accel', payload: sine(2048) });
    for (const x of sine(1024)) getNode('v').receive({ payload: x });
    const [a, b] = await got;
    assert.equal(a.topic, 'cnc1/accel');
    assert.ok(Math.abs((a.payload.rms as number) - 0.5 / Math.SQRT2) < 1e-9);
    assert.ok(Math.abs((a.payload.dom1Hz as number) - 160) < 5);
    assert.equal(a.vibration.samples, 2048);
    assert.equal(b.vibration.samples, 1024);
    assert.ok(Math.abs((b.payload.kurtosis as number) - 1.5) < 1e-6);
  });

  it('reports NaN samples to the Catch node and keeps working', async () => {
    await load([vibrationNode, catchNode], flow({ fftSize: 4096, windowSize: 4096 }));
    const caught = nextMessages<{ error: { message: string } }>('caught', 1);
    const out = nextMessages<Out>('out', 1);
    getNode('v').receive({ payload: sine(5000).slice(0, 4096).concat([Number.NaN]) });
    const [e] = await caught;
    assert.match(e.error.message, /sample 4096 is not a finite number/);
    getNode('v').receive({ payload: sine(4096) });
    assert.equal((await out)[0].vibration.samples, 4096);
  });

  it('does not analyse bad-quality samples, and drops the partial window with them', async () => {
    await load([vibrationNode, catchNode], flow());
    const got = nextMessages<Out>('out', 2);
    const v = getNode('v');
    v.receive({ payload: sine(2048), quality: 'bad' });
    for (const x of sine(512)) v.receive({ payload: x });
    v.receive({ payload: 0, quality: 'BadSensorFailure' }); // the 512 buffered samples go with it
    for (const x of sine(1024)) v.receive({ payload: x });
    v.receive({ payload: sine(1024), quality: 'uncertain' });
    const [a, b] = await got;
    assert.equal(a.vibration.samples, 1024);
    assert.ok(Math.abs((a.payload.kurtosis as number) - 1.5) < 1e-6, 'a whole sine period, no gap');
    assert.equal(b.vibration.samples, 1024);
  });

  it('reads a batch of samples, every element checked', async () => {
    await load([vibrationNode, catchNode], flow());
    const caught = nextMessages<{ error: { message: string } }>('caught', 1);
    const got = nextMessages<Out>('out', 1);
    const v = getNode('v');
    v.receive({ payload: [{ value: 1 }, { value: 2, ts: 'noon' }] });
    assert.match((await caught)[0].error.message, /payload\[1\]\.ts: "noon" has no time zone/);
    const wave = sine(1024);
    v.receive({
      payload: [{ value: wave.slice(0, 512) }, { value: 7, quality: 'bad' }, { value: wave.slice(512) }],
    });
    // the bad element dropped the first half: the second half waits for more
    v.receive({ payload: [{ value: sine(1024) }] });
    assert.equal((await got)[0].vibration.samples, 1024);
  });

  it('refuses a window shorter than the FFT size', async () => {
    await load([vibrationNode, catchNode], flow({ fftSize: 4096, windowSize: 2048 }));
    const caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('v').receive({ payload: sine(4096) });
    assert.match(
      (await caught)[0].error.message,
      /windowSize: 2048 samples is shorter than the FFT size 4096/,
    );
  });
});
