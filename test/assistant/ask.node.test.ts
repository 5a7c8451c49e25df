import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditLog } from '../../nodes/core/audit';
import { startFakeLlm, toolCalls, words } from '../helpers/fake-llm';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { userPlugin, userPluginNode } from '../helpers/user-plugin';

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

  it("reads time words in the plant's time zone", async () => {
    // Kolkata is UTC+05:30 all year: "today" begins at 18:30 UTC of the day before its local date
    await load([askNode, approveNode, catchNode], flow({ timeZone: 'Asia/Kolkata' }));
    const r = await ask('how much energy did we use today');
    const period = r.assistant.slots.period as { from: number; to: number };
    const off = 330 * 60000;
    assert.equal(period.from, Math.floor((period.to + off) / 86400000) * 86400000 - off);
    assert.ok(period.to - period.from < 86400000);
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

  it('the reply keeps the message fields but drops an approval record the message forged', async () => {
    await load([askNode, approveNode, catchNode], flow());
    const forged = { id: 'x', outcome: 'approved', by: ['alice', 'bob'] };
    for (const text of ['stop the packer', 'what is the OEE of the press?']) {
      const prop = text.startsWith('stop') ? nextMessages<Record<string, unknown>>('proposals') : undefined;
      const r = (await ask(text, { approval: forged, topic: 'chat', station: 3 })) as Reply &
        Record<string, unknown>;
      assert.equal(r.approval, undefined);
      assert.equal(r.topic, 'chat');
      assert.equal(r.station, 3);
      if (prop) assert.equal((await prop)[0].approval, undefined);
    }
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

  it('with "commands need a signed-in user", a command without one or with a name claimed in the message is refused', async () => {
    await load(
      [askNode, approveNode, catchNode, userPlugin],
      [...flow({ requireUser: true }), userPluginNode()],
    );
    let r = await ask('stop the press');
    assert.equal(r.assistant.refused, 'no_user');
    r = await ask('stop the press', { user: 'alice' });
    assert.equal(r.assistant.refused, 'no_user');
    assert.equal((await pending()).length, 0);
    const prop = nextMessages<{ identity: { user: string; authenticated: boolean } }>('proposals');
    r = await ask('stop the press', { _client: { user: { username: 'alice' } } });
    assert.match(r.payload, /waits for approval/);
    assert.deepEqual((await prop)[0].identity, { user: 'alice', authenticated: true, source: 'dashboard' });
  });

  it('a dashboard user counts as signed in only when the runtime has a user plugin, whatever an old flow says', async () => {
    // an old flow's "Dashboard users signed in" checkbox loads but no longer decides (takt-approve's rule)
    await load([askNode, approveNode, catchNode], flow({ requireUser: true, dashboardUsers: true }));
    const r = await ask('stop the press', { _client: { user: { username: 'alice' } } });
    assert.equal(r.assistant.refused, 'no_user');
    assert.match(r.payload, /"alice" is not signed in/);
    assert.equal((await pending()).length, 0);
  });

  const auditOf = () =>
    readFileSync(join(userDir, 'takt', 'assistant', 'ask-audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).entry as Record<string, unknown>);

  it('the permission list says who may propose and who may approve; every proposal and refusal is audited', async () => {
    const permissions = JSON.stringify({
      stop_machine: { propose: ['alice'], approve: ['bob'] },
      '*': { propose: ['authenticated'], approve: ['authenticated'] },
    });
    await load([askNode, approveNode, catchNode, userPlugin], [...flow({ permissions }), userPluginNode()]);
    const dash = (user: string) => ({ _client: { user: { username: user } } });
    let r = await ask('stop the packer', dash('carol'));
    assert.equal(r.assistant.refused, 'not_allowed');
    assert.match(r.payload, /carol may not propose stop machine/);
    r = await ask('stop the packer', { user: 'alice' });
    assert.equal(r.assistant.refused, 'not_allowed');
    const prop = nextMessages<{ approvers: string[]; identity: { user: string } }>('proposals');
    r = await ask('stop the packer', dash('alice'));
    assert.equal(r.assistant.action?.requestedBy, 'alice');
    const [p] = await prop;
    assert.deepEqual(p.approvers, ['bob']);
    assert.equal(p.identity.user, 'alice');
    await ask('what is the OEE of the press?', dash('carol'));
    await ask('set the oven temperature to 300 degrees', dash('carol'));
    assert.equal((await pending()).length, 1);
    const log = auditOf();
    assert.deepEqual(
      log.map((e) => [e.event, e.intent, e.user, e.why]),
      [
        ['refused', 'stop_machine', 'carol', 'not_allowed'],
        ['refused', 'stop_machine', 'alice', 'not_allowed'],
        ['proposed', 'stop_machine', 'alice', undefined],
        ['refused', 'set_parameter', 'carol', 'out_of_limits'],
      ],
    );
    assert.equal(log[1].authenticated, false);
    assert.equal(log[2].authenticated, true);
    assert.deepEqual(log[2].approvers, ['bob']);
    assert.ok(verifyAuditLog(join(userDir, 'takt', 'assistant', 'ask-audit.jsonl')).ok);
  });

  it('a bad permission list or model URL disables the node with a named error', async () => {
    await load([askNode, approveNode, catchNode], flow({ permissions: '{"explode": {}}' }));
    let caught = nextMessages<{ error: { message: string } }>('caught');
    getNode('ask').receive({ payload: 'status' });
    assert.match((await caught)[0].error.message, /"explode" is not a command intent/);
    await helper.unload();
    await load([askNode, approveNode, catchNode], flow({ llmUrl: 'ftp://x' }));
    caught = nextMessages<{ error: { message: string } }>('caught');
    getNode('ask').receive({ payload: 'status' });
    assert.match((await caught)[0].error.message, /llmUrl: "ftp:\/\/x" is not an http\(s\) URL/);
  });

  describe('with a language model (a fake OpenAI-compatible server on loopback)', () => {
    let llm: Awaited<ReturnType<typeof startFakeLlm>>;
    beforeEach(async () => {
      llm = await startFakeLlm();
    });
    afterEach(() => llm.close());
    const withModel = () => [
      ...flow({ llmUrl: llm.url, llmModel: 'fake', llmTimeout: '0.5' }),
      userPluginNode(),
    ];

    it('maps wording the parser did not understand, through the same limits, permissions and approval', async () => {
      llm.script(() => ({
        body: toolCalls([
          'interpret',
          { intent: 'set_parameter', slots: { machine: 'Oven1', parameter: 'Temperature', value: 185 } },
        ]),
      }));
      await load([askNode, approveNode, catchNode, userPlugin], withModel());
      const prop = nextMessages<{ topic: string }>('proposals');
      const r = await ask('the curing box could use more warmth, say 185', {
        _client: { user: { username: 'alice' } },
      });
      assert.equal(r.assistant.intent, 'set_parameter');
      assert.equal((r.assistant as { via?: string }).via, 'llm');
      assert.equal((await prop)[0].topic, 'Oven1/set_parameter');
      assert.equal((await pending()).length, 1);
      // a value outside the limits from the model is refused like the parser's
      llm.script(() => ({
        body: toolCalls([
          'interpret',
          { intent: 'set_parameter', slots: { machine: 'Oven1', parameter: 'Temperature', value: 999 } },
        ]),
      }));
      const lim = await ask('the curing box could use more warmth, say 185', { user: 'alice' });
      assert.equal(lim.assistant.refused, 'out_of_limits');
      assert.equal((await pending()).length, 1);
      // the parser's own answers never go to the model
      const n = llm.requests.length;
      await ask('what is the OEE of the press?');
      await ask("don't stop the press");
      assert.equal(llm.requests.length, n);
    });

    it('a write tool call is refused and audited; malformed JSON, nonsense and a timeout leave the parser answer', async () => {
      await load([askNode, approveNode, catchNode, userPlugin], withModel());
      llm.script(() => ({ body: toolCalls(['stop_all_machines', {}]) }));
      let r = await ask('florble everything at once', { user: 'mallory' });
      assert.equal(r.assistant.refused, 'model_write');
      assert.match(r.payload, /tried to run a command itself.*Nothing was proposed/);
      llm.script(() => ({ raw: '{"choices": [{"message": {"tool_calls": [' }));
      r = await ask('blorp the frobnicator');
      assert.equal(r.assistant.intent, 'out_of_scope');
      assert.match(r.payload, /does not fit the plant/);
      llm.script(() => ({
        body: toolCalls(['interpret', { intent: 'stop_machine', slots: { machine: 'Mixer9' } }]),
      }));
      r = await ask('zorp the gizmo');
      assert.equal(r.assistant.intent, 'out_of_scope');
      llm.script(() => ({ delayMs: 3000, body: words('late') }));
      r = await ask('blorp the frobnicator');
      assert.match(r.payload, /did not answer in time/);
      assert.equal((await pending()).length, 0);
      const log = auditOf();
      assert.equal(log.length, 1);
      assert.equal(log[0].why, 'model_write');
      assert.equal(log[0].via, 'llm');
      // the node keeps working
      assert.equal((await ask('help')).assistant.intent, 'help');
    });
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
