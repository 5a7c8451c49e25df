import assert from 'node:assert/strict';
import { ShadowBook, toLabel } from '../../nodes/models/metrics';

const d = (version: number, isAnomaly: boolean, score = isAnomaly ? 2 : 0.5) => ({
  version,
  isAnomaly,
  score,
});

describe('models: shadow and feedback metrics', () => {
  it('counts alarms and agreement with the champion per version', () => {
    const b = new ShadowBook();
    b.record('k1', [d(1, false), d(2, false)]);
    b.record('k2', [d(1, true), d(2, false)]);
    b.record('k3', [d(1, true), d(2, true)]);
    b.record('k4', [d(1, false)]);
    const [m1, m2] = b.metrics();
    assert.deepEqual(
      [m1.version, m1.rows, m1.alarms, m1.compared, m1.alarmRate, m1.agreement],
      [1, 4, 2, 0, 0.5, null],
    );
    assert.deepEqual([m2.version, m2.rows, m2.alarms, m2.compared, m2.agreements], [2, 3, 1, 3, 2]);
    assert.equal(m2.agreement, 2 / 3);
  });

  it('turns operator feedback into TP/FP/FN/TN, precision, recall and false-alarm rate per version', () => {
    const b = new ShadowBook();
    b.record('a', [d(1, true), d(2, true)], [1, 2, 3]);
    b.record('b', [d(1, true), d(2, false)]);
    b.record('c', [d(1, false), d(2, true)]);
    b.record('e', [d(1, true), d(2, false)]);
    b.record('f', [d(1, false), d(2, false)]);
    assert.deepEqual(b.feedback('a', 'fault').row, [1, 2, 3]);
    b.feedback('b', 'falseAlarm');
    b.feedback('c', 'fault');
    b.feedback('e', 'fault');
    const [m1, m2] = b.metrics();
    assert.deepEqual([m1.tp, m1.fp, m1.fn, m1.tn], [2, 1, 1, 0]);
    assert.deepEqual([m2.tp, m2.fp, m2.fn, m2.tn], [2, 0, 1, 1]);
    assert.equal(m1.precision, 2 / 3);
    assert.equal(m1.recall, 2 / 3);
    assert.equal(m1.falseAlarmRate, 1 / 5);
    assert.equal(m2.precision, 1);
    assert.equal(m2.recall, 2 / 3);
    assert.equal(m2.falseAlarmRate, 0);
    // a corrected label replaces the first
    assert.equal(b.feedback('b', 'fault').previous, 'falseAlarm');
    const [n1, n2] = b.metrics();
    assert.deepEqual([n1.tp, n1.fp, n2.fn, n2.tn], [3, 0, 2, 0]);
  });

  it('forgets old keys, refuses unknown ones and unknown labels, and restores counts', () => {
    const b = new ShadowBook(2);
    b.record('1', [d(1, true)]);
    b.record('2', [d(1, true)]);
    b.record('3', [d(1, true)]);
    assert.throws(() => b.feedback('1', 'fault'), { code: 'models.unknownKey', message: /among the last 2/ });
    b.feedback('3', 'fault');
    assert.throws(() => toLabel('maybe'), { code: 'models.badLabel' });
    assert.equal(toLabel('false alarm'), 'falseAlarm');
    assert.equal(toLabel('Confirmed'), 'fault');
    const c = new ShadowBook();
    c.restore(b.snapshot());
    assert.deepEqual(c.metrics(), b.metrics());
  });
});
