import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { say, wavInfo } from '../../nodes/assistant/voice';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { requireVoice } from '../helpers/voice';

/* eslint-disable @typescript-eslint/no-require-imports */
const voiceInNode = require('../../nodes/assistant/voice-in.node');
const sayNode = require('../../nodes/assistant/say.node');
const askNode = require('../../nodes/assistant/ask.node');
const approveNode = require('../../nodes/approve/approve.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Reply {
  payload: string;
  assistant: { intent: string; slots: Record<string, unknown>; action?: { topic: string } };
}
interface Heard {
  payload: string;
  voice: { text: string; ms: number };
}
interface Caught {
  error: { message: string };
}

describe('takt-voice-in and takt-say nodes (real pocketsphinx and espeak-ng)', function () {
  this.timeout(240000);
  let userDir: string;
  before(function () {
    requireVoice(this);
  });
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-voice-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  const flow = () => [
    { id: 'tab', type: 'tab' },
    {
      id: 'say',
      z: 'tab',
      type: 'takt-say',
      voice: 'en-us',
      speed: 150,
      play: 'none',
      wires: [['spoken', 'in']],
    },
    { id: 'in', z: 'tab', type: 'takt-voice-in', timeoutS: 120, wires: [['heard', 'ask']] },
    { id: 'ask', z: 'tab', type: 'takt-ask', wires: [['reply'], ['a', 'proposals']] },
    { id: 'a', z: 'tab', type: 'takt-approve', timeout: 30, timeoutUnit: 'min', wires: [['yes'], ['no']] },
    { id: 'spoken', z: 'tab', type: 'helper' },
    { id: 'heard', z: 'tab', type: 'helper' },
    { id: 'reply', z: 'tab', type: 'helper' },
    { id: 'proposals', z: 'tab', type: 'helper' },
    { id: 'yes', z: 'tab', type: 'helper' },
    { id: 'no', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: ['in', 'say'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
  const nodes = [voiceInNode, sayNode, askNode, approveNode, catchNode];

  it('a spoken command goes say -> voice-in -> ask and waits in takt-approve', async () => {
    await load(nodes, flow());
    const spoken = nextMessages<{ payload: Buffer; text: string }>('spoken', 1, 90000);
    const heard = nextMessages<Heard>('heard', 1, 90000);
    const reply = nextMessages<Reply>('reply', 1, 90000);
    const proposal = nextMessages<{ topic: string }>('proposals', 1, 90000);
    getNode('say').receive({ payload: 'put order 105 first', user: 'alice' });
    const [s] = await spoken;
    assert.ok(Buffer.isBuffer(s.payload));
    assert.equal(wavInfo(s.payload).channels, 1);
    const [h] = await heard;
    assert.equal(typeof h.voice.ms, 'number');
    const [r] = await reply;
    assert.equal(r.assistant.intent, 'rush_order', h.payload);
    assert.deepEqual(r.assistant.slots, { order: 'ORD-105' });
    const [p] = await proposal;
    assert.match(p.topic, /rush_order/);
    const pending = (await helper.request().get('/takt-approve/a/pending').expect(200)).body as unknown[];
    assert.equal(pending.length, 1);
  });

  it('reads a WAV file path, and a bad payload is a red status while the node keeps working', async () => {
    await load(nodes, flow());
    const caught = nextMessages<Caught>('caught', 1, 10000);
    const red = nextStatus('in', (s) => s.fill === 'red', 10000);
    getNode('in').receive({ payload: 42 });
    assert.match((await caught)[0].error.message, /WAV buffer or the path/);
    await red;
    const caught2 = nextMessages<Caught>('caught', 1, 10000);
    getNode('in').receive({ payload: Buffer.from('not a wav at all') });
    assert.match((await caught2)[0].error.message, /RIFF/);
    const file = join(userDir, 'cmd.wav');
    writeFileSync(file, await say('put order 105 first', { voice: 'en-us', speed: 150 }));
    const reply = nextMessages<Reply>('reply', 1, 90000);
    getNode('in').receive({ payload: file });
    const [r] = await reply;
    assert.equal(r.assistant.intent, 'rush_order');
    assert.deepEqual(r.assistant.slots, { order: 'ORD-105' });
  });

  it('takt-say refuses empty text and keeps working', async () => {
    await load(nodes, flow());
    const caught = nextMessages<Caught>('caught', 1, 10000);
    getNode('say').receive({ payload: '   ' });
    assert.match((await caught)[0].error.message, /empty/);
    const spoken = nextMessages<{ payload: Buffer }>('spoken', 1, 90000);
    getNode('say').receive({ payload: 'ok' });
    assert.ok(wavInfo((await spoken)[0].payload).sampleRate > 0);
  });

  it('takt-voice-in rebuilds its grammar for a plant sent with topic "plant"', async () => {
    await load(nodes, flow());
    const other = { machines: [{ id: 'Lathe7', name: 'lathe 7', aliases: ['zx lathe'] }] };
    const idle = nextStatus('in', (s) => s.fill === 'grey', 10000);
    getNode('in').receive({ topic: 'plant', payload: other });
    await idle;
    const heard = nextMessages<Heard>('heard', 1, 90000);
    getNode('in').receive({ payload: await say('start the zx lathe', { voice: 'en-us', speed: 150 }) });
    assert.match((await heard)[0].payload, /zx lathe/);
  });

  it('with Second pass, decodes with the sentence grammar too and keeps it for a plant sent later', async () => {
    await load(
      nodes,
      flow().map((n) => (n.id === 'in' ? { ...n, secondPass: true } : n)),
    );
    const heard = nextMessages<Heard & { voice: { grammar?: string } }>('heard', 1, 200000);
    getNode('in').receive({ payload: await say('why did the oven stop', { voice: 'en-us', speed: 150 }) });
    const [h] = await heard;
    assert.equal(typeof h.voice.grammar, 'string');
    const other = { machines: [{ id: 'Lathe7', name: 'lathe 7', aliases: ['zx lathe'] }] };
    getNode('in').receive({ topic: 'plant', payload: other });
    const again = nextMessages<Heard & { voice: { grammar?: string } }>('heard', 1, 200000);
    getNode('in').receive({ payload: await say('stop the zx lathe', { voice: 'en-us', speed: 150 }) });
    const [h2] = await again;
    assert.equal(typeof h2.voice.grammar, 'string');
    assert.match(h2.payload, /zx lathe/);
  });

  it('a bad config disables the node with the field named (config.*), on every message', async () => {
    const bad = flow().map((n) =>
      n.id === 'say' ? { ...n, play: 'speakers' } : n.id === 'in' ? { ...n, timeoutS: 'soon' } : n,
    );
    await load(nodes, bad);
    const caught = nextMessages<Caught>('caught', 2);
    getNode('say').receive({ payload: 'hello' });
    getNode('in').receive({ payload: Buffer.alloc(10) });
    const msgs = (await caught).map((c) => c.error.message).sort();
    assert.match(msgs[0]!, /play: "speakers" is not one of none, aplay, play/);
    assert.match(msgs[1]!, /timeoutS: "soon" is not a duration/);
  });
});
