import { TaktError } from './errors';

/** Epoch milliseconds below this are taken as epoch seconds (1e11 ms is March 1973; 1e11 s is year 5138). */
const SECONDS_BELOW = 1e11;
/** Latest timestamp accepted anywhere in Takt: 9999-12-31T23:59:59.999Z. */
export const MAX_TS = 253402300799999;

/**
 * A source timestamp as epoch milliseconds. Accepts epoch ms, epoch seconds (any number below 1e11,
 * fractions kept), an ISO 8601 / RFC 3339 string, a numeric string, or a Date.
 * Throws `TaktError("time.badTimestamp")` for anything else, NaN, negative values or years past 9999.
 */
export function toEpochMs(value: unknown, field = 'ts'): number {
  let ms: number;
  if (value instanceof Date) {
    ms = value.getTime();
  } else if (typeof value === 'number') {
    ms = Math.abs(value) < SECONDS_BELOW ? value * 1000 : value;
  } else if (typeof value === 'string' && value.trim() !== '') {
    const s = value.trim();
    if (/^[+-]?\d+(\.\d+)?$/.test(s)) return toEpochMs(Number(s), field);
    // Date.parse takes local time for strings without a zone; a plant timestamp without a zone is ambiguous.
    if (!/(Z|[+-]\d\d:?\d\d)$/i.test(s)) {
      throw new TaktError('time.noZone', `${field}: "${s}" has no time zone (add Z or an offset)`, field);
    }
    ms = Date.parse(s);
  } else {
    throw new TaktError('time.badTimestamp', `${field}: expected epoch ms, ISO 8601 text or a Date`, field);
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TS) {
    throw new TaktError('time.badTimestamp', `${field}: ${String(value)} is not a valid timestamp`, field);
  }
  return Math.round(ms);
}

/**
 * Waits for `p` at most `ms`: its value, or undefined once the time is up (`p` is left to settle on its
 * own). For goodbyes that a peer may never acknowledge, such as a last MQTT message while the broker stops.
 */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
