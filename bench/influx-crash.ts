/**
 * bench:influx-crash — nothing accepted is lost through crashes. takt-influx-out runs in a Node-RED runtime
 * (a child process, test/helpers/influx-crash-child.ts) writing to a VictoriaMetrics this bench starts; points are
 * handed over as fast as the runtime takes them, the server is stopped for 30 s along the way, and the
 * runtime is killed with SIGKILL at seeded random moments (one in each third of the points) and started
 * again on the same userDir. A point is *accepted* when the node completed its message; the source records
 * each one in a file as it happens, so the kill cannot hide it. At the end every accepted point must be in
 * the database; points written twice (replayed after a kill before the server's answer came) are counted.
 *
 *   npm run bench:influx-crash -- [--points 1000000] [--outage 30] [--kills 3] [--seed 1]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../nodes/core/random';
import type { WriterStats } from '../nodes/influx/writer';
import type { ChildArgs, FromChild } from '../test/helpers/influx-crash-child';
import { readAccepted, VmProcess, vmValues } from '../test/helpers/influx-db';
import { finalLine, numberFlag, parseFlags, printTable } from './lib/cli';

const flags = parseFlags();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

async function main(): Promise<void> {
  const N = numberFlag(flags, 'points', 1_000_000);
  const OUTAGE_S = numberFlag(flags, 'outage', 30);
  const KILLS = numberFlag(flags, 'kills', 3);
  const SEED = numberFlag(flags, 'seed', 1);
  const SERIES = 100;
  const rng = new Rng(SEED);
  // One kill in each of KILLS equal parts of the accepted points, at a random place in it.
  const killAt = Array.from({ length: KILLS }, (_, k) => Math.floor(((k + rng.next()) * N) / KILLS));
  const outageAt = Math.floor(0.4 * N);
  const root = mkdtempSync(join(tmpdir(), 'takt-crash-'));
  const site = `crash${Date.now().toString(36)}`;
  const vm = new VmProcess(join(root, 'vm'));
  const rows: (string | number)[][] = [
    ['runtime', 'event', 'accepted', 'server', 'written', 'waiting', 'replayed', 'torn records'],
  ];
  const row = (g: number, event: string, accepted: number, s?: WriterStats) => {
    rows.push([
      g,
      event,
      accepted,
      serverUp ? 'up' : 'down',
      s?.written ?? '',
      s ? s.queued + s.buffered : '',
      s?.replayed ?? '',
      s?.tornRecords ?? '',
    ]);
    console.log(rows[rows.length - 1].join('  '));
  };
  let serverUp = true;
  let downAt = 0;
  let back: Promise<void> | undefined;
  const files: string[] = [];
  let replayed = 0;
  try {
    await vm.start();
    const port = vm.port;
    console.log(
      `influx-crash: ${N} points, server down ${OUTAGE_S} s from point ${outageAt}, SIGKILL at accepted ${killAt.join(', ')} (seed ${SEED})`,
    );
    console.log(rows[0].join('  '));
    const base = {
      userDir: join(root, 'nr'),
      url: vm.url,
      bucket: 'crash',
      site,
      series: SERIES,
      t0: Date.now() - Math.ceil(N / SERIES) - 60000,
    };
    let from = 0;
    let before = 0; // accepted by earlier runtimes (distinct)
    let kills = 0;
    // For the table: accepted so far, the current runtime and its last counters.
    let total = 0;
    let gen = 0;
    let latest: WriterStats | undefined;
    for (let g = 1; ; g++) {
      gen = g;
      const acceptedFile = join(root, `accepted-${g}.bin`);
      files.push(acceptedFile);
      const args: ChildArgs = { ...base, from, to: N, acceptedFile };
      let last: WriterStats | undefined;
      let injected = false;
      let accepted = 0;
      let killed = false;
      const c = fork(
        join(__dirname, '..', 'test', 'helpers', 'influx-crash-child.js'),
        [JSON.stringify(args)],
        {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        },
      );
      const target = kills < KILLS ? killAt[kills] : Infinity;
      c.on('message', (raw) => {
        const m = raw as FromChild;
        if (killed) return; // messages the child sent before it died, still in the pipe
        if ('stats' in m) last = latest = m.stats;
        if ('ready' in m) {
          replayed += m.stats.replayed;
          row(g, `started at point ${from}`, before, m.stats);
        }
        if ('injected' in m) injected = true;
        if (!('accepted' in m)) return;
        accepted = m.accepted;
        total = before + accepted;
        if (serverUp && total >= outageAt && downAt === 0) {
          serverUp = false;
          downAt = Date.now();
          void vm.stop().then(() => row(g, 'server stopped', total, last));
          back = sleep(OUTAGE_S * 1000).then(async () => {
            await vm.start(port);
            serverUp = true;
            row(gen, `server back after ${Math.round((Date.now() - downAt) / 1000)} s`, total, latest);
          });
        }
        if (!killed && total >= target) {
          killed = true;
          c.kill('SIGKILL');
        }
      });
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (killed || injected || c.exitCode !== null || c.signalCode !== null) {
            clearInterval(poll);
            resolve();
          }
        }, 5);
      });
      if (killed) {
        await exited(c);
        kills++;
        const all = new Set<number>();
        for (const f of files) for (const i of readAccepted(f)) all.add(i);
        before = all.size;
        let max = -1;
        for (const i of all) if (i > max) max = i;
        from = max + 1;
        row(g, `SIGKILL ${kills}`, before, last);
        continue;
      }
      if (c.exitCode !== null) throw new Error(`runtime ${g} exited with ${c.exitCode}`);
      row(g, 'all points handed over', before + accepted, last);
      if (kills < KILLS) {
        // The run ended before a kill's moment (a small --points): kill now, while the node still writes.
        c.kill('SIGKILL');
        await exited(c);
        kills++;
        row(g, `SIGKILL ${kills} (at the end)`, before + accepted, last);
        for (const i of readAccepted(acceptedFile)) from = Math.max(from, i + 1);
        before = new Set(files.flatMap((f) => [...readAccepted(f)])).size;
        continue;
      }
      await back;
      const deadline = Date.now() + 600000;
      while (!(last && last.queued + last.buffered === 0 && last.state === 'connected')) {
        if (Date.now() > deadline) throw new Error('the log was not written within 10 minutes');
        await sleep(50);
      }
      row(g, 'log written', before + accepted, last);
      const stopped = new Promise<WriterStats>((resolve) =>
        c.on('message', (m) => 'stopped' in (m as FromChild) && resolve((m as { stats: WriterStats }).stats)),
      );
      c.send('stop');
      row(g, 'stopped', before + accepted, await stopped);
      await exited(c);
      break;
    }
    const accepted = new Set<number>();
    for (const f of files) for (const i of readAccepted(f)) accepted.add(i);
    let values: number[] = [];
    let stored = new Set<number>();
    let lost = accepted.size;
    const deadline = Date.now() + 120000;
    while (Date.now() < deadline) {
      values = await vmValues(vm.url, { site });
      stored = new Set(values);
      lost = 0;
      for (const i of accepted) if (!stored.has(i)) lost++;
      if (lost === 0) break;
      await sleep(1000);
    }
    printTable(rows);
    console.log(
      `accepted ${accepted.size}, stored ${stored.size} distinct points in ${values.length} samples, ` +
        `replayed after restarts ${replayed}`,
    );
    finalLine({
      bench: 'influx-crash',
      accepted: accepted.size,
      stored: stored.size,
      lost,
      duplicates: values.length - stored.size,
      replayed,
      kills,
    });
  } finally {
    await back?.catch(() => undefined);
    await vm.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
