/**
 * Delivered against offered, per tag, for the OPC UA benches. What was offered comes from the source (the
 * simulator counts every change it writes, per tag): a tag that never arrived counts as all lost, and so
 * do changes lost after the last one that arrived, which a count inferred from the ticks received cannot see.
 */

/**
 * The changes received per tag inside a window of the load mode's ticks: after tick `from` (exclusive) up to
 * tick `to` (inclusive). Every load tag's value is the tick that set it, so a value tells its tick.
 */
export class DeliveryTally {
  private readonly received = new Map<string, number>();
  private from = Infinity;
  private to = Infinity;
  /** Values received outside the window (before it opened or after it closed). */
  outside = 0;

  /** Opens the window after tick `from`; counts start from zero. */
  open(from: number): void {
    this.received.clear();
    this.outside = 0;
    this.from = from;
    this.to = Infinity;
  }

  /** Closes the window at tick `to` (values of later ticks are not counted). */
  close(to: number): void {
    this.to = to;
  }

  add(tag: string, tick: number): void {
    if (!(tick > this.from && tick <= this.to)) {
      this.outside++;
      return;
    }
    this.received.set(tag, (this.received.get(tag) ?? 0) + 1);
  }

  /** Changes received in the window so far, per tag. */
  counts(): ReadonlyMap<string, number> {
    return this.received;
  }

  total(): number {
    let n = 0;
    for (const c of this.received.values()) n += c;
    return n;
  }
}

export interface Delivery {
  /** Changes the source made (sum over its tags). */
  offered: number;
  /** Changes received, at most the offered count of each tag (duplicates do not make up for losses). */
  delivered: number;
  /** delivered / offered (0 when nothing was offered). */
  deliveredRatio: number;
  /** The worst tag's delivered / offered (0 when a tag with changes was never seen). */
  minTagDeliveredRatio: number;
  /** Tags the source changed at least once. */
  tagsOffered: number;
  /** Of those, the tags received at least once. */
  tagsSeen: number;
  /** Changes received beyond a tag's offered count, or for a tag the source does not list. */
  extra: number;
}

/**
 * Compares per tag the changes a source counted (`offered`, e.g. the difference of two GetChangeCounts
 * answers) with those received.
 */
export function compareDelivery(
  offered: Readonly<Record<string, number>>,
  received: ReadonlyMap<string, number>,
): Delivery {
  let total = 0;
  let delivered = 0;
  let minRatio = Infinity;
  let tagsOffered = 0;
  let tagsSeen = 0;
  let extra = 0;
  for (const [tag, o] of Object.entries(offered)) {
    const r = received.get(tag) ?? 0;
    if (o <= 0) {
      extra += r;
      continue;
    }
    const d = Math.min(r, o);
    total += o;
    delivered += d;
    extra += r - d;
    tagsOffered++;
    if (r > 0) tagsSeen++;
    minRatio = Math.min(minRatio, d / o);
  }
  for (const [tag, r] of received) if (!(tag in offered)) extra += r;
  return {
    offered: total,
    delivered,
    deliveredRatio: total > 0 ? delivered / total : 0,
    minTagDeliveredRatio: tagsOffered > 0 ? minRatio : 0,
    tagsOffered,
    tagsSeen,
    extra,
  };
}

/** Per tag, the changes made between two snapshots of a source's counts (tags of `after` only). */
export function countsBetween(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tag, n] of Object.entries(after)) out[tag] = n - (before[tag] ?? 0);
  return out;
}

/** Delivery over several windows taken together: sums, and the worst tag of any window. */
export function combineDelivery(parts: readonly Delivery[]): Delivery {
  const offered = parts.reduce((s, p) => s + p.offered, 0);
  const delivered = parts.reduce((s, p) => s + p.delivered, 0);
  return {
    offered,
    delivered,
    deliveredRatio: offered > 0 ? delivered / offered : 0,
    minTagDeliveredRatio: parts.length ? Math.min(...parts.map((p) => p.minTagDeliveredRatio)) : 0,
    tagsOffered: parts.length ? Math.min(...parts.map((p) => p.tagsOffered)) : 0,
    tagsSeen: parts.length ? Math.min(...parts.map((p) => p.tagsSeen)) : 0,
    extra: parts.reduce((s, p) => s + p.extra, 0),
  };
}

/** Waits until `count()` has not moved for `quietMs` (at most `maxMs`): the changes in flight have arrived. */
export async function drain(count: () => number, quietMs = 1000, maxMs = 10000): Promise<void> {
  const end = Date.now() + maxMs;
  let last = count();
  let since = Date.now();
  while (Date.now() < end && Date.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 100));
    const n = count();
    if (n !== last) {
      last = n;
      since = Date.now();
    }
  }
}
