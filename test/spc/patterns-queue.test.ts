import assert from 'node:assert/strict';
import { MAX_QUEUED_WINDOWS, OnnxPatternClassifier, PATTERN_WINDOW, Rng } from '../../nodes/spc/patterns';

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
