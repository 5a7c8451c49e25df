import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { clip, errorStatus, errorWords, type NodeStatus, throttledStatus } from '../../nodes/core/status';

describe('core/status', () => {
  it('keeps status text under 20 characters', () => {
    assert.equal(clip('short'), 'short');
    const c = clip('a very long status text indeed');
    assert.equal(c.length, 19);
    assert.ok(c.endsWith('…'));
  });

  it('says an error code in plain words, with what it is about', () => {
    assert.deepEqual(errorStatus(new TaktError('sample.badTopic', 'x')), {
      fill: 'red',
      shape: 'dot',
      text: 'bad topic',
    });
    assert.equal(errorStatus(new TaktError('sample.notNumeric', 'x')).text, 'not a number');
    assert.equal(errorStatus(new TaktError('energy.cannotFit', 'x')).text, 'load too long');
    assert.equal(
      errorStatus(new TaktError('sim.unknownMachine', 'x', 'machine', 'M9')).text,
      'unknown machine M9',
    );
    assert.equal(errorStatus(new TaktError('schedule.badTimeLimit', 'x')).text, 'bad time limit');
    assert.equal(errorStatus(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).text, 'refused');
    assert.equal(errorStatus(Object.assign(new Error('x'), { code: 'EPIPE' })).text, 'EPIPE');
    assert.equal(errorStatus(new Error('boom')).text, 'boom');
    assert.equal(errorWords('spc.noR2R'), 'no run-to-run');
    assert.equal(errorWords('opcua.badDataType'), 'bad data type');
  });

  it('throttles bursts: the first update shows at once, the last of a burst shows later', async () => {
    const seen: NodeStatus[] = [];
    const t = throttledStatus((s) => seen.push(s), 50);
    t.update({ text: '1' });
    t.update({ text: '2' });
    t.update({ text: '3' });
    assert.deepEqual(
      seen.map((s) => s.text),
      ['1'],
    );
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(
      seen.map((s) => s.text),
      ['1', '3'],
    );
    t.now({ text: 'err' });
    t.update({ text: '4' });
    t.dispose();
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(
      seen.map((s) => s.text),
      ['1', '3', 'err'],
    );
  });

  it('builds a status given as a function only when it is shown', async () => {
    const seen: NodeStatus[] = [];
    let built = 0;
    const t = throttledStatus((s) => seen.push(s), 50);
    for (let i = 1; i <= 100; i++) {
      t.update(() => {
        built++;
        return { text: String(i) };
      });
    }
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(built, 2); // the first, shown at once, and the last of the burst
    assert.deepEqual(
      seen.map((s) => s.text),
      ['1', '100'],
    );
    t.dispose();
  });
});
