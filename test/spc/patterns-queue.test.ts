import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNode, helper, load, nextMessages } from '../helpers/nodered';
import { MAX_QUEUED_WINDOWS, OnnxPatternClassifier, PATTERN_WINDOW, Rng } from '../../nodes/spc/patterns';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const spcNode = require('../../nodes/spc/spc.node');

const windowOf = (rng: Rng) => Float64Array.from({ length: PATTERN_WINDOW }, () => rng.normal());

describe('SPC pattern classifier queue', () => {
  it('keeps at most MAX_QUEUED_WINDOWS windows waiting; more are refused at once and counted', async () => {
    const clf = await OnnxPatternClassifier.load();
    try {
      const rng = new Rng(5);
      const calls = 2 * MAX_QUEUED_WINDOWS;
      // All calls are made before the first run can finish: one run takes the first window, the next
      // MAX_QUEUED_WINDOWS wait, the rest are refused.
      const settled = Array.from({ length: calls }, () => clf.classify(windowOf(rng))).map((p) =>
        p.then(
          (r) => ({ ok: true as const, r }),
          (e: { code?: string }) => ({ ok: false as const, code: e.code }),
        ),
      );
      assert.equal(clf.queued, MAX_QUEUED_WINDOWS);
      const got = await Promise.all(settled);
      const refused = got.filter((g) => !g.ok);
      assert.equal(refused.length, calls - 1 - MAX_QUEUED_WINDOWS);
      assert.ok(refused.every((g) => g.code === 'spc.patternBusy'));
      // the refused ones are the latest calls; the accepted ones are classified
      assert.ok(got.slice(0, MAX_QUEUED_WINDOWS + 1).every((g) => g.ok && g.r.confidence > 0));
      assert.equal(clf.dropped, refused.length);
      assert.equal(clf.queued, 0);
      // once drained, the queue takes windows again
      const r = await clf.classify(windowOf(rng));
      assert.ok(r.confidence > 0);
    } finally {
      await clf.dispose();
    }
  });

  it('takes its cap as an option and refuses a bad one', async () => {
    await assert.rejects(OnnxPatternClassifier.load(undefined, { maxQueued: 0 }), { code: 'spc.badOption' });
    const clf = await OnnxPatternClassifier.load(undefined, { maxQueued: 3 });
    try {
      const rng = new Rng(6);
      const got = await Promise.allSettled(Array.from({ length: 10 }, () => clf.classify(windowOf(rng))));
      assert.deepEqual(
        got.map((g) => g.status),
        [...Array<string>(4).fill('fulfilled'), ...Array<string>(6).fill('rejected')],
      );
      assert.equal(clf.dropped, 6);
    } finally {
      await clf.dispose();
    }
  });
});

describe('takt-spc node when the pattern classifier falls behind', () => {
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-spc-queue-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('sends every point in order, without a pattern for those the full queue refused, and counts them', async () => {
    await load(
      [spcNode],
      [
        { id: 'tab', type: 'tab' },
        {
          id: 's',
          z: 'tab',
          type: 'takt-spc',
          chartType: 'imr',
          grouping: 'payload',
          phaseOne: 30,
          rules: 'nelson',
          patterns: true,
          wires: [['points'], [], []],
        },
        { id: 'points', z: 'tab', type: 'helper' },
      ],
    );
    const rng = new Rng(9);
    const n = getNode('s');
    // phase I and a full window, so that the model is loaded and classifying
    const warm = nextMessages<{ spc: { pattern?: unknown } }>('points', 70, 20000);
    for (let i = 0; i < 70; i++) n.receive({ payload: 20 + rng.normal() });
    assert.ok((await warm)[69].spc.pattern, 'the model classifies');
    // a burst far beyond the cap, all handed over before the model can answer
    const burst = Array.from({ length: 3 * MAX_QUEUED_WINDOWS }, () => 20 + rng.normal());
    const points = nextMessages<{ payload: number; spc: { pattern?: unknown } }>(
      'points',
      burst.length,
      60000,
    );
    const warnings: string[] = [];
    const origWarn = n.warn.bind(n);
    n.warn = (m: unknown) => {
      warnings.push(String(m));
      origWarn(m);
    };
    const statuses: { fill?: string; text?: string }[] = [];
    n.on('call:status', ((call: { args: [{ fill?: string; text?: string }] }) =>
      statuses.push(call.args[0])) as never);
    burst.forEach((v) => n.receive({ payload: v }));
    const got = await points;
    assert.deepEqual(
      got.map((m) => m.payload),
      burst,
      'every point leaves, in arrival order',
    );
    const without = got.filter((m) => m.spc.pattern === undefined).length;
    assert.ok(without >= MAX_QUEUED_WINDOWS, `${without} points without a pattern`);
    assert.ok(got.length - without >= MAX_QUEUED_WINDOWS, 'the queued windows were classified');
    // the drops are logged at the 1st, 10th, 100th, ..., and the status (throttled) ends on the count
    assert.match(warnings[0], /^1 points not classified: pattern model: 1024 windows already wait/);
    assert.deepEqual(
      warnings.map((w) => Number(/^(\d+) points not classified/.exec(w)?.[1])),
      [1, 10, 100, 1000].filter((k) => k <= without),
    );
    // (the test runtime has no message catalog: the status text is its key)
    const unclassified = (st?: { text?: string }) => /^spc\.status\.unclass/.test(st?.text ?? '');
    for (let i = 0; i < 50 && !unclassified(statuses.at(-1)); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(statuses.at(-1)?.fill, 'yellow');
    assert.ok(unclassified(statuses.at(-1)));
  });
});
