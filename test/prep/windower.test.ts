import assert from 'node:assert/strict';
import { Windower } from '../../nodes/prep';

const T0 = 1764115200000;

describe('prep Windower', () => {
  it('slides a count window by its hop once full', () => {
    const w = new Windower<number>({ by: 'count', size: 4, hop: 2 });
    const got: number[][] = [];
    for (let i = 1; i <= 8; i++) for (const win of w.push('k', i, T0 + i)) got.push(win.items);
    assert.deepEqual(got, [
      [1, 2, 3, 4],
      [3, 4, 5, 6],
      [5, 6, 7, 8],
    ]);
  });

  it('cuts tumbling count windows (hop = size) and takes waveform chunks element by element', () => {
    const w = new Windower<number>({ size: 3 });
    const got = [...w.pushAll('k', [1, 2, 3, 4], T0), ...w.pushAll('k', [5, 6, 7], T0 + 1)];
    assert.deepEqual(
      got.map((x) => x.items),
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
    );
    assert.deepEqual(got[1].ts, [T0, T0 + 1, T0 + 1]);
  });

  it('keeps one window per key', () => {
    const w = new Windower<number>({ size: 2 });
    assert.equal(w.push('a', 1, T0).length, 0);
    assert.equal(w.push('b', 10, T0).length, 0);
    assert.deepEqual(w.push('a', 2, T0)[0].items, [1, 2]);
    assert.deepEqual(w.push('b', 20, T0)[0], { key: 'b', start: T0, end: T0, items: [10, 20], ts: [T0, T0] });
  });

  it('cuts tumbling time windows on epoch-aligned bounds, skipping empty ones', () => {
    const w = new Windower<string>({ by: 'time', size: 1000 });
    const got = [
      ...w.push('k', 'a', T0 + 100),
      ...w.push('k', 'b', T0 + 900),
      ...w.push('k', 'c', T0 + 1500),
      ...w.push('k', 'd', T0 + 3200),
      ...w.flush(),
    ];
    assert.deepEqual(
      got.map((x) => [x.start - T0, x.end - T0, x.items]),
      [
        [0, 1000, ['a', 'b']],
        [1000, 2000, ['c']],
        [3000, 4000, ['d']],
      ],
    );
  });

  it('slides time windows by the hop and counts items too late for any open window', () => {
    const w = new Windower<number>({ by: 'time', size: 1000, hop: 500 });
    const got = [...w.push('k', 1, T0 + 100), ...w.push('k', 2, T0 + 600), ...w.push('k', 3, T0 + 1100)];
    // windows [-500, 500) and [0, 1000) end at or before 1100
    assert.deepEqual(
      got.map((x) => [x.start - T0, x.items]),
      [
        [-500, [1]],
        [0, [1, 2]],
      ],
    );
    w.push('k', 0, T0 + 200); // open window starts at 500
    assert.equal(w.counts.late, 1);
    assert.deepEqual(
      w.flush().map((x) => [x.start - T0, x.items]),
      [
        [500, [2, 3]],
        [1000, [3]],
      ],
    );
  });

  it('bounds memory: items beyond maxItems and keys beyond maxKeys drop the oldest, counted', () => {
    const w = new Windower<number>({ by: 'time', size: 1000, maxItems: 2, maxKeys: 2 });
    w.push('k', 1, T0 + 1);
    w.push('k', 2, T0 + 2);
    w.push('k', 3, T0 + 3);
    assert.equal(w.counts.overflow, 1);
    assert.deepEqual(w.push('k', 4, T0 + 1000)[0].items, [2, 3]);
    w.push('a', 1, T0);
    w.push('b', 1, T0);
    assert.equal(w.keyCount, 2);
    assert.equal(w.counts.droppedKeys, 1);
  });

  it('carries open windows across a snapshot with the same settings only', () => {
    const w = new Windower<number>({ size: 3 });
    w.push('k', 1, T0);
    w.push('k', 2, T0 + 1);
    const snap = JSON.parse(JSON.stringify(w.snapshot())) as unknown;
    const again = new Windower<number>({ size: 3 });
    assert.ok(again.restore(snap));
    assert.deepEqual(again.push('k', 3, T0 + 2)[0].items, [1, 2, 3]);
    assert.equal(new Windower<number>({ size: 4 }).restore(snap), false);
  });

  it('refuses bad sizes', () => {
    assert.throws(() => new Windower({ size: 0 }), { code: 'prep.badConfig', field: 'size' });
    assert.throws(() => new Windower({ size: 4, hop: 1.5 }), { field: 'hop' });
  });
});
