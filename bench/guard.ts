/**
 * bench:guard: takt-guard's detector on a seeded loopback testbed (bench/lib/guard-testbed.ts): per-class
 * detection of 7 attack classes, fpWindows, false alerts per hour, median delay, and the guard alone at
 * 5,000 messages/s (CPU, RSS). Unsupervised: the detector is trained on normal traffic only.
 *
 * Flags: --factor 20 --minutes 30 --train 15 --trials 4 --seed 1 --quick (CI size).
 */
import { spawnSync } from 'node:child_process';
import { finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import { measureCpu, runTestbed, type TestbedOptions } from './lib/guard-testbed';
import { ATTACK_CLASSES } from './lib/guard-traffic';

async function main(): Promise<void> {
  const flags = parseFlags();
  if (flags['cpu-only']) {
    console.log(
      JSON.stringify(
        measureCpu(
          numberFlag(flags, 'rate', 5000),
          numberFlag(flags, 'seconds', 20),
          numberFlag(flags, 'seed', 1),
        ),
      ),
    );
    return;
  }
  const quick = flags.quick === true;
  const o: TestbedOptions = {
    factor: numberFlag(flags, 'factor', quick ? 30 : 20),
    minutes: numberFlag(flags, 'minutes', quick ? 8 : 30),
    trainMinutes: numberFlag(flags, 'train', quick ? 5 : 15),
    trials: numberFlag(flags, 'trials', quick ? 1 : 4),
    seed: numberFlag(flags, 'seed', 1),
    log: (l) => console.log(l),
  };
  console.log('takt-guard on a loopback testbed (unsupervised: trained on normal traffic only)');
  const r = await runTestbed(o);
  printTable([
    ['class', 'trials', 'detected', 'median delay s'],
    ...ATTACK_CLASSES.map((c) => [
      c,
      r.perClass[c].trials,
      r.perClass[c].detected,
      r.perClass[c].medianDelayS,
    ]),
  ]);
  console.log(
    `events ${r.events}, dropped ${r.dropped}, alerts ${r.alerts.length}; normal plant hours scored ${r.normalHours.toFixed(3)}, false alerts ${r.falseAlerts}`,
  );
  for (const a of r.alerts
    .filter((x) => !r.trials.some((t) => x.ts >= t.script && x.ts <= t.end + 15_000))
    .slice(0, 10))
    console.log(`  false alert: ${a.type} ${a.client} ${a.addr ?? ''} ${JSON.stringify(a.evidence[0])}`);
  // the guard alone at 5,000 msg/s, in its own process (its RSS is not the testbed's)
  const child = spawnSync(
    process.execPath,
    // young generation capped at 4 MB: Node's default semi-spaces alone keep ~100 MB of RSS at this
    // allocation rate; the detector's own heap after a GC is printed beside it
    [
      '--expose-gc',
      '--max-semi-space-size=4',
      __filename,
      '--cpu-only',
      '--rate',
      '5000',
      '--seconds',
      '20',
      '--seed',
      String(o.seed),
    ],
    { encoding: 'utf8' },
  );
  const cpu = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as {
    cpuPct: number;
    rssMb: number;
    heapMb: number;
    events: number;
  };
  console.log(
    `guard alone at 5000 msg/s (${cpu.events} events): cpu ${cpu.cpuPct.toFixed(2)} % of one core, rss ${cpu.rssMb.toFixed(0)} MB, heap after GC ${cpu.heapMb.toFixed(0)} MB (machine shared and loaded)`,
  );
  finalLine({
    bench: 'guard',
    classes: ATTACK_CLASSES.length,
    detectMin: Number(r.detectMin.toFixed(3)),
    fpWindows: Number(r.fpWindows.toFixed(4)),
    falseAlertsPerHour: Number(r.falseAlertsPerHour.toFixed(2)),
    medianDelayS: Number(r.medianDelayS.toFixed(2)),
    cpuPct: Number(cpu.cpuPct.toFixed(2)),
    rssMb: Number(cpu.rssMb.toFixed(0)),
    heapMb: Number(cpu.heapMb.toFixed(0)),
    method: 'unsupervised',
  });
}

if (require.main === module)
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
