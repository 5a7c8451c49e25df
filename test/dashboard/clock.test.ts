import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ianaZone } from '../../nodes/core/zone';

// The Gantt widget's tick placement (resources/, an ES module the browser loads; Node loads it too).
const CLOCK = join(__dirname, '../../../resources/takt-ui-clock.js');
type ClockTicks = (
  origin: number,
  from: number,
  to: number,
  step: number,
  offsetAt?: (ms: number) => number,
) => number[];
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { clockTicks } = require(CLOCK) as { clockTicks: ClockTicks };

/** The wall-clock reading "dd hh:mm" of epoch ms in an IANA zone. */
const reading = (zone: string, ms: number) => {
  const d = new Date(ianaZone(zone).toLocal(ms));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
};
const offsetIn = (zone: string) => (ms: number) => (ianaZone(zone).toLocal(ms) - ms) / 60000;

describe('dashboard: Gantt clock ticks (resources/takt-ui-clock.js)', () => {
  it('keeps 2-hour ticks on even hours across the spring change in Berlin (02:00 does not exist)', () => {
    const origin = Date.UTC(2026, 2, 28, 20, 0); // Sat 21:00 CET; clocks go 02:00 -> 03:00 on Sunday
    const ticks = clockTicks(origin, 0, 660, 120, offsetIn('Europe/Berlin'));
    assert.deepEqual(
      ticks.map((t) => reading('Europe/Berlin', origin + t * 60000)),
      ['28 22:00', '29 00:00', '29 04:00', '29 06:00', '29 08:00'],
    );
    // Placed by the offset at each tick's own time: 04:00 CEST is 2 h after midnight CET, 3 h of plan time.
    assert.equal(ticks[2] - ticks[1], 180);
  });

  it('gives the hour the autumn change repeats twice, an hour of plan time apart', () => {
    const origin = Date.UTC(2026, 9, 24, 22, 0); // Sun 00:00 CEST; clocks go 03:00 -> 02:00
    const ticks = clockTicks(origin, 0, 300, 60, offsetIn('Europe/Berlin'));
    assert.deepEqual(ticks, [0, 60, 120, 180, 240, 300]);
    assert.deepEqual(
      ticks.map((t) => reading('Europe/Berlin', origin + t * 60000)),
      ['25 00:00', '25 01:00', '25 02:00', '25 02:00', '25 03:00', '25 04:00'],
    );
  });

  it('falls on the round times of a clock with a half-hour offset and of an origin off the minute', () => {
    const origin = Date.UTC(2026, 5, 1, 3, 7, 30); // 08:37:30 in Kolkata (UTC+5:30)
    const ticks = clockTicks(origin, 0, 100, 30, offsetIn('Asia/Kolkata'));
    assert.deepEqual(
      ticks.map((t) => reading('Asia/Kolkata', origin + t * 60000)),
      ['01 09:00', '01 09:30', '01 10:00'],
    );
    assert.equal(ticks[0], 22.5);
  });

  it("uses the browser's own clock by default (run under TZ=America/New_York)", () => {
    // New York springs forward on 8 March 2026 at 02:00 EST (07:00 UTC).
    const origin = Date.UTC(2026, 2, 8, 3, 0); // 22:00 EST the evening before
    const script = `import(${JSON.stringify(CLOCK)}).then((m) => console.log(JSON.stringify(m.clockTicks(${origin}, 0, 600, 180))))`;
    const out = execFileSync(process.execPath, ['-e', script], {
      env: { ...process.env, TZ: 'America/New_York' },
    });
    const ticks = JSON.parse(String(out)) as number[];
    assert.deepEqual(
      ticks.map((t) => reading('America/New_York', origin + t * 60000)),
      ['08 00:00', '08 03:00', '08 06:00', '08 09:00'],
    );
  });
});
