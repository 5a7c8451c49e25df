/**
 * Value changes a source has produced, per tag, counted at the moment it produces them. A client compares
 * these counts with what reached it: a tag it never saw, or changes lost after the last one it saw, show as
 * losses, which they cannot when the client infers what was offered from what arrived.
 */
export class ChangeCounter {
  private readonly counts = new Map<string, number>();

  /** Lists a tag with no change yet, so that a tag which never changes is still reported (with 0). */
  declare(tag: string): void {
    if (!this.counts.has(tag)) this.counts.set(tag, 0);
  }

  /** Counts `n` changes of a tag. */
  add(tag: string, n = 1): void {
    this.counts.set(tag, (this.counts.get(tag) ?? 0) + n);
  }

  /** Changes of one tag so far (0 for a tag never counted). */
  get(tag: string): number {
    return this.counts.get(tag) ?? 0;
  }

  /** Changes of every tag so far (of the tags starting with `prefix` when given). */
  total(prefix = ''): number {
    let n = 0;
    for (const [tag, c] of this.counts) if (tag.startsWith(prefix)) n += c;
    return n;
  }

  /** A copy of the counts, tag -> changes, in the order tags were first declared or counted. */
  snapshot(prefix = ''): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [tag, c] of this.counts) if (tag.startsWith(prefix)) out[tag] = c;
    return out;
  }
}
