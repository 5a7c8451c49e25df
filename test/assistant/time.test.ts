/**
 * The assistant's calendar time words at the instants where a calendar turns over: month and year end, a leap
 * day, Sunday to Monday, and local midnight a zone away from UTC. The parser's own tests use one clock
 * (parse.test.ts); these move it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type Plant } from '../../nodes/assistant';

const ROOT = join(__dirname, '..', '..', '..');
const plant = JSON.parse(readFileSync(join(ROOT, 'nodes', 'assistant', 'demo-plant.json'), 'utf8')) as Plant;
const iso = (t: number) => new Date(t).toISOString();
/** The period a question's time words name, as ISO texts. */
function period(text: string, now: number, utcOffsetMin = 0): [string, string] {
  const r = parse(text, { plant, now, utcOffsetMin });
  const p = r.slots.period;
  assert.ok(p, `"${text}" names a period`);
  return [iso(p.from), iso(p.to)];
}
const U = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);

describe('assistant time words at calendar boundaries', () => {
  it('"next month" is the whole next month, however long it is', () => {
    // asked in January: February, which has 28 days in 2027
    assert.deepEqual(period('energy next month', U(2027, 1, 15, 10)), [
      iso(U(2027, 2, 1)),
      iso(U(2027, 3, 1)),
    ]);
    // asked in March: April, 30 days
    assert.deepEqual(period('energy next month', U(2027, 3, 10, 8)), [
      iso(U(2027, 4, 1)),
      iso(U(2027, 5, 1)),
    ]);
  });

  it('turns the month and the year over on the last minute of December', () => {
    const now = U(2026, 12, 31, 23, 59);
    assert.deepEqual(period('energy this month', now), [iso(U(2026, 12, 1)), iso(now)]);
    assert.deepEqual(period('energy last month', now), [iso(U(2026, 11, 1)), iso(U(2026, 12, 1))]);
    assert.deepEqual(period('energy next month', now), [iso(U(2027, 1, 1)), iso(U(2027, 2, 1))]);
    assert.deepEqual(period('energy today', now), [iso(U(2026, 12, 31)), iso(now)]);
    const jan = U(2027, 1, 1, 0, 1);
    assert.deepEqual(period('energy this month', jan), [iso(U(2027, 1, 1)), iso(jan)]);
    assert.deepEqual(period('energy last month', jan), [iso(U(2026, 12, 1)), iso(U(2027, 1, 1))]);
    assert.deepEqual(period('energy yesterday', jan), [iso(U(2026, 12, 31)), iso(U(2027, 1, 1))]);
  });

  it('knows the leap day', () => {
    const now = U(2028, 2, 28, 23, 59);
    assert.deepEqual(period('energy next month', now), [iso(U(2028, 3, 1)), iso(U(2028, 4, 1))]);
    const leap = U(2028, 2, 29, 0, 1);
    assert.deepEqual(period('energy today', leap), [iso(U(2028, 2, 29)), iso(leap)]);
    assert.deepEqual(period('energy yesterday', leap), [iso(U(2028, 2, 28)), iso(U(2028, 2, 29))]);
    assert.deepEqual(period('energy this month', U(2028, 3, 1, 0, 1)), [
      iso(U(2028, 3, 1)),
      iso(U(2028, 3, 1, 0, 1)),
    ]);
  });

  it('starts the week on Monday, also in the first minute of it', () => {
    const sunday = U(2026, 12, 6, 23, 59);
    assert.deepEqual(period('oee this week', sunday), [iso(U(2026, 11, 30)), iso(sunday)]);
    assert.deepEqual(period('oee last week', sunday), [iso(U(2026, 11, 23)), iso(U(2026, 11, 30))]);
    const monday = U(2026, 12, 7, 0, 1);
    assert.deepEqual(period('oee this week', monday), [iso(U(2026, 12, 7)), iso(monday)]);
    assert.deepEqual(period('oee last week', monday), [iso(U(2026, 11, 30)), iso(U(2026, 12, 7))]);
  });

  it('turns the local day, week and month at local midnight, not at UTC midnight', () => {
    // UTC+1: 23:30 UTC on Sunday 31 January 2027 is 00:30 local on Monday 1 February.
    const now = U(2027, 1, 31, 23, 30);
    const localMidnight = iso(U(2027, 1, 31, 23));
    assert.deepEqual(period('energy today', now, 60), [localMidnight, iso(now)]);
    assert.deepEqual(period('energy this month', now, 60), [localMidnight, iso(now)]);
    assert.deepEqual(period('oee this week', now, 60), [localMidnight, iso(now)]);
    assert.deepEqual(period('energy next month', now, 60), [
      iso(U(2027, 2, 28, 23)),
      iso(U(2027, 3, 31, 23)),
    ]);
  });
});
