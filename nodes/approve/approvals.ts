/**
 * Human-in-the-loop approval book: proposed actions wait until people approve or reject them, or until
 * a timeout gives the default outcome (reject unless configured otherwise). Critical actions need two
 * different approvers; one rejection rejects. Pure state: the node persists `snapshot()` and writes
 * every step to the audit log.
 */
import { randomUUID } from 'node:crypto';
import { TaktError } from '../core/errors';

export type Decision = 'approve' | 'reject';
export type Outcome = 'approved' | 'rejected';

export interface DecisionRecord {
  user: string;
  decision: Decision;
  /** Epoch ms. */
  at: number;
  comment?: string;
}

export interface Pending<T> {
  id: string;
  action: T;
  /** One line for people: what is asked. */
  summary: string;
  createdAt: number;
  /** Epoch ms, or null for no timeout. */
  expiresAt: number | null;
  /** Approvals needed from different people (2 for critical actions). */
  required: 1 | 2;
  decisions: DecisionRecord[];
}

export interface Settled<T> extends Pending<T> {
  outcome: Outcome;
  /** How it was settled: by people, or by the timeout's default outcome. */
  by: 'decision' | 'timeout';
  settledAt: number;
}

export interface BookOptions {
  /** 0 = wait for ever. */
  timeoutMs: number;
  onTimeout: Outcome;
  /** Approvals needed for every action (critical actions always need 2). */
  required: 1 | 2;
  /** Actions that may wait at once (default MAX_PENDING); one more is refused, so the book never grows. */
  maxPending?: number;
}

/** Default cap on the actions waiting in one book (BookOptions.maxPending). */
export const MAX_PENDING = 1000;

export class ApprovalBook<T> {
  readonly options: BookOptions;
  private pending = new Map<string, Pending<T>>();

  constructor(options: BookOptions) {
    if (!(options.timeoutMs >= 0))
      throw new TaktError(
        'approve.badTimeout',
        'timeout must be 0 (none) or a positive number of ms',
        'timeout',
      );
    this.options = options;
  }

  get size(): number {
    return this.pending.size;
  }

  list(): Pending<T>[] {
    return [...this.pending.values()];
  }

  get(id: string): Pending<T> | undefined {
    return this.pending.get(id);
  }

  propose(action: T, opts: { now: number; summary?: string; critical?: boolean; id?: string }): Pending<T> {
    const id = opts.id ?? randomUUID();
    const max = this.options.maxPending ?? MAX_PENDING;
    if (this.pending.size >= max)
      throw new TaktError(
        'approve.full',
        `${max} actions are already waiting for approval: decide or expire some first (this one is refused)`,
        'id',
      );
    if (this.pending.has(id))
      throw new TaktError('approve.duplicate', `an action with id "${id}" is already waiting`, 'id');
    const p: Pending<T> = {
      id,
      action,
      summary: opts.summary ?? 'action',
      createdAt: opts.now,
      expiresAt: this.options.timeoutMs > 0 ? opts.now + this.options.timeoutMs : null,
      required: opts.critical ? 2 : this.options.required,
      decisions: [],
    };
    this.pending.set(id, p);
    return p;
  }

  /**
   * Records one person's decision. Returns the settled action when this decision settles it, else the
   * still-pending one. Throws for an unknown id, a missing user, or a second decision by the same user.
   */
  decide(
    id: string,
    d: { user: string; decision: Decision; comment?: string; now: number },
  ): { pending?: Pending<T>; settled?: Settled<T> } {
    const p = this.pending.get(id);
    if (!p)
      throw new TaktError(
        'approve.unknown',
        `no action "${id}" is waiting for approval (settled, expired or never proposed)`,
        'id',
      );
    const user = (d.user ?? '').trim();
    if (!user)
      throw new TaktError('approve.noUser', 'a decision needs the name of the person who takes it', 'user');
    if (d.decision !== 'approve' && d.decision !== 'reject') {
      throw new TaktError(
        'approve.badDecision',
        `decision must be "approve" or "reject", got ${JSON.stringify(d.decision)}`,
        'decision',
      );
    }
    if (p.decisions.some((x) => x.user === user)) {
      throw new TaktError(
        'approve.sameUser',
        `${user} has already decided on "${p.summary}"; a second approver must be someone else`,
        'user',
      );
    }
    p.decisions.push({ user, decision: d.decision, at: d.now, ...(d.comment ? { comment: d.comment } : {}) });
    if (d.decision === 'reject') return { settled: this.settle(p, 'rejected', 'decision', d.now) };
    const approvals = p.decisions.filter((x) => x.decision === 'approve').length;
    if (approvals >= p.required) return { settled: this.settle(p, 'approved', 'decision', d.now) };
    return { pending: p };
  }

  /** Settles every action whose timeout has passed, with the configured default outcome. */
  expire(now: number): Settled<T>[] {
    const out: Settled<T>[] = [];
    for (const p of this.pending.values()) {
      if (p.expiresAt !== null && now >= p.expiresAt)
        out.push(this.settle(p, this.options.onTimeout, 'timeout', now));
    }
    return out;
  }

  /** The next expiry time, or undefined when nothing waits with a timeout. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const p of this.pending.values())
      if (p.expiresAt !== null && (next === undefined || p.expiresAt < next)) next = p.expiresAt;
    return next;
  }

  private settle(p: Pending<T>, outcome: Outcome, by: Settled<T>['by'], now: number): Settled<T> {
    this.pending.delete(p.id);
    return { ...p, outcome, by, settledAt: now };
  }

  snapshot(): Pending<T>[] {
    return this.list();
  }

  restore(items: Pending<T>[]): void {
    this.pending = new Map(items.map((p) => [p.id, p]));
  }
}
