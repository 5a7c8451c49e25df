import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';

/* eslint-disable @typescript-eslint/no-require-imports */
const askNode = require('../../nodes/assistant/ask.node');
const approveNode = require('../../nodes/approve/approve.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Reply {
  payload: string;
  assistant: {
    intent: string;
    slots: Record<string, unknown>;
    confidence: number;
    outOfScope: boolean;
    answer: string;
    action?: { topic: string; summary: string; requestedBy: string };
    refused?: string;
  };
}
interface Pending {
  id: string;
  summary: string;
  required: number;
}

describe('takt-ask node', function () {
  this.timeout(20000);
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-ask-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  const flow = (extra: object = {}) => [
    { id: 'tab', type: 'tab' },
    { id: 'ask', z: 'tab', type: 'takt-ask', wires: [['reply'], ['a', 'proposals']], ...extra },
    {
      id: 'a',
      z: 'tab',
      type: 'takt-approve',
      timeout: 30,
      timeoutUnit: 'min',
      twoPerson: true,
      wires: [['yes'], ['no']],
    },
    { id: 'reply', z: 'tab', type: 'helper' },
    { id: 'proposals', z: 'tab', type: 'helper' },
    { id: 'yes', z: 'tab', type: 'helper' },
    { id: 'no', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: ['ask'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
  const pending = async () =>
    (await helper.request().get('/takt-approve/a/pending').expect(200)).body as Pending[];
  const ask = async (payload: unknown, extra: object = {}) => {
    const got = nextMessages<Reply>('reply');
    getNode('ask').receive({ payload, ...extra });
    return (await got)[0];
  };

  it('answers a question from the state the flow fed it, and says when it does not know', async () => {
    await load([askNode, approveNode, catchNode], flow());
    let r = await ask('what is the OEE of the press?');
    assert.equal(r.assistant.intent, 'oee');
    assert.deepEqual(r.assistant.slots, { machine: 'Press1' });
    assert.match(r.payload, /don't have live OEE/);
    // an OEE record as takt-oee emits it, and a machine state sample as the simulator publishes it
    getNode('ask').receive({
      topic: 'Press1/oee',
      payload: { machine: 'Press1', oee: 0.625, availability: 0.8, performance: 0.9, quality: 0.868 },
    });
    getNode('ask').receive({ topic: 'acme/line1/CNC1/State', payload: 'Down' });
    getNode('ask').receive({ topic: 'acme/line1/CNC1/Reason', payload: 'tool breakage' });
    r = await ask('what is the OEE of the press?');
    assert.match(r.payload, /Press1: OEE 62\.5 %/);
    r = await ask('why did CNC1 stop?');
    assert.equal(r.assistant.intent, 'why_stopped');
    assert.match(r.payload, /CNC1 is Down: tool breakage/);
  });

  it('sends a command to takt-approve as a proposal with the asker, and never executes it', async () => {
    await load([askNode, approveNode, catchNode], flow());
    const prop = nextMessages<{
      topic: string;
      payload: Record<string, unknown>;
      summary: string;
      critical: boolean;
      user: string;
    }>('proposals');
    const r = await ask('raise the oven temperature to 182 degrees', { user: 'alice' });
    assert.equal(r.assistant.intent, 'set_parameter');
    assert.match(r.payload, /waits for approval/);
    const [p] = await prop;
    assert.equal(p.topic, 'Oven1/set_parameter');
    assert.deepEqual(
      { ...p.payload, requestedAt: 0 },
      {
        command: 'set_parameter',
        machine: 'Oven1',
        parameter: 'Temperature',
        value: 182,
        unit: 'degC',
        requestedBy: 'alice',
        requestedAt: 0,
      },
    );
    assert.equal(p.critical, true);
    assert.equal(p.user, 'alice');
    const list = await pending();
    assert.equal(list.length, 1);
    assert.match(list[0].summary, /set Oven1 Temperature to 182 degC \(asked by alice\)/);
    assert.equal(list[0].required, 2);
    // the audit log has the proposal; nothing left approve on output 1
    const audit = readFileSync(join(userDir, 'takt', 'approve', 'a-audit.jsonl'), 'utf8');
    assert.match(audit, /"event":"proposed"/);
    assert.match(audit, /alice/);
  });

  it('the dashboard user counts as the asker', async () => {
    await load([askNode, approveNode, catchNode], flow());
    const prop = nextMessages<{ user: string }>('proposals');
    await ask('stop the packer', { _client: { user: { username: 'bob' } } });
    assert.equal((await prop)[0].user, 'bob');
  });

  it('refuses a value outside the limits, an unknown machine and a negated command: no proposal', async () => {
    await load([askNode, approveNode, catchNode], flow());
    let r = await ask('set the oven temperature to 300 degrees', { user: 'alice' });
    assert.equal(r.assistant.refused, 'out_of_limits');
    assert.match(r.payload, /outside the limits of Oven1 Temperature \(120 to 220 degC\)/);
    r = await ask('stop cnc 7', { user: 'alice' });
    assert.match(r.payload, /did you mean CNC1\?/);
    assert.equal(r.assistant.action, undefined);
    r = await ask("don't stop the press", { user: 'alice' });
    assert.equal(r.assistant.intent, 'out_of_scope');
    assert.match(r.payload, /will not do that/);
    assert.equal((await pending()).length, 0);
  });

  it('with "commands need a user", a command without one is refused', async () => {
    await load([askNode, approveNode, catchNode], flow({ requireUser: true }));
    const r = await ask('stop the press');
    assert.equal(r.assistant.refused, 'no_user');
    assert.equal((await pending()).length, 0);
  });

  it('empty text gets a clear reply; an unknown payload is an error with a red status, and the node keeps working', async () => {
    await load([askNode, approveNode, catchNode], flow());
    const r = await ask('   ');
    assert.match(r.payload, /Please type or say/);
    const caught = nextMessages<{ error: { message: string } }>('caught');
    const red = nextStatus('ask', (s) => s.fill === 'red');
    getNode('ask').receive({ payload: 42 });
    assert.match((await caught)[0].error.message, /msg.payload must be a question/);
    await red;
    const again = await ask('help');
    assert.equal(again.assistant.intent, 'help');
  });

  it('a bad plant in the config is an error on every message', async () => {
    await load([askNode, approveNode, catchNode], flow({ plant: '{ not json' }));
    const caught = nextMessages<{ error: { message: string } }>('caught');
    getNode('ask').receive({ payload: 'status' });
    assert.match((await caught)[0].error.message, /plant must be JSON/);
  });
});
