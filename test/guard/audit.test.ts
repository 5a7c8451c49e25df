/** The hardening audit's pure checks (nodes/guard/audit.ts), each on facts set up to fail it. */
import assert from 'node:assert/strict';
import {
  auditBox,
  type BoxFacts,
  type Finding,
  formatReport,
  IEC_62443_3_3,
  isLoopback,
  passwordKind,
} from '../../nodes/guard/audit';

const HASH = `$2b$10$${'a'.repeat(53)}`;
/** A box that passes every settings check: loopback, admin and http logins, a credential secret. */
const GOOD = {
  uiHost: '127.0.0.1',
  uiPort: 1880,
  adminAuth: { type: 'credentials', users: [{ username: 'ana', password: HASH, permissions: '*' }] },
  httpNodeAuth: { user: 'ana', pass: HASH },
  credentialSecret: 'f'.repeat(64),
};
const audit = (f: Partial<BoxFacts> & { settings?: Record<string, unknown> }) =>
  auditBox({ ...f, settings: f.settings ?? GOOD }, 0);
const only = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);
const one = (findings: Finding[], check: string): Finding => {
  const got = only(findings, check);
  assert.equal(got.length, 1, `one ${check} in ${findings.map((f) => f.check).join(', ')}`);
  return got[0]!;
};

