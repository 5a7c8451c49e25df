// Where the Takt Gantt chart (takt-ui-gantt.umd.js) puts its clock ticks. Pure: no window, no Vue, so the
// runtime's tests load it too.

/** Minutes east of UTC of the browser's clock at epoch ms `ms` (daylight saving included). */
export function browserOffset(ms) {
  return -new Date(ms).getTimezoneOffset();
}

/**
 * The plan times (minutes after `origin`, epoch ms) from `from` to `to` at which the plant clock reads a
 * round time: a whole multiple of `step` minutes (a divisor of a day) after local midnight. `offsetAt(ms)`
 * gives the clock's offset from UTC in minutes at each instant, so the ticks stay on round times across a
 * daylight-saving change inside the plan: each tick is placed with the offset at its own time, not the one at
 * the origin. A reading the spring change skips has no tick; one the autumn change repeats has two.
 */
export function clockTicks(origin, from, to, step, offsetAt = browserOffset) {
  const o = origin / 60000; // epoch minutes of plan time 0
  const local = (t) => o + t + offsetAt((o + t) * 60000);
  // A daylight-saving change moves the clock by at most two hours, so the readings from `from` to `to` lie
  // within this range.
  const first = Math.ceil((local(from) - 180) / step) * step;
  const last = local(to) + 180;
  const day = 24 * 60;
  const out = [];
  for (let reading = first; reading <= last; reading += step) {
    // The instant (epoch minutes) of the reading, with the offset a day before and a day after (real zones
    // change at most once in two days); kept when the offset at that instant gives the reading back.
    const seen = new Set();
    for (const guess of [reading - day, reading + day]) {
      const u = reading - offsetAt(guess * 60000);
      if (seen.has(u) || u + offsetAt(u * 60000) !== reading) continue;
      seen.add(u);
      const t = u - o;
      if (t >= from && t <= to) out.push(t);
    }
  }
  return out.sort((a, b) => a - b);
}
