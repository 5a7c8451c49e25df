import assert from 'node:assert/strict';
import { ChatState, MAX_TURNS, mayApprove } from '../../nodes/dashboard/chat';

const reply = (extra: Record<string, unknown> = {}) => ({
  payload: 'Proposed: stop Packer1. It waits for approval.',
  assistant: {
    intent: 'stop_machine',
    action: {
      topic: 'Packer1/stop_machine',
      summary: 'stop Packer1 (asked by alice)',
      payload: { command: 'stop_machine', machine: 'Packer1', requestedAt: 1000 },
    },
    approvers: ['carol'],
    ...extra,
  },
});

describe('assistant chat view (takt-ui-assistant)', () => {
  it('keeps the conversation: questions, replies with cards, refusals', () => {
    const c = new ChatState();
    assert.equal(c.ask('  what is the OEE of the press?  ', 'alice', 1), 'what is the OEE of the press?');
    assert.equal(
      c.reply(
        {
          payload: 'Press1: OEE 70.0 %',
          assistant: { intent: 'oee', card: { label: 'Press1 OEE', value: '70.0 %', series: [0.6, 0.7] } },
        },
        2,
      ),
      true,
    );
    c.reply(
      {
        payload: 'Sorry, that is outside what I can do here.',
        assistant: { intent: 'out_of_scope', outOfScope: true },
      },
      3,
    );
    const v = c.view();
    assert.deepEqual(
      v.turns.map((t) => [t.id, t.role, t.text, t.user, t.refused]),
      [
        [1, 'user', 'what is the OEE of the press?', 'alice', undefined],
        [2, 'assistant', 'Press1: OEE 70.0 %', undefined, undefined],
        [3, 'assistant', 'Sorry, that is outside what I can do here.', undefined, true],
      ],
    );
    assert.deepEqual(v.turns[1]!.card, { label: 'Press1 OEE', value: '70.0 %', series: [0.6, 0.7] });
    assert.throws(() => c.ask('   ', 'alice', 4), { code: 'dashboard.badChat' });
    assert.equal(c.ask('x'.repeat(2000), undefined, 5).length, 500);
    assert.equal(c.reply({ payload: 3 }, 6), false);
  });

  it('links a proposal to takt-approve, sends decisions only for allowed approvers, and shows the outcome', () => {
    const c = new ChatState();
    c.reply(reply(), 1);
    const turn = c.view().turns[0]!.id;
    // not held by takt-approve yet: not decidable
    assert.equal(c.decide({ turn, decision: 'approve' }, 'carol', true, 2), undefined);
    assert.match(c.view().turns.at(-1)!.text, /is not waiting for approval/);
    assert.equal(
      c.link([
        { id: 'other', action: { topic: 'Packer1/stop_machine', payload: { requestedAt: 999 } } },
        { id: 'a1', action: { topic: 'Packer1/stop_machine', payload: { requestedAt: 1000 } } },
      ]),
      true,
    );
    assert.equal(c.view().turns[0]!.proposal!.approvalId, 'a1');
    // carol as a default name (no dashboard login) is not carol
    assert.equal(c.decide({ turn, decision: 'approve' }, 'carol', false, 3), undefined);
    assert.match(c.view().turns.at(-1)!.text, /carol may not approve "stop Packer1 \(asked by alice\)"/);
    assert.equal(c.decide({ turn, decision: 'approve' }, 'bob', true, 4), undefined);
    assert.deepEqual(c.decide({ turn, decision: 'approve' }, 'carol', true, 5), {
      approval: { id: 'a1', decision: 'approve', user: 'carol' },
    });
    assert.equal(
      c.settle({
        id: 'a1',
        outcome: 'approved',
        by: 'decision',
        decisions: [{ user: 'carol', decision: 'approve' }],
      }),
      true,
    );
    assert.deepEqual(
      [c.view().turns[0]!.proposal!.state, c.view().turns[0]!.proposal!.by],
      ['approved', 'carol'],
    );
    assert.equal(c.settle({ id: 'zz', outcome: 'approved' }), false);
    assert.throws(() => c.decide({ turn, decision: 'maybe' }, 'carol', true, 6), /approve" or "reject/);
    assert.throws(
      () => c.decide({ turn: 999, decision: 'approve' }, 'carol', true, 6),
      /no proposal in turn 999/,
    );
  });

  it('approver lists: "*" anyone, "authenticated" and names only signed-in users', () => {
    assert.equal(mayApprove(['*'], 'operator', false), true);
    assert.equal(mayApprove(['authenticated'], 'operator', false), false);
    assert.equal(mayApprove(['authenticated'], 'jo', true), true);
    assert.equal(mayApprove(['jo'], 'jo', true), true);
    assert.equal(mayApprove(['jo'], 'jo', false), false);
    assert.equal(mayApprove([], 'jo', true), false);
  });

  it(`keeps the last ${MAX_TURNS} turns`, () => {
    const c = new ChatState();
    for (let i = 0; i < MAX_TURNS + 5; i++) c.ask(`q${i}`, undefined, i);
    const v = c.view();
    assert.equal(v.turns.length, MAX_TURNS);
    assert.equal(v.turns[0]!.text, 'q5');
  });
});
