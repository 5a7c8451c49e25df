import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApprovalBook,
  AuditLog,
  canonical,
  GENESIS,
  recordHash,
  verifyAuditLog,
  verifyAuditText,
} from '../../nodes/approve';
import { TaktError } from '../../nodes/core/errors';
import type { Identity } from '../../nodes/core/identity';

const T0 = Date.UTC(2026, 10, 26, 8);
/** A logged-in person (the admin API's user). */
const as = (user: string): Identity => ({ user, authenticated: true, source: 'admin' });
/** A name written in a message: a claim, not a person. */
const claims = (user: string): Identity => ({ user, authenticated: false, source: 'message', claim: user });

describe('approve/ApprovalBook', () => {
  const book = (o: Partial<ConstructorParameters<typeof ApprovalBook>[0]> = {}) =>
    new ApprovalBook<{ setpoint: number }>({ timeoutMs: 60000, onTimeout: 'rejected', required: 1, ...o });

  it('approves with one approval, and records who, when and why', () => {
    const b = book();
    const p = b.propose({ setpoint: 25.01 }, { now: T0, summary: 'CNC1 offset' });
    const r = b.decide(p.id, {
      who: as('ana'),
      decision: 'approve',
      comment: 'drift confirmed',
      now: T0 + 5000,
    });
    assert.equal(r.settled?.outcome, 'approved');
    assert.equal(r.settled?.by, 'decision');
    assert.deepEqual(r.settled?.decisions, [
      {
        user: 'ana',
        authenticated: true,
        source: 'admin',
        decision: 'approve',
        at: T0 + 5000,
        comment: 'drift confirmed',
      },
    ]);
    assert.equal(b.size, 0);
  });

  it('rejects on one rejection', () => {
    const b = book({ required: 2 });
    const p = b.propose({ setpoint: 1 }, { now: T0 });
    assert.equal(b.decide(p.id, { who: as('ana'), decision: 'approve', now: T0 }).pending?.id, p.id);
    assert.equal(
      b.decide(p.id, { who: as('ben'), decision: 'reject', now: T0 }).settled?.outcome,
      'rejected',
    );
  });

  it('needs two different people for a critical action', () => {
    const b = book();
    const p = b.propose({ setpoint: 1 }, { now: T0, critical: true });
    assert.equal(p.required, 2);
    assert.ok(b.decide(p.id, { who: as('ana'), decision: 'approve', now: T0 }).pending);
    assert.throws(
      () => b.decide(p.id, { who: as('ana'), decision: 'approve', now: T0 }),
      (e: TaktError) => e.code === 'approve.sameUser',
    );
    assert.equal(
      b.decide(p.id, { who: as('ben'), decision: 'approve', now: T0 }).settled?.outcome,
      'approved',
    );
  });

  it('expires with the default outcome (reject) or the configured one (approve)', () => {
    const b = book();
    const p = b.propose({ setpoint: 1 }, { now: T0 });
    assert.deepEqual(b.expire(T0 + 59999), []);
    const [s] = b.expire(T0 + 60000);
    assert.deepEqual([s.id, s.outcome, s.by], [p.id, 'rejected', 'timeout']);
    const a = book({ onTimeout: 'approved' });
    a.propose({ setpoint: 2 }, { now: T0 });
    assert.equal(a.expire(T0 + 60000)[0].outcome, 'approved');
    const never = book({ timeoutMs: 0 });
    never.propose({ setpoint: 3 }, { now: T0 });
    assert.deepEqual(never.expire(T0 + 1e12), []);
    assert.equal(never.nextExpiry(), undefined);
  });

  it('refuses unknown ids, missing users and bad decisions clearly', () => {
    const b = book();
    const p = b.propose({ setpoint: 1 }, { now: T0 });
    assert.throws(
      () => b.decide('nope', { who: as('ana'), decision: 'approve', now: T0 }),
      /no action "nope"/,
    );
    assert.throws(
      () => b.decide(p.id, { who: as(' '), decision: 'approve', now: T0 }),
      (e: TaktError) => e.code === 'approve.noUser',
    );
    assert.throws(
      () => b.decide(p.id, { who: as('ana'), decision: 'maybe' as 'approve', now: T0 }),
      /"approve" or "reject"/,
    );
    assert.throws(
      () => b.decide(p.id, { who: undefined, decision: 'approve', now: T0 }),
      (e: TaktError) => e.code === 'approve.noUser',
    );
    assert.equal(b.size, 1);
  });

  it('refuses a decision nobody authenticated: a name in the message is only a claim', () => {
    const b = book();
    const p = b.propose({ setpoint: 1 }, { now: T0 });
    for (const decision of ['approve', 'reject'] as const)
      assert.throws(
        () => b.decide(p.id, { who: claims('ana'), decision, now: T0 }),
        (e: TaktError) => e.code === 'approve.notAuthenticated' && /claimed "ana"/.test(e.message),
      );
    assert.deepEqual(b.get(p.id)?.decisions, []);
  });

  it('one person cannot approve a two-person action twice under two names', () => {
    const b = book({ anonymous: true });
    const p = b.propose({ setpoint: 1 }, { now: T0, critical: true });
    // ana logs in and approves; a second decision naming "ben" in the message is her again (or anyone):
    // it is unauthenticated, so it is refused and nothing settles.
    assert.ok(b.decide(p.id, { who: as('ana'), decision: 'approve', now: T0 }).pending);
    assert.throws(
      () => b.decide(p.id, { who: claims('ben'), decision: 'approve', now: T0 }),
      (e: TaktError) => e.code === 'approve.notAuthenticated',
    );
    // The same login with another claimed name is still ana.
    assert.throws(
      () =>
        b.decide(p.id, {
          who: { user: 'ana', authenticated: true, source: 'dashboard', claim: 'ben' },
          decision: 'approve',
          now: T0,
        }),
      (e: TaktError) => e.code === 'approve.sameUser',
    );
    assert.equal(b.size, 1);
    assert.equal(
      b.decide(p.id, { who: as('ben'), decision: 'approve', now: T0 }).settled?.outcome,
      'approved',
    );
  });

  it('accepts an anonymous single-person decision only when allowed, and records it as anonymous', () => {
    const b = book({ anonymous: true });
    const p = b.propose({ setpoint: 1 }, { now: T0 });
    const r = b.decide(p.id, {
      who: { user: 'operator', authenticated: false, source: 'dashboard', claim: 'operator' },
      decision: 'approve',
      now: T0,
    });
    assert.equal(r.settled?.outcome, 'approved');
    assert.deepEqual(r.settled?.decisions, [
      {
        user: 'anonymous',
        authenticated: false,
        source: 'dashboard',
        claim: 'operator',
        decision: 'approve',
        at: T0,
      },
    ]);
    // A two-person action never takes an anonymous approval, even when anonymous decisions are allowed.
    const two = b.propose({ setpoint: 2 }, { now: T0, critical: true });
    assert.throws(
      () => b.decide(two.id, { who: claims('ana'), decision: 'approve', now: T0 }),
      (e: TaktError) => e.code === 'approve.notAuthenticated' && /two authenticated people/.test(e.message),
    );
  });

  it('takes decisions only from the approvers a proposal names, approve or reject', () => {
    const b = book({ anonymous: true });
    const p = b.propose({ setpoint: 3 }, { now: T0, summary: 'oven to 182', approvers: ['ana'] });
    const notAllowed = (e: TaktError) => e.code === 'approve.notAllowed' && /may not decide/.test(e.message);
    // Someone else, a claim of the right name, an anonymous decision: all refused, nothing recorded.
    assert.throws(() => b.decide(p.id, { who: as('bob'), decision: 'approve', now: T0 }), notAllowed);
    assert.throws(() => b.decide(p.id, { who: as('bob'), decision: 'reject', now: T0 }), notAllowed);
    assert.throws(() => b.decide(p.id, { who: claims('ana'), decision: 'approve', now: T0 }), notAllowed);
    assert.equal(b.get(p.id)?.decisions.length, 0);
    assert.equal(
      b.decide(p.id, { who: as('ana'), decision: 'approve', now: T0 }).settled?.outcome,
      'approved',
    );
    // "authenticated" lets any signed-in person decide; an empty list lets nobody.
    const any = b.propose({ setpoint: 4 }, { now: T0, approvers: ['authenticated'] });
    assert.throws(() => b.decide(any.id, { who: claims('bob'), decision: 'approve', now: T0 }), notAllowed);
    assert.equal(
      b.decide(any.id, { who: as('bob'), decision: 'approve', now: T0 }).settled?.outcome,
      'approved',
    );
    const none = b.propose({ setpoint: 5 }, { now: T0, approvers: [] });
    assert.throws(() => b.decide(none.id, { who: as('ana'), decision: 'approve', now: T0 }), notAllowed);
    // The list survives a restart.
    const again = book({ anonymous: true });
    again.restore(b.snapshot());
    assert.throws(() => again.decide(none.id, { who: as('ana'), decision: 'approve', now: T0 }), notAllowed);
  });
});

