/** takt-audit: the node, its admin endpoint and the takt-audit command on a box set up to fail and to pass. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditReport } from '../../nodes/guard/audit';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { ROOT } from '../helpers/paths';

/* eslint-disable @typescript-eslint/no-require-imports */
const auditNode = require('../../nodes/guard/audit.node');
/* eslint-enable @typescript-eslint/no-require-imports */

const HASH = `$2b$10$${'Q'.repeat(53)}`;
const hardened = (userDir: string) => ({
  userDir,
  uiHost: '127.0.0.1',
  adminAuth: { type: 'credentials', users: [{ username: 'ana', password: HASH, permissions: '*' }] },
  httpNodeAuth: { user: 'ana', pass: HASH },
  credentialSecret: 'c'.repeat(64),
});

describe('takt-audit node and command', function () {
  this.timeout(60000);
  let userDir: string;
  // The audit probes the broker MQTT_URL names (CI exports one); these boxes name none.
  const mqttUrl = process.env.MQTT_URL;
  before(() => delete process.env.MQTT_URL);
  after(() => {
    if (mqttUrl !== undefined) process.env.MQTT_URL = mqttUrl;
  });
  beforeEach(() => (userDir = mkdtempSync(join(tmpdir(), 'takt-audit-node-'))));
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  const flow = [
    { id: 'tab', type: 'tab' },
    { id: 'au', z: 'tab', type: 'takt-audit', probeHttp: false, wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
  ];

  it('reports an open editor on all interfaces as critical, red, with the report on msg.audit and as text', async () => {
    helper.settings({ userDir, uiHost: '0.0.0.0' });
    await load([auditNode], flow);
    const red = nextStatus('au', (s) => s.fill === 'red');
    const out = nextMessages<{ topic: string; audit: AuditReport; payload: string }>('out', 1, 30000);
    getNode('au').receive({ topic: 'run' });
    const [m] = await out;
    assert.equal((await red).text, '1 critical');
    assert.equal(m.topic, 'run', 'the rest of the message is kept');
    assert.equal(m.audit.pass, false);
    const admin = m.audit.findings.find((f) => f.check === 'admin.noAuth');
    assert.deepEqual([admin?.severity, admin?.fr, admin?.sr], ['critical', 'FR1', 'SR 1.1']);
    assert.match(m.payload, /^takt-audit .*: FAIL/);
    const api = (await helper.request().get('/takt-audit/report?http=0').expect(200)).body as AuditReport;
    assert.deepEqual(
      api.findings.map((f) => f.check),
      m.audit.findings.map((f) => f.check),
    );
  });

  it('passes a hardened box: green status', async () => {
    helper.settings(hardened(userDir) as never);
    await load([auditNode], flow);
    const green = nextStatus('au', (s) => s.fill === 'green');
    const out = nextMessages<{ audit: AuditReport }>('out', 1, 30000);
    getNode('au').receive({});
    assert.deepEqual((await out)[0].audit.findings, []);
    assert.equal((await green).text, 'pass');
  });

  it('takt-audit command: JSON or text, exit 2 on a high finding and 0 when it passes', () => {
    const cli = join(ROOT, 'dist', 'nodes', 'guard', 'audit-cli.js');
    const settings = join(userDir, 'settings.js');
    const run = (s: object, ...args: string[]) => {
      writeFileSync(settings, `module.exports = ${JSON.stringify(s)};\n`);
      return spawnSync(process.execPath, [cli, '--settings', settings, '--no-http', ...args], {
        encoding: 'utf8',
        timeout: 30000,
      });
    };
    const open = run({ userDir }, '--json');
    assert.equal(open.status, 2, open.stderr);
    const report = JSON.parse(open.stdout) as AuditReport;
    assert.deepEqual(
      report.findings.map((f) => [f.check, f.severity]),
      [
        ['admin.noAuth', 'critical'],
        ['http.plainBeyondLoopback', 'high'],
        ['http.noNodeAuth', 'high'],
        ['credentials.noSecret', 'medium'],
      ],
    );
    const ok = run(hardened(userDir));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^takt-audit .*: PASS \(0 critical, 0 high, 0 medium, 0 low, 0 info\)/);
    const bad = spawnSync(process.execPath, [cli, '--timeout', 'x'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
  });
});
