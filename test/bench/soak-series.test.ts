import assert from 'node:assert/strict';
import { isCodeSpace, partSlopes, splitHeap, type Sample } from '../../bench/lib/soak-series';
import { groupOf, type Heap } from '../../bench/lib/heap-diff';

const MB = 1024 * 1024;

/** A probe sample at `minutes` with the given bytes per V8 space (other fields are not read here). */
const sample = (minutes: number, spaces: Record<string, number>): Sample =>
  ({ elapsedS: minutes * 60, spaces, heapUsed: 0, rss: 0 }) as unknown as Sample;

describe('soak bench: heap by V8 space', () => {
  it('counts the code and trusted spaces as compiled code and the rest as data', () => {
    const names = [
      'read_only_space',
      'new_space',
      'old_space',
      'code_space',
      'shared_space',
      'trusted_space',
      'shared_trusted_space',
      'new_large_object_space',
      'large_object_space',
      'code_large_object_space',
      'shared_large_object_space',
      'shared_trusted_large_object_space',
      'trusted_large_object_space',
    ];
    assert.deepEqual(names.filter(isCodeSpace), [
      'code_space',
      'trusted_space',
      'shared_trusted_space',
      'code_large_object_space',
      'shared_trusted_large_object_space',
      'trusted_large_object_space',
    ]);
    assert.deepEqual(
      splitHeap({
        spaces: { old_space: 70, new_space: 5, large_object_space: 7, code_space: 6, trusted_space: 9 },
      }),
      { data: 82, compiled: 15 },
    );
  });

  it('gives the slope of each quarter, so a warm-up that levels off shows as falling slopes', () => {
    // Compiled code rises 2 MB per hour for the first hour, then stays; data rises 1 MB/h throughout.
    const samples = Array.from({ length: 121 }, (_, i) => {
      const h = i / 60;
      return sample(i, { code_space: Math.min(h, 1) * 2 * MB, old_space: (10 + h) * MB });
    });
    const compiled = partSlopes(samples, (s) => splitHeap(s).compiled);
    const data = partSlopes(samples, (s) => splitHeap(s).data);
    assert.equal(compiled.length, 4);
    assert.ok(Math.abs(compiled[0].slope - 2) < 1e-9 && Math.abs(compiled[1].slope - 2) < 1e-9);
    assert.ok(Math.abs(compiled[2].slope) < 1e-9 && Math.abs(compiled[3].slope) < 1e-9);
    for (const q of data) assert.ok(Math.abs(q.slope - 1) < 1e-9 && q.se < 1e-9);
  });
});

describe('soak bench: heap-diff groups', () => {
  it('groups V8 code objects by kind and names objects by constructor', () => {
    const h = {
      type: ['code', 'code', 'code', 'code', 'object', 'closure'],
      name: [
        '(instruction stream for validate0)',
        '(instruction stream for decode)',
        'system / BytecodeArray',
        'decode',
        'GanttState',
        '',
      ],
    } as unknown as Heap;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((i) => groupOf(h, i)),
      [
        '(code) (instruction stream)',
        '(code) (instruction stream)',
        '(code) system / BytecodeArray',
        '(code) function info',
        'object GanttState',
        'closure (anonymous)',
      ],
    );
  });
});
