/**
 * Human-in-the-loop approval book: proposed actions wait until people approve or reject them, or until
 * a timeout gives the default outcome (reject unless configured otherwise). Every decision is bound to an
 * identity (core/identity.ts): critical actions need two distinct AUTHENTICATED people; a name written in
 * a message is only a claim. An unauthenticated decision is refused, unless the book allows anonymous
 * single-person decisions (a box without a login, such as the demo), and then it is recorded as anonymous
 * with its claim and never counts toward a two-person rule. One rejection rejects. Pure state: the node
 * persists `snapshot()` and writes every step to the audit log.
 */
import { randomUUID } from 'node:crypto';
import { TaktError } from '../core/errors';
import { ANONYMOUS, type Identity, type IdentitySource, identityLabel, listAllows } from '../core/identity';

export type Decision = 'approve' | 'reject';
export type Outcome = 'approved' | 'rejected';

export interface DecisionRecord {
  /** The authenticated user, or 'anonymous' for an unauthenticated decision. */
  user: string;
  /** False for a decision nobody authenticated (allowed only with BookOptions.anonymous). */
  authenticated?: boolean;
  /** Where the identity came from. */
  source?: IdentitySource;
  /** The name the message or request claimed, when it differs from `user`. */
  claim?: string;
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
  /**
   * Who may decide on this action (core/identity.ts listAllows: user names, "authenticated", "*");
   * missing: anyone the book accepts. Both approving and rejecting need a place on the list.
   */
  approvers?: string[];
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
  /**
   * Accept unauthenticated decisions on actions that need one approval (recorded as anonymous, with the
   * claimed name). Two-person actions always need two authenticated people. Default false.
   */
  anonymous?: boolean;
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

  propose(
    action: T,
    opts: { now: number; summary?: string; critical?: boolean; id?: string; approvers?: readonly string[] },
  ): Pending<T> {
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
      ...(opts.approvers ? { approvers: [...opts.approvers] } : {}),
      decisions: [],
    };
    this.pending.set(id, p);
    return p;
  }

  /**
   * Records one person's decision. Returns the settled action when this decision settles it, else the
   * still-pending one. Throws for an unknown id, a missing or unauthenticated identity (unless anonymous
   * single-person decisions are allowed), or a second decision by the same person.
   */
  decide(
    id: string,
    d: { who: Identity | undefined; decision: Decision; comment?: string; now: number },
  ): { pending?: Pending<T>; settled?: Settled<T> } {
    const p = this.pending.get(id);
    if (!p)
      throw new TaktError(
        'approve.unknown',
        `no action "${id}" is waiting for approval (settled, expired or never proposed)`,
        'id',
      );
    if (d.decision !== 'approve' && d.decision !== 'reject') {
      throw new TaktError(
        'approve.badDecision',
        `decision must be "approve" or "reject", got ${JSON.stringify(d.decision)}`,
        'decision',
      );
    }
    const who = d.who;
    const name = (who?.user ?? '').trim();
    if (!who || (who.authenticated && !name))
      throw new TaktError(
        'approve.noUser',
        'a decision needs the person who takes it (log in, or name one where anonymous decisions are allowed)',
        'user',
      );
    if (!who.authenticated) {
      const claimed = who.claim ? ` (claimed "${who.claim}")` : '';
      if (p.required > 1)
        throw new TaktError(
          'approve.notAuthenticated',
          `"${p.summary}" needs two authenticated people; an unauthenticated ${who.source} decision${claimed} is refused`,
          'user',
        );
      if (!this.options.anonymous)
        throw new TaktError(
          'approve.notAuthenticated',
          `an unauthenticated ${who.source} decision${claimed} is refused: log in, or allow anonymous single-person decisions`,
          'user',
        );
    }
    if (p.approvers && !listAllows(p.approvers, who))
      throw new TaktError(
        'approve.notAllowed',
        `${identityLabel(who)} may not decide on "${p.summary}" (allowed: ${p.approvers.join(', ') || 'nobody'})`,
        'user',
      );
    const user = who.authenticated ? name : ANONYMOUS;
    const claim = who.claim && who.claim !== user ? who.claim : undefined;
    if (who.authenticated && p.decisions.some((x) => x.authenticated !== false && x.user === user)) {
      throw new TaktError(
        'approve.sameUser',
        `${user} has already decided on "${p.summary}"; a second approver must be someone else`,
        'user',
      );
    }
    p.decisions.push({
      user,
      authenticated: who.authenticated,
      source: who.source,
      ...(claim ? { claim } : {}),
      decision: d.decision,
      at: d.now,
      ...(d.comment ? { comment: d.comment } : {}),
    });
    if (d.decision === 'reject') return { settled: this.settle(p, 'rejected', 'decision', d.now) };
    const people = new Set(
      p.decisions.filter((x) => x.decision === 'approve' && x.authenticated !== false).map((x) => x.user),
    );
    const anonymous = p.decisions.some((x) => x.decision === 'approve' && x.authenticated === false);
    if (people.size >= p.required || (p.required === 1 && anonymous))
      return { settled: this.settle(p, 'approved', 'decision', d.now) };
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
