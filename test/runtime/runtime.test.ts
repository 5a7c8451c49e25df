/**
 * The headless edge runtime that `npm start` runs (flows/settings.js + flows/plant-demo.json), started
 * as a real Node-RED process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths';
import { commsListener, getJson, type NodeSet, type Runtime, startRuntime } from '../helpers/runtime';
import { testClient } from '../helpers/opcua';
import { freePort, waitUntil } from '../helpers/net';
import { AttributeIds, makeBrowsePath } from 'node-opcua';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bcrypt: { hashSync(pw: string, rounds: number): string } = require('bcryptjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg: { 'node-red': { nodes: Record<string, string> } } = require(join(ROOT, 'package.json'));

const SETTINGS = ['-s', join(ROOT, 'flows', 'settings.js')];

/**
 * Free ports for the demo's simulator and embedded broker, so tests never collide with a local service;
 * MQTT_URL emptied so the demo starts its own broker even where CI exports a Mosquitto URL.
 */
async function demoPorts(): Promise<Record<string, string>> {
  return {
    TAKT_OPCUA_PORT: String(await freePort()),
    TAKT_MQTT_PORT: String(await freePort()),
    MQTT_URL: '',
  };
}

describe('headless edge runtime (npm start)', function () {
  this.timeout(90000);
  let userDir: string;
  let rt: Runtime | undefined;

  beforeEach(() => (userDir = mkdtempSync(join(tmpdir(), 'takt-userdir-'))));
  afterEach(async () => {
    await rt?.stop();
    rt = undefined;
    rmSync(userDir, { recursive: true, force: true });
  });

  it('serves the editor API without auth, loads every Takt node and runs the demo plant with its simulator', async () => {
    const ports = await demoPorts();
    const opcuaPort = Number(ports.TAKT_OPCUA_PORT);
    const mqttPort = Number(ports.TAKT_MQTT_PORT);
    rt = await startRuntime({ args: SETTINGS, env: { TAKT_USER_DIR: userDir, ...ports } });
    const flows = await getJson<{ id: string; type: string }[]>(`${rt.url}/flows`);
    assert.equal(flows.status, 200);
    const sim = flows.body?.find((n) => n.type === 'takt-sim');
    assert.ok(sim, 'the demo flow runs the plant simulator');

    const sets = await getJson<NodeSet[]>(`${rt.url}/nodes`);
    const takt = (sets.body ?? []).filter((s) => s.module === '@takt/node-red-mes');
    const loaded = takt.flatMap((s) => (s.enabled && !s.err ? s.types : []));
    assert.deepEqual(loaded.sort(), Object.keys(pkg['node-red'].nodes).sort());

    // The simulator's status (from the pack's message catalogue) and its OPC UA server.
    const comms = commsListener(rt.url, 'status/#');
    await comms.opened;
    try {
      const st = await waitUntil(
        () =>
          comms.messages.find(
            (m) => m.topic === `status/${sim.id}` && (m.data as { fill?: string }).fill === 'green',
          ),
        'the simulator to report it is running',
        20000,
      );
      assert.equal((st.data as { text: string }).text, `60x :${opcuaPort}`);
    } finally {
      comms.close();
    }
    const client = testClient(join(userDir, 'pki-client'));
    await client.connect(`opc.tcp://127.0.0.1:${opcuaPort}/UA/Takt`);
    try {
      const s = await client.createSession();
      const r = await s.translateBrowsePath(
        makeBrowsePath('i=85', '/1:Plant1/1:Line1/1:Oven1/1:Temperature'),
      );
      const dv = await s.read({ nodeId: r.targets![0].targetId, attributeId: AttributeIds.Value });
      assert.equal(typeof dv.value.value, 'number');
      await s.close();
    } finally {
      await client.disconnect();
    }
    assert.match(rt.log(), new RegExp(`embedded MQTT broker on mqtt://127.0.0.1:${mqttPort}`));
    assert.doesNotMatch(rt.log(), /\[error\]/);
  });

  it('refuses the admin API without a token when TAKT_ADMIN_PASSWORD is set, and accepts a login', async () => {
    const hash = bcrypt.hashSync('s3cret-pw', 8);
    rt = await startRuntime({
      args: SETTINGS,
      env: {
        TAKT_USER_DIR: userDir,
        TAKT_ADMIN_PASSWORD: hash,
        TAKT_ADMIN_USER: 'controls',
        ...(await demoPorts()),
      },
    });
    assert.equal((await getJson(`${rt.url}/flows`)).status, 401);

    const login = async (password: string) =>
      fetch(`${rt!.url}/auth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          client_id: 'node-red-admin',
          grant_type: 'password',
          scope: '*',
          username: 'controls',
          password,
        }),
      });
    // A wrong password is refused by the token endpoint (oauth2orize answers 403).
    assert.equal((await login('wrong')).status, 403);
    const res = await login('s3cret-pw');
    assert.equal(res.status, 200);
    const { access_token } = (await res.json()) as { access_token: string };
    assert.equal((await getJson(`${rt.url}/flows`, access_token)).status, 200);
  });

  it('stops at start-up with a clear message when the password is not a bcrypt hash', async () => {
    await assert.rejects(
      startRuntime({ args: SETTINGS, env: { TAKT_USER_DIR: userDir, TAKT_ADMIN_PASSWORD: 'plain-text' } }),
      /TAKT_ADMIN_PASSWORD must be a bcrypt hash/,
    );
  });

  it('keeps global context in the file store across a restart (and takes TAKT_FLOW_FILE)', async () => {
    // A flow that counts its starts in global context: inject once, then a change node adds one.
    const flowFile = join(userDir, 'count-starts.json');
    writeFileSync(
      flowFile,
      JSON.stringify([
        { id: 't1', type: 'tab', label: 'count' },
        {
          id: 'i1',
          z: 't1',
          type: 'inject',
          once: true,
          onceDelay: 0.1,
          repeat: '',
          props: [],
          wires: [['c1']],
        },
        {
          id: 'c1',
          z: 't1',
          type: 'change',
          rules: [
            {
              t: 'set',
              p: 'starts',
              pt: 'global',
              to: '$exists($globalContext("starts")) ? $globalContext("starts") + 1 : 1',
              tot: 'jsonata',
            },
          ],
          wires: [],
        },
      ]),
    );
    const starts = async () => {
      const r = await getJson<{ msg?: string }>(`${rt!.url}/context/global/starts?store=default`);
      return r.body?.msg;
    };
    const env = { TAKT_USER_DIR: userDir, TAKT_FLOW_FILE: flowFile, ...(await demoPorts()) };
    rt = await startRuntime({ args: SETTINGS, env });
    await waitUntil(async () => (await starts()) === '1', 'starts = 1');
    await rt.stop();
    rt = await startRuntime({ args: SETTINGS, env });
    assert.equal(
      await waitUntil(async () => ((await starts()) === '2' ? '2' : undefined), 'starts = 2'),
      '2',
    );
  });
});
