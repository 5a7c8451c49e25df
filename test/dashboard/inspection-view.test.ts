import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { InspectionBoard, readJudged, type PartView } from '../../nodes/dashboard/inspection-view';

const part = (key: string, verdict: PartView['verdict']): PartView => ({
  key,
  ts: 0,
  verdict,
  score: verdict === 'ok' ? 0.5 : 2,
  threshold: 1,
  image: '',
  width: 256,
  height: 256,
  defects: [],
});

describe('dashboard/inspection view', () => {
  it('reads a takt-vision message: key from msg.key, else the camera part, else the message id', () => {
    const vision = { verdict: 'ng', score: 2, threshold: 1, defects: [{ x: 1, y: 2, w: 3, h: 4, area: 12 }] };
    assert.equal(readJudged({ key: 'lot7-12', vision, part: { part: 3 } }, 5).key, 'lot7-12');
    assert.equal(readJudged({ vision, part: { part: 3 } }, 5).key, 'part-3');
    assert.equal(readJudged({ vision, _msgid: 'abc' }, 5).key, 'abc');
    const r = readJudged({ vision, ts: 42 }, 5);
    assert.equal(r.ts, 42);
    assert.deepEqual(r.defects, [{ x: 1, y: 2, w: 3, h: 4 }]);
    assert.equal(r.truth, undefined);
    assert.equal(readJudged({ vision, part: { part: 1, defect: null } }, 5).truth, 'good');
    assert.equal(readJudged({ vision, part: { part: 1, defect: { kind: 'dent' } } }, 5).truth, 'dent');
    // A heat map that went through JSON (a Buffer's JSON form) is still an image.
    const json = JSON.parse(JSON.stringify({ heatmap: Buffer.from([1, 2, 3]) })) as { heatmap: unknown };
    assert.equal(
      readJudged({ vision: { ...vision, heatmap: json.heatmap } }, 5).image,
      'data:image/png;base64,AQID',
    );
  });

  it('refuses what is not a judged part, naming the field', () => {
    const code = (f: () => unknown) =>
      assert.throws(f, (e: unknown) => e instanceof TaktError && e.code === 'inspection.badMessage');
    code(() => readJudged({}, 0));
    code(() => readJudged({ vision: { verdict: 'maybe', score: 1, threshold: 1 } }, 0));
    code(() => readJudged({ vision: { verdict: 'ok', score: 'high', threshold: 1 } }, 0));
    code(() => readJudged({ vision: { verdict: 'ok', score: 1, threshold: 1, heatmap: 'x' } }, 0));
  });

  it('counts the reject rate over every part and keeps the newest ng and doubt parts for review', () => {
    const b = new InspectionBoard(3);
    assert.equal(b.view().rejectRate, 0);
    for (const [k, v] of [
      ['a', 'ng'],
      ['b', 'ok'],
      ['c', 'doubt'],
      ['d', 'ok'],
      ['e', 'ng'],
      ['f', 'ng'],
      ['g', 'ok'],
      ['h', 'ok'],
    ] as const)
      b.take(part(k, v));
    const v = b.view();
    assert.deepEqual([v.total, v.ng, v.doubt, v.rejectRate], [8, 3, 1, 3 / 8]);
    assert.equal(v.last!.key, 'h');
    assert.deepEqual(
      v.gallery.map((p) => p.key),
      ['f', 'e', 'c'],
    );
  });

  it('turns a decision into takt-model-ops feedback and takes the part off the gallery', () => {
    const b = new InspectionBoard();
    b.take(part('p1', 'ng'));
    b.take(part('p2', 'doubt'));
    assert.deepEqual(b.decide('p1', 'confirm', 'jo'), {
      action: 'feedback',
      payload: { key: 'p1', label: 'fault' },
      user: 'jo',
      inspection: { key: 'p1', verdict: 'ng', score: 2, decision: 'confirm' },
    });
    assert.equal(b.decide('p2', 'overrule', 'op').payload.label, 'falseAlarm');
    const v = b.view();
    assert.deepEqual([v.gallery.length, v.confirmed, v.overruled], [0, 1, 1]);
    assert.throws(() => b.decide('p1', 'confirm', 'jo'), /no part "p1" waits/);
    b.take(part('p3', 'ng'));
    assert.throws(() => b.decide('p3', 'maybe', 'jo'), /not confirm or overrule/);
  });
});