describe('guard/audit: the hardening checks', () => {
  it('passes a hardened box with no finding, and names every SR with its FR correctly', () => {
    const r = audit({});
    assert.deepEqual(r.findings, []);
    assert.equal(r.pass, true);
    for (const [sr, { fr }] of Object.entries(IEC_62443_3_3))
      assert.equal(fr, `FR${/^SR (\d)\./.exec(sr)![1]}`, sr);
  });

  it('editor and admin API without a password: high on loopback, critical beyond it (FR1 SR 1.1)', () => {
    const { adminAuth: _a, ...noAdmin } = GOOD;
    void _a;
    const local = one(audit({ settings: noAdmin }).findings, 'admin.noAuth');
    assert.deepEqual([local.severity, local.fr, local.sr], ['high', 'FR1', 'SR 1.1']);
    const wide = one(
      audit({ settings: { ...noAdmin, uiHost: '0.0.0.0', https: {} } }).findings,
      'admin.noAuth',
    );
    assert.equal(wide.severity, 'critical');
    // httpAdminRoot false: no editor, nothing to protect
    assert.deepEqual(
      only(audit({ settings: { ...noAdmin, httpAdminRoot: false } }).findings, 'admin.noAuth'),
      [],
    );
    const anon = one(
      audit({ settings: { ...GOOD, adminAuth: { ...GOOD.adminAuth, default: { permissions: '*' } } } })
        .findings,
      'admin.anonymousWrite',
    );
    assert.deepEqual([anon.fr, anon.sr], ['FR2', 'SR 2.1']);
  });

  it('listening beyond loopback without HTTPS, also with no uiHost (all interfaces) (FR4 SR 4.1)', () => {
    for (const uiHost of ['0.0.0.0', undefined, '192.168.1.20']) {
      const f = one(audit({ settings: { ...GOOD, uiHost } }).findings, 'http.plainBeyondLoopback');
      assert.deepEqual([f.severity, f.fr, f.sr, f.related], ['high', 'FR4', 'SR 4.1', ['SR 3.1', 'SR 1.13']]);
    }
    const tls = audit({ settings: { ...GOOD, uiHost: '0.0.0.0', https: { key: 'k', cert: 'c' } } }).findings;
    assert.deepEqual(only(tls, 'http.plainBeyondLoopback'), []);
    assert.equal(one(tls, 'http.noRequireHttps').severity, 'low');
  });

  it('no credential secret: medium when generated into the userDir, high when credentials are in clear', () => {
    const { credentialSecret: _c, ...none } = GOOD;
    void _c;
    assert.equal(one(audit({ settings: none }).findings, 'credentials.noSecret').severity, 'medium');
    const clear = one(
      audit({ settings: { ...GOOD, credentialSecret: false } }).findings,
      'credentials.clear',
    );
    assert.deepEqual([clear.severity, clear.sr], ['high', 'SR 4.1']);
  });

  it('HTTP endpoints and dashboard without a login, in the settings and on the running box', () => {
    const { httpNodeAuth: _h, ...open } = GOOD;
    void _h;
    assert.equal(one(audit({ settings: open }).findings, 'http.noNodeAuth').severity, 'medium');
    assert.equal(
      one(audit({ settings: { ...open, uiHost: '0.0.0.0', https: {} } }).findings, 'http.noNodeAuth')
        .severity,
      'high',
    );
    const probed = audit({
      http: [
        { kind: 'admin', url: 'http://127.0.0.1:1880/flows', status: 200 },
        { kind: 'dashboard', url: 'http://10.0.0.5:1880/dashboard', status: 200 },
        { kind: 'dashboard', url: 'http://127.0.0.1:1880/dashboard', status: 401 },
      ],
    }).findings;
    assert.equal(one(probed, 'http.adminOpen').severity, 'high');
    assert.equal(one(probed, 'http.dashboardOpen').severity, 'high');
  });

  it('passwords in clear or MD5, a low bcrypt cost, and default or weak passwords (FR1 SR 1.7)', () => {
    assert.deepEqual(passwordKind(HASH), { kind: 'bcrypt', cost: 10 });
    assert.deepEqual(passwordKind('5f4dcc3b5aa765d61d8327deb882cf99'), { kind: 'md5' });
    assert.deepEqual(passwordKind('hunter2'), { kind: 'plain' });
    const r = audit({
      settings: {
        ...GOOD,
        adminAuth: { users: [{ username: 'ana', password: 'hunter2' }] },
        httpNodeAuth: { user: 'op', pass: '5f4dcc3b5aa765d61d8327deb882cf99' },
        httpStaticAuth: { user: 'st', pass: `$2b$04$${'b'.repeat(53)}` },
      },
      weakPasswords: [{ where: 'adminAuth', user: 'ana' }],
    }).findings;
    const notHashed = only(r, 'password.notHashed');
    assert.deepEqual(
      notHashed.map((f) => f.subject),
      ['adminAuth user "ana"', 'httpNodeAuth user "op"'],
    );
    assert.equal(one(r, 'password.lowCost').severity, 'low');
    const weak = one(r, 'password.weak');
    assert.deepEqual([weak.severity, weak.fr, weak.sr], ['high', 'FR1', 'SR 1.7']);
  });

  it('OPC UA: security mode None and anonymous sessions on a server, None and trust on first use in a connection', () => {
    const r = audit({
      opcua: [
        {
          url: 'opc.tcp://10.0.0.7:4840',
          source: 's',
          reachable: true,
          modes: ['None', 'SignAndEncrypt'],
          anonymous: true,
        },
        {
          url: 'opc.tcp://10.0.0.8:4840',
          source: 's',
          reachable: true,
          modes: ['SignAndEncrypt'],
          anonymous: false,
        },
        { url: 'opc.tcp://10.0.0.9:4840', source: 's', reachable: false, modes: [], anonymous: false },
      ],
      opcuaClients: [
        { name: 'plc', url: 'opc.tcp://10.0.0.7:4840', securityMode: 'None', trustOnFirstUse: true },
        {
          name: 'ok',
          url: 'opc.tcp://10.0.0.8:4840',
          securityMode: 'SignAndEncrypt',
          trustOnFirstUse: false,
        },
      ],
    }).findings;
    const none = one(r, 'opcua.securityNone');
    assert.deepEqual([none.severity, none.fr, none.sr], ['high', 'FR3', 'SR 3.1']);
    assert.match(none.subject, /10\.0\.0\.7/);
    assert.equal(one(r, 'opcua.anonymous').sr, 'SR 1.2');
    assert.equal(one(r, 'opcua.clientNone').severity, 'high');
    const tofu = one(r, 'opcua.trustOnFirstUse');
    assert.deepEqual([tofu.fr, tofu.sr, tofu.related], ['FR1', 'SR 1.9', ['SR 1.8']]);
  });

  it('MQTT: no TLS to another machine, anonymous clients, an anonymous broker beyond loopback', () => {
    const r = audit({
      mqtt: [
        { url: 'mqtt://10.0.0.3:1883', source: 'b', tls: false, anonymous: 'refused' },
        { url: 'mqtts://10.0.0.4:8883', source: 'b', tls: true, anonymous: 'accepted' },
        {
          url: 'mqtt://127.0.0.1:1883',
          source: 'MQTT_URL',
          tls: false,
          anonymous: 'accepted',
          beyondLoopback: { address: '10.0.0.2', anonymous: 'accepted' },
        },
      ],
    }).findings;
    assert.equal(one(r, 'mqtt.noTls').subject, 'mqtt://10.0.0.3:1883 (b)');
    assert.deepEqual(
      only(r, 'mqtt.anonymous').map((f) => [f.severity, f.sr]),
      [
        ['high', 'SR 1.2'],
        ['medium', 'SR 1.2'],
      ],
    );
    const beyond = one(r, 'mqtt.anonymousBeyondLoopback');
    assert.deepEqual([beyond.severity, beyond.fr, beyond.sr], ['high', 'FR5', 'SR 5.1']);
  });

  it('files readable by others and model files that do not match the registry', () => {
    const r = audit({
      files: [
        { path: '/srv/takt', role: 'userDir', mode: 0o755 },
        { path: '/srv/takt/flows_cred.json', role: 'secret', mode: 0o644 },
        { path: '/srv/takt/key.pem', role: 'secret', mode: 0o640 },
        { path: '/srv/takt/ok.pem', role: 'secret', mode: 0o600 },
      ],
      models: [
        { model: 'pump', version: 1, file: 'v1.onnx', expected: 'a'.repeat(64), actual: 'a'.repeat(64) },
        { model: 'pump', version: 2, file: 'v2.onnx', expected: 'a'.repeat(64), actual: 'b'.repeat(64) },
        { model: 'pump', version: 3, file: 'v3.onnx', expected: 'a'.repeat(64), actual: null },
      ],
    }).findings;
    assert.equal(one(r, 'files.userDirOpen').sr, 'SR 4.1');
    assert.deepEqual(
      only(r, 'files.secretReadable').map((f) => [f.severity, f.sr, f.subject]),
      [
        ['high', 'SR 1.5', '/srv/takt/flows_cred.json (mode 644)'],
        ['medium', 'SR 1.5', '/srv/takt/key.pem (mode 640)'],
      ],
    );
    const models = only(r, 'models.hashMismatch');
    assert.deepEqual(
      models.map((f) => [f.severity, f.fr, f.sr]),
      [
        ['high', 'FR3', 'SR 3.4'],
        ['high', 'FR3', 'SR 3.4'],
      ],
    );
  });

  it('sorts by severity, counts, and writes a readable report naming FR, SR and the fix', () => {
    const r = auditBox(
      { settings: { uiHost: '0.0.0.0' }, skipped: ['MQTT x: did not answer'] },
      Date.UTC(2026, 11, 6),
    );
    assert.equal(r.pass, false);
    assert.deepEqual(
      r.findings.map((f) => f.severity),
      [...r.findings.map((f) => f.severity)].sort(
        (a, b) =>
          ['critical', 'high', 'medium', 'low', 'info'].indexOf(a) -
          ['critical', 'high', 'medium', 'low', 'info'].indexOf(b),
      ),
    );
    assert.equal(r.counts.critical, 1);
    const text = formatReport(r);
    assert.match(text, /^takt-audit 2026-12-06T00:00:00.000Z: FAIL \(1 critical, /);
    assert.match(text, /\[CRITICAL\] The editor and admin API need no password/);
    assert.match(text, /IEC 62443-3-3: FR1 SR 1\.1 Human user identification and authentication/);
    assert.match(text, /fix: {2}Set adminAuth/);
    assert.match(text, /not checked:\n {2}- MQTT x: did not answer/);
    assert.equal(isLoopback('::1'), true);
    assert.equal(isLoopback('127.0.0.2'), true);
    assert.equal(isLoopback('0.0.0.0'), false);
  });
});
