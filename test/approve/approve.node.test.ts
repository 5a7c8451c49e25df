import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';

/* eslint-disable @typescript-eslint/no-require-imports */
const approveNode = require('../../nodes/approve/approve.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Out {
  payload: unknown;
  topic?: string;
  approval: {
    id: string;
    outcome: string;
    by: string;
    decisions: {
      user: string;
      decision: string;
      at?: number;
      authenticated?: boolean;
      source?: string;
      claim?: string;
    }[];
  };
}

/** An http in request that carried Basic credentials (checked by the runtime under httpNodeAuth). */
const basicReq = (user: string) => ({
  headers: { authorization: `Basic ${Buffer.from(`${user}:secret`).toString('base64')}` },
});

describe('takt-approve node', function () {
  this.timeout(20000);
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-approve-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  const flow = (extra: object = {}) => [
    { id: 'tab', type: 'tab' },
    {
      id: 'a',
      z: 'tab',
      type: 'takt-approve',
      timeout: 30,
      timeoutUnit: 'min',
      onTimeout: 'rejected',
      wires: [['yes'], ['no']],
      ...extra,
    },
    { id: 'yes', z: 'tab', type: 'helper' },
    { id: 'no', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: ['a'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];

  const pending = async () =>
    (await helper.request().get('/takt-approve/a/pending').expect(200)).body as {
      id: string;
      summary: string;
      required: number;
    }[];

  it('refuses an unauthenticated admin API decision (no login) unless anonymous decisions are allowed', async () => {
    await load([approveNode, catchNode], flow());
    getNode('a').receive({ payload: 'x', summary: 'CNC1 bore offset' });
    const [p] = await pending();
    const r = await helper
      .request()
      .post('/takt-approve/a/decide')
      .send({ approvalId: p.id, decision: 'approve', user: 'ana' })
      .expect(403);
    assert.match(
      (r.body as { error: string }).error,
      /unauthenticated admin decision \(claimed "ana"\) is refused/,
    );
    assert.equal((await pending()).length, 1);
  });

  it('with anonymous decisions allowed, lets an action through over the admin API, recorded as anonymous', async () => {
    await load([approveNode, catchNode], flow({ anonymous: true }));
    const waiting = nextStatus('a', (s) => s.text === '1 waiting');
    getNode('a').receive({ topic: 'CNC1/offset', payload: -0.005, summary: 'CNC1 bore offset -0.005 mm' });
    await waiting;
    const [p] = await pending();
    assert.equal(p.summary, 'CNC1 bore offset -0.005 mm');
    const out = nextMessages<Out>('yes', 1);
    await helper
      .request()
      .post('/takt-approve/a/decide')
      .send({ approvalId: p.id, decision: 'approve', user: 'ana', comment: 'ok' })
      .expect(200);
    const [m] = await out;
    assert.deepEqual(
      [m.topic, m.payload, m.approval.outcome, m.approval.decisions[0]],
      [
        'CNC1/offset',
        -0.005,
        'approved',
        {
          user: 'anonymous',
          authenticated: false,
          source: 'admin',
          claim: 'ana',
          decision: 'approve',
          at: m.approval.decisions[0].at,
          comment: 'ok',
        },
      ],
    );
    assert.deepEqual(await pending(), []);
  });

  it('counts distinct authenticated people for the two-person rule: one person cannot approve twice under two names', async () => {
    helper.settings({ userDir, httpNodeAuth: { user: 'ops', pass: 'x' } });
    await load([approveNode, catchNode], flow({ anonymous: true }));
    getNode('a').receive({ payload: 'shed oven', critical: true });
    const [p] = await pending();
    assert.equal(p.required, 2);
    getNode('a').receive({ approval: { id: p.id, decision: 'approve' }, req: basicReq('ana') });
    // ana again, claiming to be ben in the message: still ana.
    let caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('a').receive({ approval: { id: p.id, decision: 'approve', user: 'ben' }, req: basicReq('ana') });
    assert.match((await caught)[0].error.message, /ana has already decided/);
    // A name in a message with no login behind it is refused, even with anonymous decisions allowed.
    caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('a').receive({ approval: { id: p.id, decision: 'approve', user: 'ben' } });
    assert.match((await caught)[0].error.message, /needs two authenticated people/);
    assert.equal((await pending()).length, 1);
    const out = nextMessages<Out>('yes', 1);
    getNode('a').receive({ approval: { id: p.id, decision: 'approve' }, req: basicReq('ben') });
    const d = (await out)[0].approval.decisions;
    assert.deepEqual(
      d.map((x) => [x.user, x.authenticated, x.source, x.claim]),
      [
        ['ana', true, 'http', undefined],
        ['ben', true, 'http', undefined],
      ],
    );

    getNode('a').receive({ payload: 'start washer early' });
    const [q] = await pending();
    const no = nextMessages<Out>('no', 1);
    getNode('a').receive({
      approval: { id: q.id, decision: 'reject', comment: 'not now' },
      req: basicReq('ben'),
    });
    assert.equal((await no)[0].approval.outcome, 'rejected');
  });

  it('refuses a decision written in a message by default, and takes one from an MQTT user on the list', async () => {
    await load(
      [approveNode, catchNode],
      flow({ mqttUserTopic: 'plant/approve/{user}', mqttUsers: 'ana, ben' }),
    );
    getNode('a').receive({ payload: 'new schedule' });
    const [p] = await pending();
    let caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('a').receive({ approval: { id: p.id, decision: 'approve', user: 'ana' } });
    assert.match((await caught)[0].error.message, /unauthenticated message decision \(claimed "ana"\)/);
    // eve publishes on her own topic: not on the list.
    caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('a').receive({
      topic: 'plant/approve/eve',
      approval: { id: p.id, decision: 'approve', user: 'ana' },
    });
    assert.match((await caught)[0].error.message, /unauthenticated mqtt decision/);
    const out = nextMessages<Out>('yes', 1);
    getNode('a').receive({ topic: 'plant/approve/ben', approval: { id: p.id, decision: 'approve' } });
    assert.deepEqual(
      (await out)[0].approval.decisions.map((x) => [x.user, x.authenticated, x.source]),
      [['ben', true, 'mqtt']],
    );
  });

  it('takes a decision only from the approvers the proposal names (as takt-ask sends them), and refuses a bad list', async () => {
    helper.settings({ userDir, httpNodeAuth: { user: 'ops', pass: 'x' } });
    await load([approveNode, catchNode], flow({ anonymous: true }));
    getNode('a').receive({ payload: 'oven 182', summary: 'Oven1 to 182', approvers: ['ana'] });
    const [p] = await pending();
    assert.deepEqual((p as unknown as { approvers: string[] }).approvers, ['ana']);
    let caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('a').receive({ approval: { id: p.id, decision: 'approve' }, req: basicReq('ben') });
    assert.match((await caught)[0].error.message, /ben may not decide on "Oven1 to 182" \(allowed: ana\)/);
    // The admin API without a login is a claim: refused with 403 even though anonymous decisions are allowed.
    await helper
      .request()
      .post('/takt-approve/a/decide')
      .send({ approvalId: p.id, decision: 'reject', user: 'ana' })
      .expect(403);
    const out = nextMessages<Out>('yes', 1);
    getNode('a').receive({ approval: { id: p.id, decision: 'approve' }, req: basicReq('ana') });
    assert.deepEqual(
      (await out)[0].approval.decisions.map((x) => x.user),
      ['ana'],
    );
    caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('a').receive({ payload: 'x', approvers: 'ana' });
    assert.match((await caught)[0].error.message, /msg.approvers must be a list of user names/);
    assert.deepEqual(await pending(), []);
  });

  it('expires with the default outcome on the second output', async () => {
    await load([approveNode, catchNode], flow({ timeout: 0.2, timeoutUnit: 's' }));
    const no = nextMessages<Out>('no', 1, 5000);
    getNode('a').receive({ payload: 'buy 40 bearings' });
    const [m] = await no;
    assert.deepEqual(
      [m.payload, m.approval.outcome, m.approval.by],
      ['buy 40 bearings', 'rejected', 'timeout'],
    );
  });

  it('keeps waiting actions across a restart and writes a verifiable audit chain', async () => {
    await load([approveNode, catchNode], flow({ anonymous: true }));
    getNode('a').receive({ payload: 'new schedule v7' });
    const [p] = await pending();
    await helper.unload();
    await load([approveNode, catchNode], flow({ anonymous: true }));
    assert.deepEqual(
      (await pending()).map((x) => x.id),
      [p.id],
    );
    const out = nextMessages<Out>('yes', 1);
    getNode('a').receive({ approval: { id: p.id, decision: 'approve', user: 'ana' } });
    await out;
    const v = (await helper.request().get('/takt-approve/a/verify').expect(200)).body as {
      ok: boolean;
      records: number;
    };
    assert.equal(v.ok, true);
    assert.equal(v.records, 3); // proposed, decision, approved

    // Tampering with the log is found, and the node refuses to run on a broken chain.
    await helper.unload();
    const file = join(userDir, 'takt', 'approve', 'a-audit.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"ana"', '"eve"'));
    await load([approveNode, catchNode], flow({ anonymous: true }));
    const caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('a').receive({ payload: 'anything' });
    assert.match((await caught)[0].error.message, /audit log .* is broken at line 2/);
  });
});
