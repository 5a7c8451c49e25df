/**
 * A bounded work queue for an inspection station: one job runs at a time, at most `capacity` wait; a job
 * that arrives when the queue is full is refused at once (the camera outran the model) and counted, so
 * that every dropped image is reported where it happens.
 */
export class BoundedQueue {
  private waiting: (() => void)[] = [];
  private running = false;
  /** Jobs refused because the queue was full, since creation. */
  dropped = 0;
  /** Jobs accepted, since creation. */
  accepted = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 0)) throw new RangeError(`queue capacity ${capacity}`);
  }

  /** Jobs waiting (not counting the one running). */
  get length(): number {
    return this.waiting.length;
  }

  /**
   * Runs `job` when its turn comes. Returns false (and counts a drop) when the queue is full; `job` is
   * then never called.
   */
  push(job: () => Promise<void>): boolean {
    if (this.running && this.waiting.length >= this.capacity) {
      this.dropped++;
      return false;
    }
    this.accepted++;
    const start = () => {
      this.running = true;
      job()
        .catch(() => {})
        .finally(() => {
          this.running = false;
          const next = this.waiting.shift();
          if (next) next();
        });
    };
    if (this.running) this.waiting.push(start);
    else start();
    return true;
  }
}
