/**
 * The three widget nodes' runtime side with node-red-node-test-helper. A stand-in ui-group records the
 * registration and replays Dashboard 2's input path (beforeSend, then emit to the browser) and action path
 * (beforeSend, then send), as nodes/config/ui_base.js does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessage } from 'node-red';
import { waitUntil } from '../helpers/net';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { userPlugin, userPluginNode } from '../helpers/user-plugin';
import type { WidgetEvents } from '../../nodes/dashboard/widget';

/* eslint-disable @typescript-eslint/no-require-imports */
const ganttNode = require('../../nodes/dashboard/gantt.node');
const chartNode = require('../../nodes/dashboard/control-chart.node');
const inboxNode = require('../../nodes/dashboard/approvals.node');
const inspectionNode = require('../../nodes/dashboard/inspection.node');
const chatNode = require('../../nodes/dashboard/assistant.node');
const askNode = require('../../nodes/assistant/ask.node');
const approveNode = require('../../nodes/approve/approve.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Registration {
  node: Node;
  config: NodeDef & { passthru?: boolean };
  evts: WidgetEvents;
}
const registered: Registration[] = [];
const emitted: { id: string; msg: NodeMessage & { payload?: unknown } }[] = [];
let contribs: Record<string, { package: string; src: string; component: string }> = {};

const fakeGroup: NodeInitializer = (RED) => {
  function Group(this: Node & Record<string, unknown>, def: NodeDef) {
    RED.nodes.createNode(this, def);
    this.getBase = () => ({ uiShared: { contribs } });
    this.register = (node: Node, config: Registration['config'], evts: WidgetEvents) => {
      registered.push({ node, config, evts });
      node.on(
        'input',
        async (msg: NodeMessage & Record<string, unknown>, _send: unknown, done: (e?: Error) => void) => {
          try {
            const out = evts.beforeSend ? await evts.beforeSend(msg) : msg;
            // Dashboard 2 reads properties of what beforeSend returns (hasOwnProperty): null throws there.
            if (out === null) throw new TypeError('Cannot convert undefined or null to object');
            emitted.push({ id: node.id, msg: out });
            done();
          } catch (err) {
            done(err as Error);
          }
        },
      );
    };
  }
  RED.nodes.registerType('ui-group', Group);
};

/** Dashboard 2's widget-action path: beforeSend, then the node sends the result. */
async function action(id: string, msg: Record<string, unknown>) {
  const r = registered.find((x) => x.node.id === id)!;
  const out = await r.evts.beforeSend!(msg as NodeMessage & Record<string, unknown>);
  if (out) r.node.send(out);
}

const lastView = <T>(id: string) =>
  [...emitted].reverse().find((e) => e.id === id && e.msg.payload !== undefined)?.msg.payload as
    T | undefined;

