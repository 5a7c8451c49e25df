import { TaktError } from './errors';

const DAY = 86400000;

/**
 * A plant's local clock: a fixed offset from UTC, or a named IANA zone ("Europe/Berlin") whose offset follows
 * daylight saving. Local times are "local ms": the epoch ms the local wall-clock reading would have in UTC, so
 * whole local days are multiples of 86 400 000 and "06:00" is 6 h after one.
 */
export interface Zone {
  /** Local ms of the instant t. */
  toLocal(t: number): number;
  /**
   * The instant a local wall-clock reading names. A reading the spring change skips (02:30 in Berlin on the
   * last Sunday of March) is read as that long past the change (03:30); one the autumn change repeats is
   * the earlier of the two.
   */
  toUtc(local: number): number;
}

/** Local = UTC + offsetMin minutes, all year. */
export function fixedZone(offsetMin: number): Zone {
  const off = offsetMin * 60000;
  return { toLocal: (t) => t + off, toUtc: (local) => local - off };
}

/** Zones built so far, by name (at most the runtime's zone names): the OEE trackers of a plant share one formatter and offset cache. */
const zones = new Map<string, Zone>();

/**
 * An IANA time zone (e.g. "Europe/Berlin", "America/Chicago", "UTC"), from the runtime's time zone data.
 * Throws `TaktError("time.badZone")` for a name the runtime does not know.
 */
export function ianaZone(name: string, field = 'timeZone'): Zone {
  const known = zones.get(name);
  if (known) return known;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new TaktError('time.badZone', `${field}: "${name}" is not a known time zone`, field);
  }
  // Offsets change on whole minutes in every zone in use, so one look-up per minute is enough.
  const byMinute = new Map<number, number>();
  /** Offset (ms) of local time from UTC at t. */
  const offsetAt = (t: number): number => {
    const minute = Math.floor(t / 60000);
    let off = byMinute.get(minute);
    if (off === undefined) {
      // en-US numeric parts read "1/15/2027, 06:00:00"
      const m = /(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)/.exec(fmt.format(minute * 60000));
      if (!m) throw new TaktError('time.badZone', `${field}: cannot read the time in "${name}"`, field);
      const [mo, d, y, h, mi, s] = m.slice(1).map(Number);
      off = Date.UTC(y, mo - 1, d, h, mi, s) - minute * 60000;
      if (byMinute.size >= 4096) byMinute.clear();
      byMinute.set(minute, off);
    }
    return off;
  };
  const zone: Zone = {
    toLocal: (t) => t + offsetAt(t),
    toUtc: (local) => {
      // the offsets a day before and after (real zones change at most once in two days)
      const before = local - offsetAt(local - DAY);
      const after = local - offsetAt(local + DAY);
      const ok = (t: number) => t + offsetAt(t) === local;
      if (ok(before)) return before; // also the earlier of two readings the autumn change repeats
      if (ok(after)) return after;
      return before; // skipped by the spring change: the old offset reads it as that long past the change
    },
  };
  zones.set(name, zone);
  return zone;
}

/** The zone a node's config names: an IANA name when given, else the fixed offset. */
export function zoneOf(timeZone: string | undefined, utcOffsetMin = 0, field = 'timeZone'): Zone {
  const name = timeZone?.trim();
  return name ? ianaZone(name, field) : fixedZone(utcOffsetMin);
}