describe('approve/audit log', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'takt-audit-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes canonical JSON: key order does not matter, values do', () => {
    assert.equal(canonical({ b: 1, a: [{ y: 2, x: 1 }] }), '{"a":[{"x":1,"y":2}],"b":1}');
    assert.equal(recordHash(GENESIS, 1, 5, { a: 1, b: 2 }), recordHash(GENESIS, 1, 5, { b: 2, a: 1 }));
    assert.notEqual(recordHash(GENESIS, 1, 5, { a: 1 }), recordHash(GENESIS, 1, 5, { a: 2 }));
  });

  it('chains records and verifies them, also after reopening', () => {
    const file = join(dir, 'a.jsonl');
    const log = new AuditLog<{ event: string }>(file);
    const r1 = log.append({ event: 'proposed' }, T0);
    const r2 = log.append({ event: 'approved' }, T0 + 1);
    assert.equal(r1.prevHash, GENESIS);
    assert.equal(r2.prevHash, r1.hash);
    const again = new AuditLog<{ event: string }>(file);
    assert.equal(again.append({ event: 'proposed' }, T0 + 2).seq, 3);
    assert.deepEqual(verifyAuditLog(file), {
      ok: true,
      records: 3,
      lastHash: JSON.parse(readFileSync(file, 'utf8').trim().split('\n')[2]).hash,
    });
  });

  it('detects an edited, a deleted and a reordered record, naming the line', () => {
    const file = join(dir, 'b.jsonl');
    const log = new AuditLog<{ event: string; user?: string }>(file);
    log.append({ event: 'decision', user: 'ana' }, T0);
    log.append({ event: 'decision', user: 'ben' }, T0 + 1);
    log.append({ event: 'approved' }, T0 + 2);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const edited = [lines[0], lines[1].replace('"ben"', '"eve"'), lines[2]].join('\n');
    assert.deepEqual(
      [verifyAuditText(edited).ok, verifyAuditText(edited).brokenAt, verifyAuditText(edited).reason],
      [false, 2, 'content does not match its hash'],
    );
    const deleted = [lines[0], lines[2]].join('\n');
    assert.equal(verifyAuditText(deleted).brokenAt, 2);
    const reordered = [lines[1], lines[0], lines[2]].join('\n');
    assert.equal(verifyAuditText(reordered).brokenAt, 1);
    writeFileSync(file, `${edited}\n`);
    assert.throws(() => new AuditLog(file), /broken at line 2/);
  });
});
