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
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import type { WidgetEvents } from '../../nodes/dashboard/widget';

/* eslint-disable @typescript-eslint/no-require-imports */
const ganttNode = require('../../nodes/dashboard/gantt.node');
const chartNode = require('../../nodes/dashboard/control-chart.node');
const inboxNode = require('../../nodes/dashboard/approvals.node');
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

/** Stands in a Dashboard 2 user plugin (as FlowFuse's user addon is) in the runtime's plugin table. */
const userPlugin: NodeInitializer = (RED) => {
  const plugins = RED.plugins as unknown as { getByType: (type: string) => unknown[] };
  const original = plugins.getByType.bind(plugins);
  plugins.getByType = (type) =>
    type === 'node-red-dashboard-2'
      ? [{ hooks: { onAddConnectionCredentials: (_c: unknown, m: unknown) => m } }]
      : original(type);
  RED.nodes.registerType('test-user-plugin', function (this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
  });
};

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
            if (out) emitted.push({ id: node.id, msg: out });
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
  [...emitted].reverse().find((e) => e.id === id)?.msg.payload as T | undefined;

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
        ...(withUserPlugin ? [{ id: 'up', type: 'test-user-plugin', z: 'tab' }] : []),
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
});
