import assert from 'node:assert/strict';
import { MAX_TS, toEpochMs, within } from '../../nodes/core';

describe('core/time toEpochMs', () => {
  const ms = Date.UTC(2026, 10, 26, 8, 30, 15, 250);

  it('keeps epoch milliseconds', () => {
    assert.equal(toEpochMs(ms), ms);
  });

  it('reads epoch seconds (numbers below 1e11), fractions included', () => {
    assert.equal(toEpochMs(ms / 1000), ms);
    assert.equal(toEpochMs(String(ms / 1000)), ms);
  });

  it('reads ISO 8601 with Z or an offset, and Dates', () => {
    assert.equal(toEpochMs('2026-11-26T08:30:15.250Z'), ms);
    assert.equal(toEpochMs('2026-11-26T09:30:15.250+01:00'), ms);
    assert.equal(toEpochMs(new Date(ms)), ms);
  });

  it('refuses text without a time zone, since the plant clock zone is unknown', () => {
    assert.throws(() => toEpochMs('2026-11-26T08:30:15'), /no time zone/);
  });

  it('refuses NaN, negatives, years past 9999 and other types', () => {
    assert.throws(() => toEpochMs(NaN), /not a valid timestamp/);
    assert.throws(() => toEpochMs(-5), /not a valid timestamp/);
    assert.throws(() => toEpochMs(MAX_TS + 1), /not a valid timestamp/);
    assert.throws(() => toEpochMs({}), /expected epoch ms/);
    assert.throws(() => toEpochMs(''), /expected epoch ms/);
  });
});

describe('core/time within', () => {
  it("gives the promise's value when it settles in time, undefined when it does not", async () => {
    assert.equal(await within(Promise.resolve(7), 1000), 7);
    const never = new Promise<number>(() => undefined);
    assert.equal(await within(never, 20), undefined);
    await assert.rejects(within(Promise.reject(new Error('refused')), 1000), /refused/);
  });
});
