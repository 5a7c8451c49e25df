/**
 * bench:guard: takt-guard's detector on a seeded loopback testbed (bench/lib/guard-testbed.ts): per-class
 * detection of 7 attack classes, fpWindows, false alerts per hour, median delay, and the guard alone at
 * 5,000 messages/s (CPU, RSS). Unsupervised: the detector is trained on normal traffic only.
 *
 * Flags: --factor 20 --minutes 30 --train 15 --trials 4 --seed 1 --quick (CI size).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import type { AloneResult } from './lib/guard-alone';
import { runTestbed, type TestbedOptions } from './lib/guard-testbed';
import { ATTACK_CLASSES } from './lib/guard-traffic';

/** V8 heap limits of the dedicated guard process the memory figure is measured in. */
const HEAP_CAP = ['--max-old-space-size=64', '--max-semi-space-size=8'];

async function main(): Promise<void> {
  const flags = parseFlags();
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
    `events ${r.events}, dropped ${r.dropped}, alerts ${r.alerts.length}; normal plant hours scored ${r.normalHours.toFixed(3)}, false alerts ${r.falseAlerts}; machine faults injected: ${r.faultsTrain} while learning, ${r.faultsScored} others after`,
  );
  for (const a of r.falseAlertSamples)
    console.log(`  false alert: ${a.type} ${a.client} ${a.addr ?? ''} ${JSON.stringify(a.evidence[0])}`);
  // the guard alone at 5,000 msg/s, in a process of its own (its memory is not the testbed's): with the
  // heap capped as a dedicated guard process runs (HEAP_CAP: a guard whose state outgrew it would stop
  // with "heap out of memory", so finishing shows the bound), and with Node's defaults for comparison
  const alone = (flags: string[]) => {
    const child = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        ...flags,
        join(__dirname, 'lib', 'guard-alone.js'),
        '--rate',
        '5000',
        '--seconds',
        '20',
        '--seed',
        String(o.seed),
      ],
      { encoding: 'utf8' },
    );
    if (child.status !== 0) throw new Error(`guard alone ${flags.join(' ')}: ${child.stderr.slice(-2000)}`);
    return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as AloneResult;
  };
  const cpu = alone(HEAP_CAP);
  const uncapped = alone([]);
  console.log(
    `guard alone at 5000 msg/s (${cpu.events} events, ${cpu.subjects} subjects), heap capped (${HEAP_CAP.join(' ')}): cpu ${cpu.cpuPct.toFixed(2)} % of one core, peak rss ${cpu.rssMb.toFixed(0)} MB (node and modules before the detector: ${cpu.baseMb.toFixed(0)} MB), heap after GC ${cpu.heapMb.toFixed(0)} MB; with Node's default heap: peak rss ${uncapped.rssMb.toFixed(0)} MB, cpu ${uncapped.cpuPct.toFixed(2)} % (machine shared and loaded)`,
  );
  finalLine({
    bench: 'guard',
    classes: ATTACK_CLASSES.length,
    detectMin: Number(r.detectMin.toFixed(3)),
    fpWindows: Number(r.fpWindows.toFixed(4)),
    falseAlertsPerHour: Number(r.falseAlertsPerHour.toFixed(2)),
    medianDelayS: Number(r.medianDelayS.toFixed(2)),
    faultsTrain: r.faultsTrain,
    faultsScored: r.faultsScored,
    cpuPct: Number(cpu.cpuPct.toFixed(2)),
    rssMb: Number(cpu.rssMb.toFixed(0)),
    rssDefaultHeapMb: Number(uncapped.rssMb.toFixed(0)),
    heapMb: Number(cpu.heapMb.toFixed(0)),
    method: 'unsupervised',
  });
}

if (require.main === module)
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
