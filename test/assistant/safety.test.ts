import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { answer, guard, parse, PlantState, Policy, type Plant } from '../../nodes/assistant';
import type { Identity } from '../../nodes/core/identity';

const ROOT = join(__dirname, '..', '..', '..');
const plant = JSON.parse(readFileSync(join(ROOT, 'nodes', 'assistant', 'demo-plant.json'), 'utf8')) as Plant;
const now = Date.UTC(2026, 2, 4, 10, 30);
const signedIn = (user: string): Identity => ({ user, authenticated: true, source: 'dashboard' });
const claim = (user: string): Identity => ({ user, authenticated: false, source: 'message', claim: user });
const run = (text: string, who: Identity | undefined, policy: Policy) => {
  const r = parse(text, { plant, now });
  return guard(text, r, answer(r, { plant, state: new PlantState(), now, user: who?.user }), who, policy);
};

describe('assistant safety: permissions, identity and audit entries', () => {
  it('without permissions anyone may propose; the proposal carries the identity and the approvers', () => {
    const g = run('stop the packer', signedIn('alice'), new Policy());
    assert.ok(g.proposal);
    assert.deepEqual(g.proposal.identity, signedIn('alice'));
    assert.deepEqual(g.proposal.approvers, ['*']);
    assert.equal(g.proposal.user, 'alice');
    assert.equal(g.audit?.event, 'proposed');
    assert.equal(g.audit?.authenticated, true);
    assert.equal(g.audit?.intent, 'stop_machine');
  });

  it('a named entry matches only that signed-in user, never a name written in the message', () => {
    const policy = new Policy({
      permissions: {
        stop_machine: { propose: ['alice'], approve: ['bob'] },
        '*': { propose: ['authenticated'] },
      },
    });
    const ok = run('stop the packer', signedIn('alice'), policy);
    assert.deepEqual(ok.proposal?.approvers, ['bob']);
    for (const who of [claim('alice'), signedIn('bob'), undefined]) {
      const g = run('stop the packer', who, policy);
      assert.equal(g.proposal, undefined);
      assert.equal(g.answer.refused, 'not_allowed');
      assert.match(g.answer.text, /may not propose stop machine\. Nothing was proposed\./);
      assert.equal(g.audit?.event, 'refused');
      assert.equal(g.audit?.why, 'not_allowed');
    }
    // "*" falls back for intents not listed: any signed-in user, no claim
    assert.ok(run('rush order ORD-105', signedIn('carol'), policy).proposal);
    assert.equal(run('rush order ORD-105', claim('carol'), policy).answer.refused, 'not_allowed');
    // approvers default to anyone when the rule does not say
    assert.deepEqual(run('rush order ORD-105', signedIn('carol'), policy).proposal?.approvers, ['*']);
  });

  it('"commands need a signed-in user" refuses claims and unknown askers, also under "*"', () => {
    const policy = new Policy({ requireAuthenticated: true });
    assert.equal(run('stop the packer', claim('alice'), policy).answer.refused, 'no_user');
    assert.match(run('stop the packer', claim('alice'), policy).answer.text, /"alice" is not signed in/);
    assert.equal(run('stop the packer', undefined, policy).answer.refused, 'no_user');
    assert.ok(run('stop the packer', signedIn('alice'), policy).proposal);
  });

  it('questions are not audited; refused commands (limits, negation, unknown names) are', () => {
    const policy = new Policy();
    assert.equal(run('what is the OEE of the press?', signedIn('a'), policy).audit, undefined);
    const lim = run('set the oven temperature to 300 degrees', signedIn('a'), policy);
    assert.equal(lim.audit?.why, 'out_of_limits');
    assert.equal(lim.proposal, undefined);
    const neg = run("don't stop the press", signedIn('a'), policy);
    assert.equal(neg.audit?.event, 'refused');
    assert.equal(neg.audit?.why, 'negated');
    assert.equal(run('stop cnc 7', signedIn('a'), policy).audit?.why, 'unknown');
  });

  it('refuses a bad permission list with a named error', () => {
    assert.throws(() => new Policy({ permissions: { explode: { propose: ['*'] } } as never }), {
      code: 'assistant.badPermissions',
      message: /"explode" is not a command intent/,
    });
    assert.throws(() => new Policy({ permissions: { stop_machine: { propose: 'alice' } } as never }), {
      code: 'assistant.badPermissions',
    });
    assert.throws(() => new Policy({ permissions: { stop_machine: { execute: ['x'] } } as never }), {
      message: /only propose and approve/,
    });
  });
});
