/**
 * The guard alone at `--rate` messages/s, run by bench:guard as a child process of its own so that its
 * memory is the guard's, not the testbed's (no broker, simulator, OPC UA stack or MQTT client is loaded
 * here: only the detector and the synthetic traffic generator). It trains on 120 plant seconds of
 * synthetic plant traffic, then observes `--seconds` more, streamed in slices of 100 plant ms.
 *
 * CPU: process.cpuUsage around observe, scaled to exactly `rate` messages per second of traffic.
 * Memory: `rssMb` is the peak resident set of the whole process (getrusage maxRSS: Node itself, the
 * modules, the detector and the traffic it was fed), `baseMb` the resident set before the detector was
 * made, `heapMb` the heap in use after a final GC (the detector's state and what Node keeps).
 * Prints one JSON line.
 */
import { createDetector } from '../../nodes/guard/detector';
import { numberFlag, parseFlags } from './cli';
import { plantTraffic } from './guard-traffic';

export interface AloneResult {
  cpuPct: number;
  rssMb: number;
  baseMb: number;
  heapMb: number;
  events: number;
  subjects: number;
  evictedSubjects: number;
}

const MB = 2 ** 20;
const SLICE_MS = 100;

export function measureAlone(rate: number, seconds: number, seed: number): AloneResult {
  const baseMb = process.memoryUsage().rss / MB;
  const sensors = Math.round(rate / 1.3);
  const plant = plantTraffic(seed, sensors, 1);
  const T0 = Date.UTC(2026, 10, 2, 6, 0, 0);
  const det = createDetector({ maxSubjects: 4 * sensors + 100 });
  const trainS = 120;
  det.beginTraining(T0 + 0.7 * trainS * 1000);
  // fed in slices of SLICE_MS of traffic, as a tap's queue hands the guard small batches
  for (let t = 0; t < trainS * 1000; t += SLICE_MS)
    for (const e of plant.normal(T0 + t, T0 + t + SLICE_MS)) det.learn(e);
  det.endTraining(T0 + trainS * 1000);
  let cpuUs = 0;
  let n = 0;
  for (let t = trainS * 1000; t < (trainS + seconds) * 1000; t += SLICE_MS) {
    const chunk = plant.normal(T0 + t, T0 + t + SLICE_MS);
    const before = process.cpuUsage();
    for (const e of chunk) det.observe(e);
    const used = process.cpuUsage(before);
    cpuUs += used.user + used.system;
    n += chunk.length;
  }
  const cpuPct = (cpuUs / 1000 / (seconds * 1000)) * (rate / (n / seconds)) * 100;
  (globalThis as { gc?: () => void }).gc?.();
  const s = det.stats();
  return {
    cpuPct,
    // maxRSS is in kilobytes
    rssMb: (process.resourceUsage().maxRSS * 1024) / MB,
    baseMb,
    heapMb: process.memoryUsage().heapUsed / MB,
    events: n,
    subjects: s.subjects,
    evictedSubjects: s.evictedSubjects,
  };
}

if (require.main === module) {
  const flags = parseFlags();
  console.log(
    JSON.stringify(
      measureAlone(
        numberFlag(flags, 'rate', 5000),
        numberFlag(flags, 'seconds', 20),
        numberFlag(flags, 'seed', 1),
      ),
    ),
  );
}
