import assert from 'node:assert/strict';
import { Calendar, OeeTracker } from '../../nodes/oee/oee';

const DAY = Date.UTC(2026, 10, 26);
const at = (hh: number, mm = 0) => DAY + (hh * 60 + mm) * 60000;
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

const calendar = {
  shifts: [
    { name: 'early', start: '06:00', end: '14:00' },
    { name: 'late', start: '14:00', end: '22:00' },
  ],
  breaks: [{ start: '10:00', end: '10:30' }],
};

describe('oee/Calendar', () => {
  it('finds the shift instance and its planned time without breaks and planned downtime', () => {
    const c = new Calendar({ ...calendar, plannedDowntime: [{ start: at(12), end: at(12, 15) }] });
    const s = c.at(at(9))!;
    assert.deepEqual([s.name, s.start, s.end], ['early', at(6), at(14)]);
    assert.deepEqual(s.planned, [
      [at(6), at(10)],
      [at(10, 30), at(12)],
      [at(12, 15), at(14)],
    ]);
    assert.equal(c.at(at(23)), undefined);
  });

  it('handles a night shift across midnight and a local time offset', () => {
    const c = new Calendar({ shifts: [{ name: 'night', start: '22:00', end: '06:00' }], utcOffsetMin: 60 });
    // 02:00 local on the 27th is 01:00 UTC; the shift began 22:00 local on the 26th = 21:00 UTC.
    const s = c.at(DAY + 86400000 + 60 * 60000)!;
    assert.deepEqual([s.name, s.start, s.end], ['night', at(21), at(21) + 8 * 3600000]);
  });

  it('cuts a break across midnight from the end of one shift and the start of the next', () => {
    // Local = UTC+1: the break 23:45-00:15 local is 22:45-23:15 UTC, midnight local is 23:00 UTC.
    const c = new Calendar({
      shifts: [
        { name: 'a', start: '00:00', end: '08:00' },
        { name: 'b', start: '08:00', end: '00:00' },
      ],
      breaks: [{ start: '23:45', end: '00:15' }],
      utcOffsetMin: 60,
    });
    const a = c.at(at(23, 30))!;
    assert.deepEqual([a.name, a.start, a.end], ['a', at(23), at(31)]);
    assert.deepEqual(a.planned, [[at(23, 15), at(31)]]);
    const b = c.at(at(22, 50))!;
    assert.deepEqual([b.name, b.start, b.end], ['b', at(7), at(23)]);
    assert.deepEqual(b.planned, [[at(7), at(22, 45)]]);
  });
});

describe('oee/Calendar in a time zone with daylight saving (Europe/Berlin)', () => {
  const H = 3600000;
  const U = (mo: number, d: number, h: number, mi = 0) => Date.UTC(2027, mo - 1, d, h, mi);
  const berlin = (more: object = {}) =>
    new Calendar({
      shifts: [
        { name: 'early', start: '06:00', end: '14:00' },
        { name: 'late', start: '14:00', end: '22:00' },
        { name: 'night', start: '22:00', end: '06:00' },
      ],
      breaks: [{ start: '00:00', end: '00:30' }],
      utcOffsetMin: 0, // the zone wins
      timeZone: 'Europe/Berlin',
      ...more,
    });

  it('starts the shifts at local time in winter (UTC+1) and in summer (UTC+2)', () => {
    const winter = berlin().at(U(1, 15, 8))!;
    assert.deepEqual([winter.name, winter.start, winter.end], ['early', U(1, 15, 5), U(1, 15, 13)]);
    const summer = berlin().at(U(7, 15, 8))!;
    assert.deepEqual([summer.name, summer.start, summer.end], ['early', U(7, 15, 4), U(7, 15, 12)]);
  });

  it('makes the night shift of the spring change 7 hours, its break still at local midnight', () => {
    // Sunday 28 March 2027: 02:00 CET becomes 03:00 CEST (01:00 UTC). The night began 22:00 CET = 21:00 UTC.
    const s = berlin().at(U(3, 28, 0, 59) + 30000)!;
    assert.deepEqual([s.name, s.start, s.end], ['night', U(3, 27, 21), U(3, 28, 4)]);
    assert.equal(s.end - s.start, 7 * H);
    assert.deepEqual(s.planned, [
      [U(3, 27, 21), U(3, 27, 23)],
      [U(3, 27, 23, 30), U(3, 28, 4)],
    ]);
    // a minute after the change it is the same shift, and the early shift starts at 06:00 CEST
    assert.equal(berlin().at(U(3, 28, 1, 1))!.start, U(3, 27, 21));
    assert.deepEqual(berlin().at(U(3, 28, 4))!.name, 'early');
  });

  it('makes the night shift of the autumn change 9 hours', () => {
    // Sunday 31 October 2027: 03:00 CEST becomes 02:00 CET (01:00 UTC). The night began 22:00 CEST = 20:00 UTC.
    for (const t of [U(10, 31, 0, 59), U(10, 31, 1, 30), U(10, 31, 4, 30)]) {
      const s = berlin().at(t)!;
      assert.deepEqual([s.name, s.start, s.end], ['night', U(10, 30, 20), U(10, 31, 5)]);
    }
    assert.equal(berlin().at(U(10, 31, 5))!.name, 'early');
  });

  it('counts the planned minutes of the short and the long night', () => {
    const plannedMin = (from: number, to: number) => {
      const tr = new OeeTracker('M1', {
        calendar: { shifts: [{ name: 'night', start: '22:00', end: '06:00' }], timeZone: 'Europe/Berlin' },
        idealCycleS: 60,
      });
      tr.setState(from, 'Running');
      const closed = tr.tick(to);
      assert.equal(closed.length, 1);
      return closed[0].plannedMin;
    };
    assert.equal(plannedMin(U(3, 27, 21), U(3, 28, 5)), 7 * 60);
    assert.equal(plannedMin(U(10, 30, 20), U(10, 31, 6)), 9 * 60);
  });

  it('refuses a time zone it does not know', () => {
    assert.throws(
      () => berlin({ timeZone: 'Mars/Olympus' }),
      /timeZone: "Mars\/Olympus" is not a known time zone/,
    );
  });
});

