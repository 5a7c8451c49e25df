/**
 * bench:fleet in a short version (75 s): a three-node nats-server cluster, VictoriaMetrics and three Takt
 * runtimes; a broker node and the lease holder are killed along the way. Nothing offered may be lost, and the
 * lease must be handed over within 10 s. The kills are 11 s apart (25 % and 40 % of the run). At 30 s they were
 * 4.5 s apart, inside the cluster's leader elections after the broker kill (5-10 s), when the dead holder's
 * last will cannot be stored yet: one CI run measured an 11.2 s handover there.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { requireNatsServer } from '../helpers/nats-cluster';
import { ROOT } from '../helpers/paths';

interface FleetResult {
  bench: string;
  offered: number;
  stored: number;
  lost: number;
  duplicates: number;
  handoverS: number;
  kills: number;
}

describe('bench:fleet (short run)', function () {
  this.timeout(400000);
  before(function () {
    requireNatsServer(this);
  });

  it('loses nothing offered through a broker kill and a box kill, and hands the lease over in 10 s', async () => {
    const bench = join(ROOT, 'dist', 'bench', 'fleet.js');
    const proc = spawn(process.execPath, [bench, '--seconds', '75'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
    assert.equal(code, 0, `bench failed:\n${err}\n${out}`);
    const last = out.trim().split('\n').at(-1) ?? '';
    const r = JSON.parse(last) as FleetResult;
    assert.equal(r.bench, 'fleet');
    assert.equal(r.kills, 2);
    assert.ok(r.offered >= 75 * 10 * 1000 * 0.9, `offered ${r.offered}`);
    assert.equal(r.lost, 0, `lost ${r.lost} of ${r.offered}`);
    assert.equal(r.stored, r.offered);
    assert.ok(r.handoverS > 0 && r.handoverS < 10, `handover ${r.handoverS} s`);
  });
});
