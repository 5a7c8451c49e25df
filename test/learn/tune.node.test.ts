import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeNode, getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';

/* eslint-disable @typescript-eslint/no-require-imports */
const tuneNode = require('../../nodes/learn/tune.node');
const approveNode = require('../../nodes/approve/approve.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Out {
  payload: { item: string; value: number }[];
  summary: string;
  tune: {
    values: number[];
    current: number[];
    mode: string;
    reason: string;
    withinTrust: boolean;
    parts: number;
  };
  approval?: { id: string; outcome: string };
}

const SETPOINTS = (trust: boolean) =>
  JSON.stringify([
    {
      name: 'FeedRate',
      item: 'Plant1/Line1/CNC1/FeedRate',
      min: 200,
      max: 600,
      maxStep: 20,
      initial: 400,
      ...(trust ? { trust: [200, 600] } : {}),
    },
    {
      name: 'SpindleSpeed',
      item: 'Plant1/Line1/CNC1/SpindleSpeed',
      min: 1200,
      max: 2400,
      maxStep: 60,
      initial: 1800,
      ...(trust ? { trust: [1200, 2400] } : {}),
    },
  ]);

const flow = (trust: boolean, extra: object = {}) => [
  { id: 'tab', type: 'tab' },
  {
    id: 't',
    z: 'tab',
    type: 'takt-tune',
    name: 'CNC1 tune',
    setpoints: SETPOINTS(trust),
    target: 25,
    tolerance: 0.025,
    quality: 'BoreDiameter',
    energy: 'PartEnergy',
    context: 'ToolWear, AmbientTemperature',
    wires: [['write'], ['a']],
    ...extra,
  },
  { id: 'write', z: 'tab', type: 'helper' },
  {
    id: 'a',
    z: 'tab',
    type: 'takt-approve',
    timeout: 30,
    timeoutUnit: 'min',
    onTimeout: 'rejected',
    // decisions arrive as messages with a claimed name (no login in a node test)
    anonymous: true,
    wires: [['approved', 't'], ['t']],
  },
  { id: 'approved', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['t'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

/** A part of a process y = 25 + 0.0001·(feed − 380), no noise. */
const part = (feed: number, wear = 0) => ({
  payload: {
    BoreDiameter: 25 + 0.0001 * (feed - 380),
    PartEnergy: 0.25,
    ToolWear: wear,
    AmbientTemperature: 22,
  },
});

describe('takt-tune node', function () {
  this.timeout(20000);
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-tune-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('writes proposals inside the trust region on output 1, within bounds and one step, and says it is probing', async () => {
    await load([tuneNode, approveNode, catchNode], flow(true));
    const out = nextMessages<Out>('write', 3);
    const st = nextStatus('t', (s) => s.fill === 'green' && s.text === 'tune.status.probing');
    let feed = 400;
    for (let i = 0; i < 3; i++) getNode('t').receive(part(feed));
    const msgs = await out;
    for (const m of msgs) {
      assert.equal(m.payload[0].item, 'Plant1/Line1/CNC1/FeedRate');
      const [f, s] = m.payload.map((w) => w.value);
      assert.ok(f >= 200 && f <= 600 && s >= 1200 && s <= 2400);
      assert.ok(Math.abs(f - feed) <= 20 + 1e-9, `step ${f - feed}`);
      assert.equal(m.tune.withinTrust, true);
      feed = f;
    }
    await st;
  });

  it('sends proposals outside the trust region to takt-approve; the approved one comes back and is in force', async () => {
    await load([tuneNode, approveNode, catchNode], flow(false));
    const waiting = nextStatus('a', (s) => s.text === '1 waiting');
    getNode('t').receive(part(400));
    await waiting;
    const pending = (await helper.request().get('/takt-approve/a/pending').expect(200)).body as {
      id: string;
      summary: string;
    }[];
    assert.equal(pending.length, 1);
    assert.match(pending[0].summary, /^CNC1 tune: FeedRate 400 → 420/);
    // Only one proposal waits at a time.
    getNode('t').receive(part(400));
    assert.equal(((await helper.request().get('/takt-approve/a/pending')).body as unknown[]).length, 1);
    const approved = nextMessages<Out>('approved', 1);
    const decided = new Promise((resolve) => getNode('t').once('input', resolve));
    getNode('a').receive({ approval: { id: pending[0].id, decision: 'approve', user: 'ana' } });
    const [m] = await approved;
    await decided;
    assert.equal(m.approval?.outcome, 'approved');
    // The decision went back into takt-tune: the next proposal starts from the approved setpoints.
    const next = nextStatus('a', (s) => s.text === '1 waiting');
    getNode('t').receive(part(m.tune.values[0]));
    await next;
    const [p2] = (await helper.request().get('/takt-approve/a/pending')).body as {
      id: string;
      summary: string;
    }[];
    assert.match(p2.summary, new RegExp(`FeedRate ${m.tune.values[0]} → `));
  });

  it('falls back on a bad or missing quality and says so, going back to the last good setpoint', async () => {
    await load([tuneNode, approveNode, catchNode], flow(true));
    const out = nextMessages<Out>('write', 2);
    getNode('t').receive(part(400)); // within tolerance: 400/1800 is the last good setpoint
    // A prep row whose quality feature is bad, made at the first proposal.
    getNode('t').receive({
      payload: {
        ts: Date.now(),
        features: { BoreDiameter: 25.3, PartEnergy: 0.25, ToolWear: 0, AmbientTemperature: 22 },
        quality: { BoreDiameter: 'bad', PartEnergy: 'good', ToolWear: 'good', AmbientTemperature: 'good' },
      },
    });
    const msgs = await out;
    assert.deepEqual(
      msgs.map((x) => [x.tune.mode, x.tune.reason]),
      [
        ['probe', 'probing'],
        ['fallback', 'bad quality'],
      ],
    );
    assert.deepEqual(msgs[1].tune.values, [400, 1800], 'back to the last good setpoint, within one step');
    assert.match(msgs[1].summary, /\[fallback: bad quality\]/);
    // No quality at all: fallback again (already at the last good setpoint, so nothing to write).
    // (the test runtime shows message keys, clipped to 19 characters)
    const fallback = nextStatus('t', (s) => s.fill === 'yellow' && s.text === 'tune.status.noQual…');
    getNode('t').receive({ payload: { PartEnergy: 0.25, ToolWear: 0, AmbientTemperature: 22 } });
    await fallback;
  });

  it('refuses a bad config and bad input with clear errors and keeps working', async () => {
    await load(
      [tuneNode, approveNode, catchNode],
      flow(true, { setpoints: '[{"name":"F","min":5,"max":1}]' }),
    );
    const red = nextStatus('t', (s) => s.fill === 'red');
    getNode('t').receive(part(400));
    assert.ok((await red).text);
    await helper.unload();
    await load(
      [tuneNode, approveNode, catchNode],
      flow(true, { setpoints: '[{"name":"F","min":1,"max":5,"maxStep":1,"initial":2,"gain":"fast"}]' }),
    );
    const noGain = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('t').receive(part(400));
    assert.match((await noGain)[0].error.message, /setpoints\[0\]\.gain/);
    await helper.unload();
    await load([tuneNode, approveNode, catchNode], flow(true));
    const caught = nextMessages<{ error: { message: string } }>('caught', 2);
    getNode('t').receive({ payload: [1, 2, 3] });
    getNode('t').receive({ action: 'applied', payload: 5 });
    const [a, b] = await caught;
    assert.match(a.error.message, /named features/);
    assert.match(b.error.message, /setpoints in force by name/);
    const out = nextMessages<Out>('write', 1);
    getNode('t').receive(part(400));
    assert.equal((await out).length, 1, 'still working');
  });

  /** Feeds `n` parts made at the proposals (applied at once: trust region), the last proposal. */
  async function run(n: number, from: number): Promise<Out> {
    let feed = from;
    let last: Out | undefined;
    for (let i = 0; i < n; i++) {
      const out = nextMessages<Out>('write', 1);
      getNode('t').receive(part(feed, i));
      [last] = await out;
      feed = last.payload[0].value;
    }
    return last as Out;
  }

  const warnings = (): string[] =>
    (helper.log() as unknown as { args: { level: number; msg: unknown }[][] }).args
      .filter(([e]) => e.level === 30)
      .map(([e]) => String(e.msg));

  it('keeps what it learned across a restart: the next proposal continues from the saved state', async () => {
    await load([tuneNode, approveNode, catchNode], flow(true));
    const before = await run(30, 400);
    assert.equal(before.tune.mode, 'tune', 'past the warm-up');
    await helper.unload(); // close: the state is written
    assert.ok(existsSync(join(userDir, 'takt', 'tune', 't.json')));
    await load([tuneNode, approveNode, catchNode], flow(true));
    const out = nextMessages<Out>('write', 1);
    getNode('t').receive(part(before.payload[0].value, 30));
    const [after] = await out;
    // Fresh, it would probe from 400/1800 as part 1; restored, it tunes on from the setpoints in force.
    assert.equal(after.tune.parts, 31);
    assert.equal(after.tune.mode, 'tune');
    assert.deepEqual(after.tune.current, before.tune.values);
  });

  it('deletes its state file when the node is removed (a redeploy keeps it)', async () => {
    const file = join(userDir, 'takt', 'tune', 't.json');
    await load([tuneNode, approveNode, catchNode], flow(true));
    await run(5, 400);
    await closeNode('t', false);
    assert.ok(existsSync(file), 'closed, not removed: the state is kept');
    await helper.unload();
    await load([tuneNode, approveNode, catchNode], flow(true));
    await run(1, 400);
    await closeNode('t', true);
    assert.ok(!existsSync(file), 'removed: the state file is gone');
  });

  it('reports a corrupt or mismatched state file and starts fresh', async () => {
    const dir = join(userDir, 'takt', 'tune');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 't.json'), '{"tuner": {"version": 1, "key": ');
    await load([tuneNode, approveNode, catchNode], flow(true));
    assert.ok(
      warnings().some((w) => /not valid JSON: starting fresh/.test(w)),
      warnings().join('; '),
    );
    const first = await run(1, 400);
    assert.deepEqual([first.tune.mode, first.tune.parts], ['probe', 1]);
    await helper.unload();
    // A state learned for other setpoints (here: another target) is refused too.
    await load([tuneNode, approveNode, catchNode], flow(true, { target: 26 }));
    assert.ok(
      warnings().some((w) => /learned for other setpoints/.test(w)),
      warnings().join('; '),
    );
    const again = await run(1, 400);
    assert.equal(again.tune.parts, 1);
  });
});
