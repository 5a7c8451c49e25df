import assert from 'node:assert/strict';
import { approvalIdentity } from '../../nodes/models/ops';

describe('models: who stands behind a promotion released by takt-approve', () => {
  const decision = (user: string, authenticated: boolean | undefined, d = 'approve') => ({
    user,
    decision: d,
    at: 0,
    source: 'dashboard',
    ...(authenticated === undefined ? {} : { authenticated }),
  });

  it('names the authenticated approvers, once each', () => {
    assert.deepEqual(
      approvalIdentity({
        outcome: 'approved',
        by: 'decision',
        decisions: [decision('ana', true), decision('ben', true), decision('ana', true)],
      }),
      { user: 'ana+ben', authenticated: true, source: 'dashboard' },
    );
  });

  it('gives no identity for anonymous decisions, a timeout, a rejection or a record without the flag', () => {
    const cases: unknown[] = [
      { outcome: 'approved', by: 'decision', decisions: [decision('anonymous', false)] },
      { outcome: 'approved', by: 'timeout', decisions: [] },
      { outcome: 'rejected', by: 'decision', decisions: [decision('ana', true, 'reject')] },
      { outcome: 'approved', by: 'decision', decisions: [decision('ana', undefined)] },
      { outcome: 'approved', by: 'decision', decisions: 'ana' },
      'approved',
      undefined,
    ];
    for (const c of cases) assert.equal(approvalIdentity(c), undefined, JSON.stringify(c));
  });
});