describe('oee/OeeTracker (a hand-computed shift)', () => {
  // Early shift 06:00-14:00 with a 30 min break: 450 planned minutes. Ideal cycle 60 s.
  // Running 06:00; Down 08:00-08:30 (1 failure); Running; Setup 11:00-11:20; Running;
  // Idle 12:00-12:02 (minor stop, < 5 min); Running; Idle 13:00-13:10 (a long stop); Running to 14:00.
  // Parts: 351 in all, 9 scrap, 3 of them within 10 min after the setup (start-up losses).
  // Operating = 450 - 30 - 20 - 10 = 390 min; A = 390/450; P = 351 x 1 min / 390 = 0.9; Q = 342/351;
  // OEE = 0.8667 x 0.9 x 0.97436 = 0.76.
  function shift(): OeeTracker {
    const t = new OeeTracker('CNC1', { calendar, idealCycleS: 60 });
    t.setCounts(at(6), { good: 1000, scrap: 50 }); // counters from before the shift
    t.setState(at(6), 'Running');
    t.setState(at(8), 'Down');
    t.setState(at(8, 30), 'Running');
    t.setCounts(at(10), { good: 1150, scrap: 53 });
    t.setState(at(11), 'Setup');
    t.setState(at(11, 20), 'Running');
    t.setCounts(at(11, 25), { good: 1160, scrap: 56 }); // 3 scrap right after the setup
    t.setState(at(12), 'Idle');
    t.setState(at(12, 2), 'Running');
    t.setState(at(13), 'Idle');
    t.setState(at(13, 10), 'Running');
    t.setCounts(at(13, 59), { good: 1342, scrap: 59 });
    return t;
  }

  it('reports availability, performance, quality and OEE at shift end', () => {
    const closed = shift().setState(at(14, 5), 'Running');
    assert.equal(closed.length, 1);
    const r = closed[0];
    assert.deepEqual([r.shift, r.closed, r.start, r.end], ['early', true, at(6), at(14)]);
    close(r.plannedMin, 450, 'planned');
    close(r.operatingMin, 390, 'operating');
    close(r.availability, 390 / 450, 'A');
    close(r.performance, 0.9, 'P');
    close(r.quality, 342 / 351, 'Q');
    close(r.oee, 0.76, 'OEE');
    assert.deepEqual([r.good, r.scrap, r.total], [342, 9, 351]);
  });

  it('splits the six big losses and gives MTBF and MTTR', () => {
    const [r] = shift().tick(at(14));
    close(r.losses.equipmentFailure, 30, 'failure');
    close(r.losses.setupAdjustment, 20, 'setup');
    close(r.losses.idlingMinorStops, 12, 'idling');
    close(r.losses.reducedSpeed, 390 - 2 - 351, 'speed');
    close(r.losses.processDefects, 6, 'defects');
    close(r.losses.reducedYield, 3, 'yield');
    assert.equal(r.failures, 1);
    close(r.mtbfMin!, 390, 'MTBF');
    close(r.mttrMin!, 30, 'MTTR');
  });

  it('gives live values for the shift so far', () => {
    const t = shift(); // last data at 13:59
    const live = t.live()!;
    assert.equal(live.closed, false);
    assert.equal(live.until, at(13, 59));
    close(live.plannedMin, 449, 'planned so far'); // 06:00-13:59 less the 30 min break
    assert.deepEqual(t.tick(at(13, 30)), [], 'a clock behind the data changes nothing');
  });

  it('refuses states it does not know and time going backwards', () => {
    const t = shift();
    assert.throws(() => t.setState(at(13, 59), 'Broken' as 'Down'), /not one of Running, Idle, Setup, Down/);
    assert.throws(() => t.setState(at(7), 'Down'), /older than the last one/);
    assert.throws(() => t.setCounts(at(13, 59), { good: -1 }), /not a count/);
  });
});
