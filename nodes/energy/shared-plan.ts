/**
 * A plan shared between threads through a SharedArrayBuffer: the local-search thread publishes each
 * better plan, the solver thread picks it up inside a HiGHS callback (it cannot take messages while
 * HiGHS runs). A sequence number guards the copy: odd while a write is in progress.
 */
import type { Model } from './model';

const HEADER = 2; // Int32: sequence, unused
const COST_AT = 8; // byte offset of the Float64 cost

export function sharedPlanBuffer(m: Model): SharedArrayBuffer {
  const slots = m.loads.reduce((a, l) => a + l.dur, 0);
  return new SharedArrayBuffer(COST_AT + 8 + 4 * slots);
}

export class SharedPlan {
  private readonly head: Int32Array;
  private readonly cost: Float64Array;
  private readonly slots: Int32Array;
  private seen = 0;

  constructor(
    private readonly m: Model,
    buffer: SharedArrayBuffer,
  ) {
    this.head = new Int32Array(buffer, 0, HEADER);
    this.cost = new Float64Array(buffer, COST_AT, 1);
    this.slots = new Int32Array(buffer, COST_AT + 8);
  }

  publish(slots: number[][], cost: number): void {
    Atomics.add(this.head, 0, 1);
    this.cost[0] = cost;
    let k = 0;
    for (const s of slots) for (const t of s) this.slots[k++] = t;
    Atomics.add(this.head, 0, 1);
  }

  /** The plan published since the last take, or null (none, or a write in progress). */
  take(): { slots: number[][]; cost: number } | null {
    const s1 = Atomics.load(this.head, 0);
    if (s1 === this.seen || s1 % 2 === 1) return null;
    const cost = this.cost[0];
    let k = 0;
    const slots = this.m.loads.map((l) => Array.from({ length: l.dur }, () => this.slots[k++]));
    if (Atomics.load(this.head, 0) !== s1) return null;
    this.seen = s1;
    return { slots, cost };
  }
}
