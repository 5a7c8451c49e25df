/**
 * flows/fleet-box.json, the flow every box of a fleet runs, in the runtime `npm start` starts
 * (flows/settings.js), on CI's Mosquitto and VictoriaMetrics. MQTT_URLS lists a dead broker first (and MQTT_URL
 * names only that one), so both the broker node and the simulator's Sparkplug client must fail over along
 * MQTT_URLS to reach the live one: the box reads its line's data back over Sparkplug, holds the lease, runs the
 * area schedule, and its dashboard has the Fleet page fed with the boxes and their leases. No node reports an
 * error.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitUntil } from '../helpers/net';
import { ROOT } from '../helpers/paths';
import { commsListener, type Runtime, startTaktRuntime } from '../helpers/runtime';
import { requireServer } from '../helpers/servers';

const FLOW = join(ROOT, 'flows', 'fleet-box.json');

interface FlowNode {
  id: string;
  type: string;
  name?: string;
}

describe('flows/fleet-box.json on one box (Mosquitto, VictoriaMetrics)', function () {
  this.timeout(240000);
  let mqttUrl: string;
  let influxUrl: string;
  let userDir: string;
  let rt: Runtime | undefined;

  before(async function () {
    mqttUrl = (await requireServer(this, 'Mosquitto', 'MQTT_URL', 'mqtt://127.0.0.1:1883')).url;
    influxUrl = (await requireServer(this, 'VictoriaMetrics', 'INFLUX_V2_URL', 'http://127.0.0.1:8428')).url;
  });
  beforeEach(() => (userDir = mkdtempSync(join(tmpdir(), 'takt-fleet-box-'))));
  afterEach(async () => {
    await rt?.stop();
    rt = undefined;
    rmSync(userDir, { recursive: true, force: true });
  });

  it('fails over to the live broker, reads its line back, holds the lease and feeds the Fleet page', async () => {
    const nodes = JSON.parse(readFileSync(FLOW, 'utf8')) as FlowNode[];
    const byName = (type: string, name: string) => {
      const n = nodes.find((x) => x.type === type && x.name === name);
      assert.ok(n, `${type} "${name}" in the flow`);
      return n.id;
    };
    const flowFile = join(userDir, 'flows.json');
    copyFileSync(FLOW, flowFile);
    const box = `fleetbox${process.pid}`;
    const line = `fleetline${process.pid}`;
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    rt = await startTaktRuntime({
      userDir,
      flowFile,
      env: {
        BOX: box,
        LINE: line,
        MQTT_URLS: `${dead}, ${mqttUrl}`,
        // Set, so settings.js starts no embedded broker; the flow must not use it (MQTT_URLS is the list).
        MQTT_URL: dead,
        INFLUX_URL: influxUrl,
      },
      startTimeoutMs: 120000,
    });
    const comms = commsListener(rt.url, '#');
    await comms.opened;
    const status = new Map<string, { fill?: string; text?: string }>();
    const debug = new Map<string, string[]>();
    const errors: string[] = [];
    const drain = () => {
      for (const m of comms.messages.splice(0)) {
        if (m.topic.startsWith('status/'))
          status.set(m.topic.slice(7), m.data as { fill?: string; text?: string });
        else if (m.topic === 'debug') {
          const d = m.data as { id: string; level?: number; msg?: unknown };
          if (d.level === 20) errors.push(`${d.id}: ${String(d.msg)}`);
          else if (d.level === undefined) debug.set(d.id, [...(debug.get(d.id) ?? []), String(d.msg)]);
        }
      }
    };
    try {
      // The simulator's Sparkplug data, read back by the box over the broker list (dead node first).
      const reader = byName('takt-sparkplug-in', "this line's data");
      await waitUntil(
        () => (drain(), status.get(reader)?.fill === 'green' && /\d/.test(status.get(reader)?.text ?? '')),
        "the line's Sparkplug data to arrive",
        90000,
        200,
      );
      // The lease: this box is the only one, so it holds it and the schedule runs here.
      const holder = byName('debug', 'lease holder');
      await waitUntil(
        () => (drain(), (debug.get(holder) ?? []).some((m) => m.includes(`"holder":"${box}"`))),
        'this box to hold the lease',
        60000,
        200,
      );
      await waitUntil(
        () => (drain(), debug.has(byName('debug', 'area schedule runs here'))),
        'the area schedule to run here',
        60000,
        200,
      );
      // The Fleet page is served, and its table is fed (the function making its rows raised nothing).
      const page = await fetch(`${rt.url}/dashboard/fleet`);
      assert.equal(page.status, 200, 'GET /dashboard/fleet');
      byName('ui-table', 'who holds what');
      drain();
      const ours = new Set(nodes.map((n) => n.id));
      assert.deepEqual(
        errors.filter((e) => ours.has(e.split(':')[0])),
        [],
        'node errors',
      );
      assert.deepEqual(
        [...rt.log().matchAll(/\[error\] \[([\w-]+):[^\]]+\] .*/g)].map((m) => m[0]),
        [],
        'errors in the log',
      );
    } finally {
      comms.close();
    }
  });
});
