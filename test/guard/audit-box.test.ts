/**
 * The hardening audit on real boxes set up to fail each probe-based check: a temporary user directory with
 * loose file modes and a tampered model, a real mosquitto without authentication on a free port (listening on
 * every interface), an in-process node-opcua server with security mode None, default passwords, and the demo's
 * own settings (flows/settings.js) with and without a password.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { MessageSecurityMode, OPCUACertificateManager, OPCUAServer, SecurityPolicy } from 'node-opcua';
import { ModelRegistry } from '../../nodes/models/registry';
import { auditBox, type Finding } from '../../nodes/guard/audit';
import {
  fileFacts,
  flowTargets,
  gatherFacts,
  modelFacts,
  outsideAddresses,
  probeMqttAnonymous,
  weakPasswordFacts,
} from '../../nodes/guard/audit-probe';
import { startBroker, type TestBroker } from '../helpers/broker';
import { canConnect, freePort, waitUntil } from '../helpers/net';
import { ROOT } from '../helpers/paths';
import { pcaOnnx, pumpRows } from '../models/fixtures';
import { Rng } from '../../nodes/core/random';

const checks = (f: Finding[]) => f.map((x) => x.check);

describe('guard/audit on boxes set up to fail it', function () {
  this.timeout(120000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'takt-audit-box-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a user directory and credential and key files readable by others, and not the private ones', () => {
    const userDir = join(dir, 'user');
    mkdirSync(join(userDir, 'takt', 'opcua', 'pki', 'own', 'private'), { recursive: true });
    writeFileSync(join(userDir, 'flows_cred.json'), '{}');
    writeFileSync(join(userDir, '.config.runtime.json'), '{}');
    writeFileSync(join(userDir, 'flows.json'), '[]');
    const key = join(userDir, 'takt', 'opcua', 'pki', 'own', 'private', 'private_key.pem');
    writeFileSync(key, 'k');
    const https = join(dir, 'https.key');
    writeFileSync(https, 'k');
    chmodSync(userDir, 0o755);
    chmodSync(join(userDir, 'flows_cred.json'), 0o644);
    chmodSync(join(userDir, '.config.runtime.json'), 0o600);
    chmodSync(key, 0o640);
    chmodSync(https, 0o604);
    const facts = fileFacts(userDir, [https]);
    const r = auditBox({ settings: {}, files: facts });
    const files = r.findings.filter((f) => f.check.startsWith('files.'));
    assert.deepEqual(
      files.map((f) => [f.check, f.severity, f.subject.replace(dir, '<dir>')]),
      [
        ['files.secretReadable', 'high', '<dir>/user/flows_cred.json (mode 644)'],
        ['files.secretReadable', 'high', '<dir>/https.key (mode 604)'],
        ['files.userDirOpen', 'medium', '<dir>/user (mode 755)'],
        [
          'files.secretReadable',
          'medium',
          '<dir>/user/takt/opcua/pki/own/private/private_key.pem (mode 640)',
        ],
      ],
    );
    // Tightened: nothing left.
    chmodSync(userDir, 0o700);
    for (const f of [join(userDir, 'flows_cred.json'), key, https]) chmodSync(f, 0o600);
    assert.deepEqual(
      checks(auditBox({ settings: {}, files: fileFacts(userDir, [https]) }).findings).filter((c) =>
        c.startsWith('files.'),
      ),
      [],
    );
  });

  it('finds a registered model file changed after registration, through the registry layout', async () => {
    const root = join(dir, 'registry');
    const reg = new ModelRegistry(root, 'pump');
    const rows = pumpRows(new Rng(3), 200);
    await reg.register(
      { onnx: pcaOnnx(rows), reference: rows, training: { rows: 200 } },
      { who: 'ana', why: 'x' },
    );
    await reg.register(
      { onnx: pcaOnnx(rows, undefined, 2), reference: rows, training: { rows: 200 } },
      { who: 'ana', why: 'y' },
    );
    const modelFindings = () =>
      auditBox({ settings: {}, models: modelFacts([root]) }).findings.filter((f) =>
        f.check.startsWith('models.'),
      );
    assert.deepEqual(modelFindings(), []);
    writeFileSync(reg.path(2), pcaOnnx(rows, undefined, 9));
    const found = modelFindings();
    assert.deepEqual(
      found.map((f) => [f.check, f.severity, f.sr]),
      [['models.hashMismatch', 'high', 'SR 3.4']],
    );
    assert.match(found[0]!.subject, /^pump v2: .*v2\.onnx \(SHA-256/);
  });

  it('finds default and weak passwords behind bcrypt hashes, and not a strong one', () => {
    const settings = {
      adminAuth: {
        users: [
          { username: 'admin', password: bcrypt.hashSync('admin', 4) },
          { username: 'ana', password: bcrypt.hashSync('ana123', 4) },
          { username: 'ben', password: bcrypt.hashSync('correct horse battery staple', 4) },
        ],
      },
      httpNodeAuth: { user: 'op', pass: bcrypt.hashSync('changeme', 4) },
    };
    assert.deepEqual(weakPasswordFacts(settings).weak, [
      { where: 'adminAuth', user: 'admin' },
      { where: 'adminAuth', user: 'ana' },
      { where: 'httpNodeAuth', user: 'op' },
    ]);
  });

  describe('a real mosquitto without authentication', () => {
    let proc: ChildProcess | undefined;
    let port = 0;
    before(async () => {
      port = await freePort();
      const conf = join(tmpdir(), `takt-audit-mosquitto-${port}.conf`);
      writeFileSync(conf, `listener ${port} 0.0.0.0\nallow_anonymous true\npersistence false\n`);
      proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
      await waitUntil(() => canConnect('127.0.0.1', port), 'mosquitto to listen', 10000, 50);
    });
    after(() => proc?.kill('SIGTERM'));

    it('accepts anonymous clients, also beyond loopback: medium on loopback, high for the open listener', async () => {
      const url = `mqtt://127.0.0.1:${port}`;
      const facts = await gatherFacts({
        settings: {},
        url: false,
        env: { MQTT_URL: url },
        flows: [{ id: 'b', type: 'takt-mqtt-broker', name: 'plant', url: '${MQTT_URL}' }],
        timeoutMs: 3000,
      });
      assert.equal(facts.mqtt?.length, 1, 'the same broker from the flow and MQTT_URL is probed once');
      const r = auditBox(facts).findings.filter((f) => f.check.startsWith('mqtt.'));
      const outside = outsideAddresses();
      assert.deepEqual(
        r.map((f) => [f.check, f.severity]),
        [...(outside.length ? [['mqtt.anonymousBeyondLoopback', 'high']] : []), ['mqtt.anonymous', 'medium']],
      );
      if (outside.length) {
        // Reached on another address of the box, the same broker is high on two counts: no TLS, anonymous.
        const remote = `mqtt://${outside[0]}:${port}`;
        const wide = auditBox(await gatherFacts({ settings: {}, url: false, env: {}, mqtt: [remote] }));
        assert.deepEqual(
          checks(wide.findings).filter((c) => c.startsWith('mqtt.')),
          ['mqtt.noTls', 'mqtt.anonymous'],
        );
      }
    });

    it('sees a broker that refuses anonymous clients as refused', async () => {
      const p2 = await freePort();
      const conf = join(tmpdir(), `takt-audit-mosquitto-${p2}.conf`);
      writeFileSync(conf, `listener ${p2} 127.0.0.1\nallow_anonymous false\npersistence false\n`);
      const closed = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
      try {
        await waitUntil(() => canConnect('127.0.0.1', p2), 'mosquitto to listen', 10000, 50);
        assert.equal(await probeMqttAnonymous(`mqtt://127.0.0.1:${p2}`), 'refused');
        const facts = await gatherFacts({
          settings: {},
          url: false,
          env: {},
          mqtt: [`mqtt://127.0.0.1:${p2}`],
        });
        assert.deepEqual(
          checks(auditBox(facts).findings).filter((c) => c.startsWith('mqtt.')),
          [],
        );
      } finally {
        closed.kill('SIGTERM');
      }
    });
  });

  it('finds an in-process OPC UA server offering security mode None and anonymous sessions', async () => {
    const port = await freePort();
    const server = new OPCUAServer({
      port,
      hostname: '127.0.0.1',
      resourcePath: '/UA/Box',
      securityModes: [MessageSecurityMode.None],
      securityPolicies: [SecurityPolicy.None],
      allowAnonymous: true,
      serverCertificateManager: new OPCUACertificateManager({
        rootFolder: join(dir, 'server-pki'),
        automaticallyAcceptUnknownCertificate: true,
      }),
    });
    await server.initialize();
    await server.start();
    try {
      const url = `opc.tcp://127.0.0.1:${port}/UA/Box`;
      const facts = await gatherFacts({
        settings: {},
        url: false,
        env: { PORT_UA: String(port) },
        flows: [
          {
            id: 'e',
            type: 'takt-opcua-endpoint',
            name: 'line PLC',
            url: 'opc.tcp://127.0.0.1:${PORT_UA}/UA/Box',
            securityMode: 'None',
            trustOnFirstUse: true,
          },
        ],
        pkiDir: join(dir, 'client-pki'),
        timeoutMs: 20000,
      });
      assert.deepEqual(
        facts.opcua?.map((p) => [p.url, p.reachable, p.modes, p.anonymous]),
        [[url, true, ['None'], true]],
      );
      const r = auditBox(facts).findings.filter((f) => f.check.startsWith('opcua.'));
      assert.deepEqual(
        r.map((f) => [f.check, f.severity, f.sr]),
        [
          ['opcua.securityNone', 'medium', 'SR 3.1'],
          ['opcua.anonymous', 'low', 'SR 1.2'],
          ['opcua.clientNone', 'low', 'SR 3.1'],
          ['opcua.trustOnFirstUse', 'low', 'SR 1.9'],
        ],
      );
    } finally {
      await server.shutdown();
    }
  });

  describe("the demo's settings (flows/settings.js)", () => {
    let broker: TestBroker;
    const saved = { ...process.env };
    before(async () => (broker = await startBroker()));
    after(async () => {
      await broker.close();
    });
    afterEach(() => {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    });

    /** Loads the demo's settings as Node-RED does, with the environment a site sets. */
    const demoSettings = async (env: Record<string, string>) => {
      const userDir = join(dir, 'user');
      mkdirSync(userDir, { mode: 0o700 });
      Object.assign(process.env, {
        TAKT_AUDIT: '1',
        TAKT_USER_DIR: userDir,
        MQTT_URL: broker.url,
        PORT: String(await freePort()),
        TAKT_OPCUA_PORT: String(await freePort()),
        ...env,
      });
      const file = join(ROOT, 'flows', 'settings.js');
      delete require.cache[require.resolve(file)];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const settings = { ...(require(file) as Record<string, unknown>) };
      const flows = JSON.parse(
        (await import('node:fs')).readFileSync(
          join(userDir, String(settings.flowFile).replace(/^.*[/\\]/, '')),
          'utf8',
        ),
      ) as Record<string, unknown>[];
      return { settings, flows, userDir };
    };

    it('without a password: the open editor is a high finding', async () => {
      const { settings, flows, userDir } = await demoSettings({});
      const r = auditBox(
        await gatherFacts({ settings, flows, userDir, timeoutMs: 2000, pkiDir: join(dir, 'pki') }),
      );
      assert.equal(r.pass, false);
      assert.deepEqual(
        r.findings.filter((f) => f.severity === 'high' || f.severity === 'critical').map((f) => f.check),
        ['admin.noAuth'],
      );
    });

    it('with a password set: no critical and no high finding', async () => {
      const hash = bcrypt.hashSync('a long site password 4 the line', 10);
      const { settings, flows, userDir } = await demoSettings({ TAKT_ADMIN_PASSWORD: hash });
      const targets = flowTargets(flows, process.env);
      assert.ok(
        targets.mqtt.some((t) => t.url === broker.url),
        'the demo flows name the broker',
      );
      const r = auditBox(
        await gatherFacts({ settings, flows, userDir, timeoutMs: 2000, pkiDir: join(dir, 'pki') }),
      );
      assert.deepEqual(
        r.findings.filter((f) => f.severity === 'high' || f.severity === 'critical'),
        [],
      );
      assert.equal(r.pass, true);
      // What stays is named: the generated credential key, and the demo's anonymous loopback broker.
      assert.deepEqual(
        r.findings.map((f) => [f.check, f.severity]),
        [
          ['credentials.noSecret', 'medium'],
          ['mqtt.anonymous', 'medium'],
        ],
      );
    });
  });
});
