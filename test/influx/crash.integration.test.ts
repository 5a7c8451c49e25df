/**
 * A crash with the server up: a child Node-RED runtime takes points as fast as it can through
 * takt-influx-out to the real VictoriaMetrics (INFLUX_V2_URL) and is killed with SIGKILL halfway; a second
 * runtime on the same userDir starts, and every point whose message the node had completed (counted by the
 * source, see ../helpers/influx-crash-child.ts) must be in the database.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../helpers/net';
import { requireServer } from '../helpers/servers';
import type { ChildArgs, FromChild } from '../helpers/influx-crash-child';
import { readAccepted, vmValues } from '../helpers/influx-db';

function start(args: ChildArgs, on: (m: FromChild) => void): ChildProcess {
  const c = fork(join(__dirname, '..', 'helpers', 'influx-crash-child.js'), [JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  c.on('message', (m) => on(m as FromChild));
  return c;
}

const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

describe('takt-influx-out: killed while writing', function () {
  this.timeout(240000);
  let url: string;
  let root: string;
  const children: ChildProcess[] = [];
  before(async function () {
    url = (await requireServer(this, 'VictoriaMetrics', 'INFLUX_V2_URL', 'http://127.0.0.1:8428')).url;
  });
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'takt-influx-crash-'))));
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill('SIGKILL');
      await exited(c);
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('loses no accepted point when the runtime is killed with SIGKILL, server up', async () => {
    const N = 200000;
    const KILL_AT = 100000;
    const SERIES = 100;
    const site = `crash${randomUUID().slice(0, 8)}`;
    const base = {
      userDir: join(root, 'nr'),
      url,
      bucket: 'crash',
      site,
      series: SERIES,
      t0: Date.now() - N / SERIES - 60000,
      acceptedFile: join(root, 'accepted.bin'),
    };
    let accepted = 0;
    const a = start({ ...base, from: 0, to: N }, (m) => {
      if ('accepted' in m) accepted = m.accepted;
    });
    children.push(a);
    await waitUntil(() => accepted >= KILL_AT || a.exitCode !== null, 'points accepted', 120000, 1);
    a.kill('SIGKILL');
    await exited(a);
    const want = readAccepted(base.acceptedFile);
    assert.ok(want.size >= KILL_AT, `accepted ${want.size}`);

    // A new runtime on the same userDir replays the log.
    let last: FromChild | undefined;
    let replayed = -1;
    const b = start({ ...base, from: N, to: N }, (m) => {
      last = m;
      if ('ready' in m) replayed = m.stats.replayed;
    });
    children.push(b);
    await waitUntil(
      () => last && 'stats' in last && !('ready' in last) && last.stats.queued + last.stats.buffered === 0,
      'the log to be written',
      120000,
      50,
    );
    b.send('stop');
    await exited(b);

    let missing = want.size;
    await waitUntil(
      async () => {
        const got = new Set(await vmValues(url, { site }));
        missing = 0;
        for (const i of want) if (!got.has(i)) missing++;
        return missing === 0;
      },
      'every accepted point stored',
      60000,
      1000,
    ).catch(() => undefined);
    assert.equal(missing, 0, `${missing} of ${want.size} accepted points are not in the database`);
    assert.ok(replayed > 0, 'points were replayed from the log');
  });
});
