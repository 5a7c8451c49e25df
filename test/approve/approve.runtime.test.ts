/**
 * takt-approve in a real Node-RED runtime with adminAuth: decisions over the admin API are bound to the
 * logged-in user (the OAuth token), whatever name the request body claims, so one person cannot approve a
 * two-person action twice under two names, and a request without a login is refused. The takt-audit admin
 * endpoint answers there too, and its own request to the admin API without credentials is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditReport } from '../../nodes/guard/audit';
import { waitUntil } from '../helpers/net';
import { ROOT } from '../helpers/paths';
import { getJson, type Runtime, startRuntime } from '../helpers/runtime';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bcrypt: { hashSync(pw: string, rounds: number): string } = require('bcryptjs');

describe('takt-approve with adminAuth in a real runtime', function () {
  this.timeout(120000);
  let userDir: string;
  let rt: Runtime | undefined;
  before(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-approve-rt-'));
    const hash = bcrypt.hashSync('a long test password', 8);
    const flows = [
      { id: 't', type: 'tab', label: 'approvals' },
      {
        id: 'p',
        z: 't',
        type: 'inject',
        name: 'propose',
        props: [{ p: 'payload' }, { p: 'critical', v: 'true', vt: 'bool' }],
        payload: 'shed oven 2',
        payloadType: 'str',
        once: true,
        onceDelay: '0.5',
        wires: [['a']],
      },
      { id: 'a', z: 't', type: 'takt-approve', timeout: 0, wires: [[], []] },
      { id: 'au', z: 't', type: 'takt-audit', probeHttp: true, wires: [[]] },
    ];
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
    writeFileSync(
      join(userDir, 'settings.js'),
      `module.exports = ${JSON.stringify({
        uiHost: '127.0.0.1',
        userDir,
        flowFile: 'flows.json',
        nodesDir: [ROOT],
        credentialSecret: 'c'.repeat(64),
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'ana', password: hash, permissions: '*' },
            { username: 'ben', password: hash, permissions: '*' },
          ],
        },
        httpNodeAuth: { user: 'ana', pass: hash },
        telemetry: { enabled: false },
      })};\n`,
    );
    rt = await startRuntime({ args: ['-s', join(userDir, 'settings.js'), '-u', userDir] });
  });
  after(async () => {
    await rt?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  const token = async (username: string) => {
    const res = await fetch(`${rt!.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope: '*',
        username,
        password: 'a long test password',
      }),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const decide = (id: string, body: object, bearer?: string) =>
    fetch(`${rt!.url}/takt-approve/a/decide`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}),
      },
      body: JSON.stringify({ approvalId: id, decision: 'approve', ...body }),
    });

  it('records the logged-in user, refuses a second approval by the same login under another name, and no login', async () => {
    const ana = await token('ana');
    const ben = await token('ben');
    const waiting = await waitUntil(
      async () => {
        const r = await getJson<{ id: string; required: number }[]>(`${rt!.url}/takt-approve/a/pending`, ana);
        return r.body?.length ? r.body : undefined;
      },
      'the proposal to wait',
      20000,
    );
    const id = waiting[0]!.id;
    assert.equal(waiting[0]!.required, 2);
    assert.equal((await decide(id, { user: 'ben' })).status, 401, 'no login: refused by the admin API');
    assert.equal((await decide(id, { user: 'ben' }, ana)).status, 200);
    const again = await decide(id, { user: 'carl' }, ana);
    assert.equal(again.status, 400);
    assert.match(((await again.json()) as { error: string }).error, /ana has already decided/);
    assert.equal((await decide(id, {}, ben)).status, 200);

    const lines = readFileSync(join(userDir, 'takt', 'approve', 'a-audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { entry: Record<string, unknown> }).entry);
    assert.deepEqual(
      lines.filter((e) => e.event === 'decision').map((e) => [e.user, e.authenticated, e.source, e.claim]),
      [
        ['ana', true, 'admin', 'ben'],
        ['ben', true, 'admin', undefined],
      ],
    );
    assert.equal(lines.at(-1)?.event, 'approved');
  });

  it('serves the hardening audit to a logged-in user; its own unauthenticated request is refused', async () => {
    assert.equal((await getJson(`${rt!.url}/takt-audit/report`)).status, 401);
    const r = await getJson<AuditReport>(`${rt!.url}/takt-audit/report`, await token('ana'));
    assert.equal(r.status, 200);
    const checks = r.body!.findings.map((f) => f.check);
    assert.ok(!checks.includes('admin.noAuth') && !checks.includes('http.adminOpen'), checks.join(', '));
    assert.ok(!checks.includes('http.dashboardOpen'), checks.join(', '));
  });
});
