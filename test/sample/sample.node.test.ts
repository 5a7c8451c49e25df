import assert from 'node:assert/strict';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';

// The compiled node, as the runtime loads it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sampleNode = require('../../nodes/sample/sample.node');

interface SampleMsg {
  topic: string;
  payload: unknown;
  ts: number;
  quality: string;
  keep?: string;
  _msgid: string;
}

const flow = (extra: object = {}) => [
  { id: 'tab', type: 'tab' },
  { id: 's', z: 'tab', type: 'takt-sample', topicPrefix: 'acme/p1', wires: [['out']], ...extra },
  { id: 'out', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['s'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

// The Catch node is a core node: load it from the node-red package the helper runs.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

describe('takt-sample node', () => {
  afterEach(async () => {
    await helper.unload();
  });

  it('loads with its defaults', async () => {
    await load([sampleNode], [{ id: 's', type: 'takt-sample', name: 'temps' }]);
    assert.equal(getNode('s').name, 'temps');
  });

  it('turns a plain value into a sample and keeps the rest of the message', async () => {
    await load([sampleNode, catchNode], flow());
    const got = nextMessages<SampleMsg & { _msgid: string }>('out');
    getNode('s').receive({
      topic: 'line1/oven/temp',
      payload: '180.5',
      ts: '2026-11-26T08:00:00Z',
      keep: 'me',
    });
    const [m] = await got;
    assert.equal(m.topic, 'acme/p1/line1/oven/temp');
    assert.equal(m.payload, 180.5);
    assert.equal(m.ts, Date.UTC(2026, 10, 26, 8));
    assert.equal(m.quality, 'good');
    assert.equal(m.keep, 'me');
  });

  it('takes value, ts, quality and topic from a sample-like payload object', async () => {
    await load([sampleNode, catchNode], flow());
    const got = nextMessages<SampleMsg>('out');
    getNode('s').receive({
      topic: 'ignored',
      payload: { topic: 'press/force', value: 12, ts: 1764144000, quality: 'BadNotConnected' },
    });
    const [m] = await got;
    assert.deepEqual(
      [m.topic, m.payload, m.ts, m.quality],
      ['acme/p1/press/force', 12, 1764144000000, 'bad'],
    );
  });

  it('reads the value from a configured property', async () => {
    await load([sampleNode, catchNode], flow({ property: 'data.temp', coerce: 'number' }));
    const got = nextMessages<SampleMsg>('out');
    getNode('s').receive({ topic: 't', data: { temp: '21' } });
    const [m] = await got;
    assert.equal(m.payload, 21);
  });

  it('emits a batch as one message', async () => {
    await load([sampleNode, catchNode], flow());
    const got = nextMessages<SampleMsg>('out');
    getNode('s').receive({
      topic: 'cell',
      payload: [
        { value: 1, ts: 1000000000000 },
        { topic: 'x', value: 2, ts: 1000000000001 },
      ],
    });
    const [m] = await got;
    assert.deepEqual(m.payload, [
      { topic: 'acme/p1/cell', value: 1, ts: 1000000000000, quality: 'good' },
      { topic: 'acme/p1/x', value: 2, ts: 1000000000001, quality: 'good' },
    ]);
  });

  it('refuses bad input through done(err) with a red status, then keeps working', async () => {
    await load([sampleNode, catchNode], flow({ coerce: 'number' }));
    const caught = nextMessages<SampleMsg & { error: { message: string } }>('caught');
    const red = nextStatus('s', (s) => s.fill === 'red');
    getNode('s').receive({ topic: 'line1/oven/temp', payload: 'n/a' });
    const [c] = await caught;
    assert.match(c.error.message, /payload\.value: "n\/a" is not a number/);
    assert.deepEqual(await red, { fill: 'red', shape: 'dot', text: 'not a number' });

    const good = nextMessages<SampleMsg>('out');
    const green = nextStatus('s', (s) => s.fill === 'green');
    getNode('s').receive({ topic: 'line1/oven/temp', payload: 181 });
    assert.equal((await good)[0].payload, 181);
    // The helper loads no message catalogues, so the text is the i18n key; the runtime test checks the text.
    assert.deepEqual(await green, { fill: 'green', shape: 'dot', text: 'sample.status.count' });
  });

  it('sends nothing for a batch with one bad element', async () => {
    await load([sampleNode, catchNode], flow());
    const out = getNode('out');
    let sent = 0;
    out.on('input', () => sent++);
    const caught = nextMessages<{ error: { message: string } }>('caught');
    getNode('s').receive({ topic: 'cell', payload: [{ value: 1 }, { value: 'x', quality: 'excellent' }] });
    assert.match((await caught)[0].error.message, /payload\[1\]\.quality/);
    assert.equal(sent, 0);
  });
});
