import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { DemandLimiter } from '../../nodes/energy/limiter';

const S = 1000;
// 60 s interval, 100 kW limit, margin 5 kW
const make = (over: Partial<ConstructorParameters<typeof DemandLimiter>[0]> = {}) =>
  new DemandLimiter({
    intervalMs: 60 * S,
    limitKw: 100,
    marginKw: 5,
    loads: [
      { id: 'chiller', powerKw: 20 },
      { id: 'compressor', powerKw: 30, mode: 'defer' },
    ],
    ...over,
  });

describe('energy DemandLimiter', () => {
  it('does nothing while the projection stays under the limit', () => {
    const d = make();
    assert.deepEqual(d.push(0, 80), []);
    assert.deepEqual(d.push(30 * S, 90), []);
    // (80 kW * 30 s + 90 kW * 30 s) / 60 s = 85 kW
    assert.equal(d.projectedKw, 85);
  });

  it('sheds the first load in priority order when the projection crosses the limit', () => {
    const d = make();
    d.push(0, 80);
    // projection (80*30 + 130*30)/60 = 105 > 100; shedding the chiller: (80*30 + 110*30)/60 = 95
    const cmds = d.push(30 * S, 130);
    assert.equal(cmds.length, 1);
    assert.equal(cmds[0].action, 'shed');
    assert.equal(cmds[0].load, 'chiller');
    assert.equal(cmds[0].projectedKw, 95);
    assert.deepEqual(d.shed, ['chiller']);
  });

  it('sheds more loads when one is not enough, using the load mode as the action', () => {
    const d = make();
    d.push(0, 80);
    // (80*30 + 160*30)/60 = 120; without the chiller 110; without both (80*30 + 110*30)/60 = 95
    const cmds = d.push(30 * S, 160);
    assert.deepEqual(
      cmds.map((c) => [c.action, c.load]),
      [
        ['shed', 'chiller'],
        ['defer', 'compressor'],
      ],
    );
    assert.equal(cmds[1].projectedKw, 95);
  });

  it('restores in reverse order once the next interval has room, keeping a margin', () => {
    const d = make();
    d.push(0, 80);
    d.push(30 * S, 160); // both shed, the plant now draws 110 kW
    // new interval at 60 s: 60 kW measured; with the compressor back 90 <= 95: restore; chiller 110 > 95: wait
    const cmds = d.push(60 * S, 60);
    assert.deepEqual(
      cmds.map((c) => [c.action, c.load]),
      [['restore', 'compressor']],
    );
    assert.deepEqual(d.shed, ['chiller']);
    // 40 kW measured later: (90*10 + 40*50)/60 ... projection with the chiller back is well under 95
    const more = d.push(70 * S, 40);
    assert.deepEqual(
      more.map((c) => [c.action, c.load]),
      [['restore', 'chiller']],
    );
  });

  it('honours minimum off and on times', () => {
    const d = make({
      loads: [
        { id: 'chiller', powerKw: 20, minOffMs: 120 * S, minOnMs: 0 },
        { id: 'compressor', powerKw: 30 },
      ],
    });
    d.push(0, 80);
    assert.equal(d.push(30 * S, 130)[0].load, 'chiller');
    assert.deepEqual(d.push(60 * S, 20), []); // plenty of room, but off for only 30 s
    assert.deepEqual(
      d.push(150 * S, 20).map((c) => c.load),
      ['chiller'],
    );
    // a load switched on 10 s ago with a 60 s minimum on time is skipped; the next one is shed
    const e = make({
      loads: [
        { id: 'chiller', powerKw: 20, minOnMs: 60 * S },
        { id: 'compressor', powerKw: 30 },
      ],
    });
    e.push(0, 80);
    e.push(30 * S, 130); // chiller shed
    e.push(60 * S, 40); // restored at 60 s
    const cmds = e.push(70 * S, 200);
    assert.equal(cmds[0].load, 'compressor');
    assert.ok(!cmds.some((c) => c.load === 'chiller'));
  });

  it('snapshot and restoreSnapshot carry the interval state', () => {
    const d = make();
    d.push(0, 80);
    d.push(30 * S, 130);
    const e = make();
    e.restoreSnapshot(d.snapshot());
    assert.deepEqual(e.shed, ['chiller']);
    assert.deepEqual(e.push(40 * S, 100), d.push(40 * S, 100));
  });

  it('rejects bad samples and bad configuration with clear errors', () => {
    const d = make();
    d.push(10 * S, 50);
    assert.throws(
      () => d.push(5 * S, 50),
      (e: unknown) => e instanceof TaktError && /older/.test(e.message),
    );
    assert.throws(
      () => d.push(20 * S, NaN),
      (e: unknown) => e instanceof TaktError && e.code === 'energy.badSample',
    );
    assert.throws(
      () => make({ limitKw: 0 }),
      (e: unknown) => e instanceof TaktError && e.code === 'energy.badLimit',
    );
    assert.throws(
      () => make({ loads: [{ id: 'x', powerKw: -1 }] }),
      (e: unknown) => e instanceof TaktError && /"x"/.test(e.message),
    );
  });
});
