/**
 * The OPC UA benches' delivery comparison (bench/lib/delivery): offered comes from the simulator's counts,
 * so a tag never seen and changes lost after the last one seen are losses.
 */
import assert from 'node:assert/strict';
import { combineDelivery, compareDelivery, countsBetween, DeliveryTally } from '../../bench/lib/delivery';

/** Receives, per tag, these ticks through a tally whose window is (from, to]. */
function tallyOf(from: number, to: number, ticks: Record<string, number[]>): DeliveryTally {
  const t = new DeliveryTally();
  t.open(from);
  t.close(to);
  for (const [tag, list] of Object.entries(ticks)) for (const tick of list) t.add(tag, tick);
  return t;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** What the benches did before: offered per tag inferred from the first and last tick received. */
function inferredFromTicks(ticks: Record<string, number[]>): number {
  let offered = 0;
  for (const list of Object.values(ticks)) if (list.length) offered += list.at(-1)! - list[0] + 1;
  return offered;
}

describe('bench delivery comparison', () => {
  it('counts a tag that never arrived as all lost', () => {
    // The simulator changed three tags ten times each (ticks 1..10); tag C never reached the client.
    const ticks = { A: range(1, 10), B: range(1, 10) };
    const d = compareDelivery({ A: 10, B: 10, C: 10 }, tallyOf(0, 10, ticks).counts());
    assert.equal(d.offered, 30);
    assert.equal(d.delivered, 20);
    assert.equal(d.deliveredRatio, 20 / 30);
    assert.equal(d.minTagDeliveredRatio, 0);
    assert.equal(d.tagsOffered, 3);
    assert.equal(d.tagsSeen, 2);
    // Inferred from what arrived, nothing was lost.
    assert.equal(inferredFromTicks(ticks), 20);
  });

  it('counts the changes lost after the last one delivered', () => {
    // B's last four changes (ticks 7..10) were lost: its first and last delivered ticks do not show it.
    const ticks = { A: range(1, 10), B: range(1, 6) };
    const d = compareDelivery({ A: 10, B: 10 }, tallyOf(0, 10, ticks).counts());
    assert.equal(d.offered, 20);
    assert.equal(d.delivered, 16);
    assert.equal(d.deliveredRatio, 0.8);
    assert.equal(d.minTagDeliveredRatio, 0.6);
    assert.equal(d.tagsSeen, 2);
    assert.equal(inferredFromTicks(ticks), 16); // the old figure: 16 of 16, "100 %"
  });

  it('reports 1 when every change of every tag arrived, and ignores values from outside the window', () => {
    const tally = tallyOf(100, 110, { A: [99, 100, ...range(101, 110), 111], B: range(101, 110) });
    assert.equal(tally.outside, 3);
    const d = compareDelivery({ A: 10, B: 10 }, tally.counts());
    assert.deepEqual(
      { ratio: d.deliveredRatio, min: d.minTagDeliveredRatio, seen: d.tagsSeen, extra: d.extra },
      { ratio: 1, min: 1, seen: 2, extra: 0 },
    );
  });

  it('does not let duplicates of one tag make up for the losses of another', () => {
    const tally = tallyOf(0, 10, { A: [...range(1, 10), ...range(1, 5)], B: range(1, 5), X: [3] });
    const d = compareDelivery({ A: 10, B: 10 }, tally.counts());
    assert.equal(d.delivered, 15);
    assert.equal(d.deliveredRatio, 0.75);
    assert.equal(d.minTagDeliveredRatio, 0.5);
    assert.equal(d.extra, 6); // five duplicates of A, one value of a tag the simulator does not list
  });

  it('takes offered per tag as the difference of two count snapshots; tags with no change are not offered', () => {
    const offered = countsBetween({ A: 5, B: 7, C: 3 }, { A: 15, B: 17, C: 3, D: 4 });
    assert.deepEqual(offered, { A: 10, B: 10, C: 0, D: 4 });
    const d = compareDelivery(offered, tallyOf(0, 10, { A: range(1, 10), B: range(1, 10) }).counts());
    assert.equal(d.tagsOffered, 3);
    assert.equal(d.tagsSeen, 2);
    assert.equal(d.minTagDeliveredRatio, 0);
  });

  it('combines windows: sums, and the worst tag and fewest tags seen of any window', () => {
    const good = compareDelivery(
      { A: 10, B: 10 },
      tallyOf(0, 10, { A: range(1, 10), B: range(1, 10) }).counts(),
    );
    const bad = compareDelivery({ A: 10, B: 10 }, tallyOf(10, 20, { A: range(11, 20) }).counts());
    const all = combineDelivery([good, bad]);
    assert.equal(all.offered, 40);
    assert.equal(all.delivered, 30);
    assert.equal(all.minTagDeliveredRatio, 0);
    assert.equal(all.tagsSeen, 1);
  });

  it('gives 0, not 1, when nothing was offered', () => {
    const d = compareDelivery({}, new DeliveryTally().counts());
    assert.equal(d.deliveredRatio, 0);
    assert.equal(d.minTagDeliveredRatio, 0);
  });
});
