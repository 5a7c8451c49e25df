/**
 * `npm start` with the shipped plant demo: the demo runs from a copy in the user directory, so a Deploy from
 * the editor leaves the repository's flows/plant-demo.json as it is; an MQTT port already taken is reported
 * loudly with the fix, not passed over in one line.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths';
import { freePort } from '../helpers/net';
import { type Runtime, startRuntime } from '../helpers/runtime';

const SETTINGS = ['-s', join(ROOT, 'flows', 'settings.js')];
const SHIPPED = join(ROOT, 'flows', 'plant-demo.json');

describe('plant demo of npm start: a copy in the user directory', function () {
  this.timeout(120000);
  let userDir: string;
  let rt: Runtime | undefined;
  let blocker: Server | undefined;

  beforeEach(() => (userDir = mkdtempSync(join(tmpdir(), 'takt-demo-'))));
  afterEach(async () => {
    await rt?.stop();
    rt = undefined;
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    blocker = undefined;
    rmSync(userDir, { recursive: true, force: true });
  });

  it('deploys into the copy and leaves flows/plant-demo.json unchanged', async () => {
    const shippedBefore = readFileSync(SHIPPED);
    const flowsDirBefore = readdirSync(join(ROOT, 'flows')).sort();
    rt = await startRuntime({
      args: SETTINGS,
      env: {
        TAKT_USER_DIR: userDir,
        TAKT_FLOW_FILE: '',
        TAKT_OPCUA_PORT: String(await freePort()),
        TAKT_MQTT_PORT: String(await freePort()),
        MQTT_URL: '',
      },
    });
    const copy = join(userDir, 'plant-demo.json');
    assert.ok(existsSync(copy), 'the demo was copied into the user directory');
    assert.deepEqual(readFileSync(copy), shippedBefore, 'the first copy is the shipped demo');

    // What the editor's Deploy (full) does: GET the flows with their revision, POST them back changed.
    const got = await fetch(`${rt.url}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } });
    const { rev, flows } = (await got.json()) as { rev: string; flows: { id: string; type: string }[] };
    const tab = flows.find((n) => n.type === 'tab');
    assert.ok(tab, 'the demo has a tab');
    const added = {
      id: 'deploytest01',
      type: 'comment',
      z: tab.id,
      name: 'deployed by the test',
      x: 100,
      y: 40,
      wires: [],
    };
    const post = await fetch(`${rt.url}/flows`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Node-RED-API-Version': 'v2',
        'Node-RED-Deployment-Type': 'full',
      },
      body: JSON.stringify({ rev, flows: [...flows, added] }),
    });
    assert.equal(post.status, 200, await post.text());

    assert.match(readFileSync(copy, 'utf8'), /deployed by the test/, 'the deploy went into the copy');
    assert.deepEqual(readFileSync(SHIPPED), shippedBefore, 'flows/plant-demo.json is unchanged');
    assert.deepEqual(
      readdirSync(join(ROOT, 'flows')).sort(),
      flowsDirBefore,
      'no _cred.json or backup in flows/',
    );

    // A restart keeps the deployed copy.
    await rt.stop();
    rt = await startRuntime({
      args: SETTINGS,
      env: {
        TAKT_USER_DIR: userDir,
        TAKT_FLOW_FILE: '',
        TAKT_OPCUA_PORT: String(await freePort()),
        TAKT_MQTT_PORT: String(await freePort()),
        MQTT_URL: '',
      },
    });
    assert.match(readFileSync(copy, 'utf8'), /deployed by the test/);
    assert.match(rt.log(), /npm run demo:reset/, 'the start-up log says how to get the shipped demo back');
  });

  it('says loudly, with the fix, when the embedded MQTT broker cannot take its port', async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(port, '127.0.0.1', () => resolve()));
    rt = await startRuntime({
      args: SETTINGS,
      env: {
        TAKT_USER_DIR: userDir,
        TAKT_FLOW_FILE: join(userDir, 'empty.json'),
        TAKT_OPCUA_PORT: String(await freePort()),
        TAKT_MQTT_PORT: String(port),
        MQTT_URL: '',
      },
    });
    const log = rt.log();
    assert.match(log, new RegExp(`embedded MQTT broker did NOT start on 127\\.0\\.0\\.1:${port}`));
    assert.match(log, /TAKT_MQTT_PORT=/);
    assert.match(log, /MQTT_URL=/);
  });
});
