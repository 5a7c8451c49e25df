import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { plantTraffic } from '../../bench/lib/guard-traffic';
import { verifyAuditLog } from '../../nodes/core/audit';
import { publishTapSource, withdrawTapSource } from '../../nodes/core/taps';
import type { GuardAlert, GuardEvent, Proposal } from '../../nodes/guard';
import { startBroker, type TestBroker } from '../helpers/broker';
import { waitUntil } from '../helpers/net';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';

/* eslint-disable @typescript-eslint/no-require-imports */
const guardNode = require('../../nodes/guard/guard.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

const T0 = Date.UTC(2026, 10, 2, 6, 0, 0);
const MIN = 60_000;

const flow = (extra: object = {}) => [
  { id: 'tab', type: 'tab' },
  {
    id: 'g',
    z: 'tab',
    type: 'takt-guard',
    source: 'messages',
    learnMinutes: 4,
    wires: [['alerts'], ['proposals']],
    ...extra,
  },
  { id: 'alerts', z: 'tab', type: 'helper' },
  { id: 'proposals', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['g'], wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

/** Sends events in batches of a simulated minute. */
function send(events: GuardEvent[]): void {
  const g = getNode('g');
  for (let i = 0; i < events.length; i += 500) g.receive({ payload: events.slice(i, i + 500) });
}

describe('takt-guard node', function () {
  this.timeout(60_000);
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-guard-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('learns from event messages, then alerts, proposes a response and audits the alert', async () => {
    await load([guardNode, catchNode], flow());
    const plant = plantTraffic(11);
    const learning = nextStatus('g', (s) => /^learning \d+\/240$/.test(s.text ?? ''));
    send(plant.normal(T0, T0 + 2 * MIN));
    await learning;
    const watching = nextStatus('g', (s) => s.text === 'watching', 10_000);
    send(plant.normal(T0 + 2 * MIN, T0 + 5 * MIN));
    await watching;
    const alerts = nextMessages<{ guard: GuardAlert; topic: string }>(
      'alerts',
      1,
      10_000,
      (m) => m.guard.type === 'brute-force',
    );
    const proposals = nextMessages<{ payload: Proposal; summary: string }>('proposals', 1, 10_000);
    const red = nextStatus('g', (s) => s.text === 'alert brute-force', 10_000);
    const t = T0 + 5 * MIN + 1000;
    send(
      Array.from({ length: 20 }, (_, i) => ({
        ts: t + i * 200,
        proto: 'mqtt' as const,
        kind: 'auth-fail' as const,
        client: `bot${i}`,
        user: 'admin',
        addr: '10.9.8.7',
      })),
    );
    const [a] = await alerts;
    assert.equal(a.topic, 'guard/brute-force');
    assert.equal(a.guard.addr, '10.9.8.7');
    assert.ok(a.guard.evidence.some((e) => e.feature === 'authFail'));
    const [p] = await proposals;
    assert.deepEqual(
      { action: p.payload.action, addr: p.payload.addr },
      { action: 'block-address', addr: '10.9.8.7' },
    );
    assert.match(p.summary, /refuse connections from 10\.9\.8\.7/);
    await red;
    const v = verifyAuditLog(join(userDir, 'takt', 'guard', 'g-audit.jsonl'));
    assert.equal(v.ok, true);
    assert.ok(v.records >= 1);
  });

  it('refuses a bad event with a red status and keeps working', async () => {
    await load([guardNode, catchNode], flow());
    const caught = nextMessages<{ error: { message: string } }>('caught');
    const red = nextStatus('g', (s) => s.fill === 'red');
    getNode('g').receive({
      payload: [
        { ts: T0, proto: 'mqtt', kind: 'publish', client: 'a' },
        { ts: T0, proto: 'ftp', kind: 'publish', client: 'b' },
      ],
    });
    const [m] = await caught;
    assert.match(m.error.message, /payload\[1\]: proto/);
    await red;
    const learning = nextStatus('g', (s) => /^learning/.test(s.text ?? ''));
    getNode('g').receive({ payload: { ts: T0, proto: 'mqtt', kind: 'publish', client: 'a' } });
    await learning;
  });

  it('is disabled (every input refused naming the broker) when another broker is chosen but none is set', async () => {
    await load([guardNode, catchNode], flow({ source: 'broker' }));
    const caught = nextMessages<{ error: { message: string } }>('caught');
    getNode('g').receive({ payload: {} });
    const [m] = await caught;
    assert.match(m.error.message, /broker/);
  });

  describe('on the embedded broker', () => {
    let b: TestBroker;
    beforeEach(async () => {
      b = await startBroker();
      publishTapSource({ name: 'embedded-mqtt', kind: 'aedes', target: b.broker });
    });
    afterEach(async () => {
      withdrawTapSource('embedded-mqtt');
      await b.close();
    });

    it('taps the broker, and carries out an approved disconnect sent back to it', async () => {
      await load([guardNode, catchNode], flow({ source: 'embedded', learnMinutes: 1 }));
      const learning = nextStatus('g', (s) => /^learning/.test(s.text ?? ''));
      const c = await mqtt.connectAsync(b.url, { clientId: 'intruder', reconnectPeriod: 0 });
      await c.publishAsync('plant/x', '1');
      await learning;
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      const proposal: Proposal = {
        action: 'disconnect-client',
        proto: 'mqtt',
        client: 'intruder',
        reason: 'test',
      };
      getNode('g').receive({ action: 'respond', payload: proposal });
      await closed;
      await waitUntil(() => !c.connected, 'the client to be gone');
      await c.endAsync(true);
    });
  });
});