describe('dashboard widget nodes', function () {
  this.timeout(15000);
  let userDir: string;
  beforeEach(() => {
    registered.length = 0;
    emitted.length = 0;
    contribs = {};
    userDir = mkdtempSync(join(tmpdir(), 'takt-dash-node-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  const base = [
    { id: 'tab', type: 'tab' },
    { id: 'grp', type: 'ui-group', z: 'tab' },
  ];

  it('registers with its group without passing inputs on, and makes its browser component known', async () => {
    await load(
      [fakeGroup, ganttNode, chartNode],
      [...base, { id: 'g', type: 'takt-ui-gantt', z: 'tab', group: 'grp', width: 12, height: 5 }],
    );
    assert.equal(registered.length, 1);
    assert.equal(registered[0]!.config.passthru, false);
    assert.equal((registered[0]!.config as { width?: unknown }).width, 12);
    assert.deepEqual(
      { package: contribs['takt-ui-gantt']?.package, src: contribs['takt-ui-gantt']?.src },
      { package: '@takt/node-red-mes', src: 'takt-ui-gantt.umd.js' },
    );
    assert.equal(contribs['takt-ui-gantt']?.component, 'TaktUiGantt');
  });

  it('leaves an entry the dashboard found itself alone', async () => {
    contribs = { 'takt-ui-gantt': { package: 'mine', src: 'x.js', component: 'X' } };
    await load([fakeGroup, ganttNode], [...base, { id: 'g', type: 'takt-ui-gantt', z: 'tab', group: 'grp' }]);
    assert.equal(contribs['takt-ui-gantt']!.package, 'mine');
  });

  it('Gantt: shapes a plan into the view the browser draws', async () => {
    await load([fakeGroup, ganttNode], [...base, { id: 'g', type: 'takt-ui-gantt', z: 'tab', group: 'grp' }]);
    const st = nextStatus('g', (s) => s.fill === 'green');
    getNode('g').receive({
      payload: {
        schedule: { operations: [{ job: 'J1', op: 0, machine: 'CNC1', start: 0, end: 30 }], makespan: 30 },
        now: 10,
        trigger: 'breakdown',
      },
    });
    assert.equal((await st).text, '1 ops, now 10');
    const v = lastView<{ bars: { state: string }[]; trigger: string; machines: string[] }>('g')!;
    assert.deepEqual(v.machines, ['CNC1']);
    assert.equal(v.bars[0]!.state, 'running');
    assert.equal(v.trigger, 'breakdown');
  });

  it('Gantt: clock ticks reach the browser at most once a second, the last one shown', async () => {
    await load([fakeGroup, ganttNode], [...base, { id: 'g', type: 'takt-ui-gantt', z: 'tab', group: 'grp' }]);
    const n = getNode('g');
    n.receive({
      payload: { schedule: { operations: [{ job: 'J', op: 0, machine: 'M', start: 0, end: 30 }] } },
    });
    for (let t = 1; t <= 20; t++) n.receive({ payload: { now: t, origin: 1764115200000 } });
    await waitUntil(() => lastView<{ now: number }>('g')?.now === 20, 'the last tick to be shown', 5000, 20);
    const sent = emitted.filter((e) => e.id === 'g' && e.msg.payload !== undefined).length;
    // The plan and the first (new) origin at once; of the 19 plain ticks, the held last one.
    assert.ok(sent < 10, `${sent} views sent for a plan and 20 ticks (21 without the hold)`);
    assert.equal(lastView<{ origin: number }>('g')!.origin, 1764115200000);
    // What it does not draw reaches the dashboard as a message without a payload, never null.
    n.receive({ payload: { something: 1 } });
    await waitUntil(() => emitted.at(-1)?.msg.payload === undefined, 'the empty message', 5000, 20);
  });

  it('control chart: bad input goes to the Catch node with a red status, and the next point is drawn', async () => {
    await load(
      [fakeGroup, chartNode, catchNode],
      [
        ...base,
        { id: 'c', type: 'takt-ui-control-chart', z: 'tab', group: 'grp', points: 5, label: 'Bore' },
        { id: 'ct', type: 'catch', z: 'tab', scope: ['c'], wires: [['h']] },
        { id: 'h', type: 'helper', z: 'tab' },
      ],
    );
    const caught = nextMessages<{ error: { message: string } }>('h');
    const red = nextStatus('c', (s) => s.fill === 'red');
    getNode('c').receive({ payload: 1 });
    assert.match((await caught)[0]!.error.message, /msg.spc/);
    await red;
    const ooc = nextStatus('c', (s) => s.fill === 'red' && s.text === 'OOC: rule 1');
    getNode('c').receive({
      spc: { type: 'imr', index: 7, stat: 11, center: 10, ucl: 13, lcl: 7, violations: [1] },
    });
    await ooc;
    const v = lastView<{ points: { index: number; violations: number[] }[]; title: string }>('c')!;
    assert.deepEqual(v.points, [
      { index: 7, ts: null, value: 11, center: 10, ucl: 13, lcl: 7, zone: null, violations: [1] },
    ]);
    assert.equal(v.title, 'Bore');
  });

  /** A takt-approve node "a" whose inbox widget "i" (default approver "station 3") feeds decisions back. */
  const loadInbox = (approve: object = {}, withUserPlugin = false) =>
    load(
      [fakeGroup, inboxNode, approveNode, catchNode, ...(withUserPlugin ? [userPlugin] : [])],
      [
        ...base,
        ...(withUserPlugin ? [userPluginNode()] : []),
        { id: 'a', type: 'takt-approve', z: 'tab', timeout: 0, wires: [['ok'], ['no']], ...approve },
        { id: 'c', type: 'catch', z: 'tab', scope: ['a'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
        {
          id: 'i',
          type: 'takt-ui-approvals',
          z: 'tab',
          group: 'grp',
          approve: 'a',
          approver: 'station 3',
          wires: [['a']],
        },
        { id: 'ok', type: 'helper', z: 'tab' },
        { id: 'no', type: 'helper', z: 'tab' },
      ],
    );

  type Decided = {
    approval: {
      outcome: string;
      decisions: { user: string; authenticated: boolean; source: string; claim?: string }[];
    };
  };

  it('approvals: lists what takt-approve holds and decides as the user a Dashboard 2 user plugin names', async () => {
    await loadInbox({}, true);
    getNode('a').receive({ payload: { setpoint: 25.01 }, summary: 'move the CNC1 offset' });
    const items = await new Promise<{ id: string; summary: string }[]>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        const v = lastView<{ items: { id: string; summary: string }[] }>('i');
        if (v?.items.length) {
          clearInterval(poll);
          resolve(v.items);
        } else if (Date.now() - t0 > 5000) {
          clearInterval(poll);
          reject(new Error('the inbox never listed the action'));
        }
      }, 50);
    });
    assert.equal(items.length, 1);
    assert.equal(items[0]!.summary, 'move the CNC1 offset');

    const approved = nextMessages<Decided>('ok');
    await action('i', {
      inbox: 'takt-ui-approvals/decide',
      payload: { id: items[0]!.id, decision: 'approve' },
      _client: { socketId: 's1', user: { username: 'jo' } },
    });
    const [m] = await approved;
    assert.equal(m!.approval.outcome, 'approved');
    assert.deepEqual(
      m!.approval.decisions.map((d) => [d.user, d.authenticated, d.source]),
      [['jo', true, 'dashboard']],
    );
  });

  it('approvals: without a user plugin a dashboard user is only a claim, refused unless anonymous is allowed', async () => {
    await loadInbox();
    getNode('a').receive({ payload: 1, summary: 'shed load' });
    const id = (getNode('a') as unknown as { book: { list(): { id: string }[] } }).book.list()[0]!.id;
    const caught = nextMessages<{ error: { message: string } }>('caught');
    // The browser wrote _client itself: "jo" is a claim.
    await action('i', {
      inbox: 'takt-ui-approvals/decide',
      payload: { id, decision: 'approve' },
      _client: { socketId: 's', user: { username: 'jo' } },
    });
    assert.match((await caught)[0]!.error.message, /unauthenticated dashboard decision \(claimed "jo"\)/);
    assert.equal((getNode('a') as unknown as { book: { size: number } }).book.size, 1);
  });

  it('approvals: with anonymous decisions allowed the default approver is recorded as the claim; a reject goes out on output 2', async () => {
    await loadInbox({ anonymous: true });
    getNode('a').receive({ payload: 1, summary: 'shed load' });
    const id = (getNode('a') as unknown as { book: { list(): { id: string }[] } }).book.list()[0]!.id;
    const rejected = nextMessages<Decided>('no');
    await action('i', {
      inbox: 'takt-ui-approvals/decide',
      payload: { id, decision: 'reject' },
      _client: { socketId: 's' },
    });
    const [m] = await rejected;
    assert.equal(m!.approval.outcome, 'rejected');
    assert.deepEqual(
      m!.approval.decisions.map((d) => [d.user, d.authenticated, d.source, d.claim]),
      [['anonymous', false, 'dashboard', 'station 3']],
    );
  });

  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const judged = (n: number, verdict: string, defect: string | null) => ({
    payload: Buffer.from('image bytes'),
    part: { part: n, ts: 1_000_000 + n, defect: defect ? { kind: defect } : null },
    vision: {
      verdict,
      score: verdict === 'ok' ? 0.5 : 1.4,
      threshold: 1,
      defects: verdict === 'ok' ? [] : [{ x: 10, y: 20, w: 30, h: 40, area: 900, score: 1.4 }],
      heatmap: PNG,
      image: { width: 256, height: 256 },
    },
  });

  it('inspection: shows the last part, the reject rate and a gallery; a decision goes out as model-ops feedback', async () => {
    await load(
      [fakeGroup, inspectionNode],
      [
        ...base,
        { id: 'v', type: 'takt-ui-inspection', z: 'tab', group: 'grp', gallery: 2, wires: [['fb']] },
        { id: 'fb', type: 'helper', z: 'tab' },
      ],
    );
    const st = nextStatus('v', (s) => s.fill === 'yellow' && s.text === '50.0 % ng, 2 open');
    getNode('v').receive(judged(1, 'ng', 'scratch'));
    getNode('v').receive(judged(2, 'ok', null));
    getNode('v').receive(judged(3, 'doubt', null));
    getNode('v').receive(judged(4, 'ng', 'stain'));
    await st;
    type View = {
      last: { key: string; verdict: string; image: string; defects: unknown[]; truth: string; ts: number };
      total: number;
      rejectRate: number;
      gallery: { key: string }[];
    };
    const v = lastView<View>('v')!;
    assert.equal(v.total, 4);
    assert.equal(v.rejectRate, 0.5);
    assert.equal(v.last.key, 'part-4');
    assert.equal(v.last.truth, 'stain');
    assert.equal(v.last.ts, 1_000_004);
    assert.equal(v.last.image, `data:image/png;base64,${PNG.toString('base64')}`);
    assert.deepEqual(v.last.defects, [{ x: 10, y: 20, w: 30, h: 40 }]);
    // The gallery holds 2: the newest ng/doubt parts, the oldest (part 1) has left.
    assert.deepEqual(
      v.gallery.map((g) => g.key),
      ['part-4', 'part-3'],
    );

    const feedback = nextMessages<{ action: string; payload: { key: string; label: string }; user: string }>(
      'fb',
      2,
    );
    await action('v', {
      inspection: 'takt-ui-inspection/decide',
      payload: { key: 'part-4', decision: 'confirm' },
      _client: { socketId: 's1', user: { username: 'jo' } },
    });
    await action('v', {
      inspection: 'takt-ui-inspection/decide',
      payload: { key: 'part-3', decision: 'overrule' },
      _client: { socketId: 's2' },
    });
    const [f1, f2] = await feedback;
    assert.deepEqual(
      { action: f1!.action, payload: f1!.payload, user: f1!.user },
      { action: 'feedback', payload: { key: 'part-4', label: 'fault' }, user: 'jo' },
    );
    assert.deepEqual(
      { payload: f2!.payload, user: f2!.user },
      { payload: { key: 'part-3', label: 'falseAlarm' }, user: 'operator' },
    );
    // The browser is sent the gallery without the decided parts.
    await waitUntil(() => lastView<View>('v')?.gallery.length === 0, 'an empty gallery in the browser', 5000);
    // A part decided already cannot be decided again.
    await assert.rejects(
      action('v', {
        inspection: 'takt-ui-inspection/decide',
        payload: { key: 'part-4', decision: 'confirm' },
      }),
      /no part "part-4" waits for a decision/,
    );
  });

  it('inspection: a message that is not from takt-vision goes to the Catch node with a red status', async () => {
    await load(
      [fakeGroup, inspectionNode, catchNode],
      [
        ...base,
        { id: 'v', type: 'takt-ui-inspection', z: 'tab', group: 'grp' },
        { id: 'ct', type: 'catch', z: 'tab', scope: ['v'], wires: [['h']] },
        { id: 'h', type: 'helper', z: 'tab' },
      ],
    );
    const caught = nextMessages<{ error: { message: string } }>('h');
    const red = nextStatus('v', (s) => s.fill === 'red');
    getNode('v').receive({ payload: 'hello' });
    assert.match((await caught)[0]!.error.message, /no msg.vision/);
    await red;
    const green = nextStatus('v', (s) => s.fill === 'green');
    getNode('v').receive(judged(1, 'ok', null));
    await green;
  });

  it('refuses to run without a group, with a red status and an error for each message', async () => {
    await load(
      [fakeGroup, ganttNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 'g', type: 'takt-ui-gantt', z: 'tab', group: 'nope' },
        { id: 'ct', type: 'catch', z: 'tab', scope: ['g'], wires: [['h']] },
        { id: 'h', type: 'helper', z: 'tab' },
      ],
    );
    const caught = nextMessages<{ error: { message: string } }>('h');
    getNode('g').receive({ payload: { now: 1 } });
    assert.match((await caught)[0]!.error.message, /no ui-group/);
  });

  it('assistant chat: a question goes to takt-ask, the reply and its proposal show, an allowed approver decides', async () => {
    await load(
      [fakeGroup, chatNode, askNode, approveNode, userPlugin],
      [
        ...base,
        // a Dashboard 2 user plugin names the dashboard's users, so takt-ask and takt-approve trust them
        userPluginNode(),
        {
          id: 'chat',
          type: 'takt-ui-assistant',
          z: 'tab',
          group: 'grp',
          approve: 'a',
          approver: 'station 3',
          wires: [['ask'], ['a', 'decisions']],
        },
        {
          id: 'ask',
          type: 'takt-ask',
          z: 'tab',
          permissions: JSON.stringify({ '*': { propose: ['authenticated'], approve: ['carol'] } }),
          wires: [['chat'], ['a']],
        },
        {
          id: 'a',
          type: 'takt-approve',
          z: 'tab',
          timeout: 0,
          wires: [
            ['ok', 'chat'],
            ['no', 'chat'],
          ],
        },
        { id: 'decisions', type: 'helper', z: 'tab' },
        { id: 'ok', type: 'helper', z: 'tab' },
        { id: 'no', type: 'helper', z: 'tab' },
      ],
    );
    type Turn = { id: number; role: string; text: string; proposal?: { approvalId?: string; state: string } };
    const view = () => lastView<{ turns: Turn[] }>('chat')?.turns ?? [];
    const until = (what: string, ok: () => boolean) =>
      new Promise<void>((resolve, reject) => {
        const t0 = Date.now();
        const poll = setInterval(() => {
          if (ok()) {
            clearInterval(poll);
            resolve();
          } else if (Date.now() - t0 > 5000) {
            clearInterval(poll);
            reject(new Error(`${what}: ${JSON.stringify(view())}`));
          }
        }, 20);
      });
    await action('chat', {
      chat: 'takt-ui-assistant/ask',
      payload: 'rush order ORD-105',
      _client: { socketId: 's1', user: { username: 'alice' } },
    });
    await until('the proposal to be linked to takt-approve', () =>
      view().some((t) => t.proposal?.approvalId !== undefined),
    );
    const turns = view();
    assert.deepEqual(
      turns.slice(0, 2).map((t) => [t.role, t.text]),
      [
        ['user', 'rush order ORD-105'],
        ['assistant', 'Proposed: rush order ORD-105. It waits for approval.'],
      ],
    );
    const turn = turns[1]!.id;
    // the default approver (no login) is not on the list: nothing is sent, the chat says so
    await action('chat', {
      chat: 'takt-ui-assistant/decide',
      payload: { turn, decision: 'approve' },
      _client: { socketId: 's2' },
    });
    await until('the refusal', () => view().some((t) => /station 3 may not approve/.test(t.text)));
    const decisions = nextMessages<{ approval: { id: string; decision: string; user: string } }>('decisions');
    const approved = nextMessages<{ approval: { outcome: string } }>('ok');
    await action('chat', {
      chat: 'takt-ui-assistant/decide',
      payload: { turn, decision: 'approve' },
      _client: { socketId: 's3', user: { username: 'carol' } },
    });
    const [d] = await decisions;
    assert.deepEqual(
      { ...d!.approval, id: d!.approval.id === turns[1]!.proposal!.approvalId },
      { id: true, decision: 'approve', user: 'carol' },
    );
    assert.equal((await approved)[0]!.approval.outcome, 'approved');
    await until(
      'the outcome in the chat',
      () => view().find((t) => t.id === turn)?.proposal?.state === 'approved',
    );
  });
});
