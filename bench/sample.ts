/**
 * bench:sample — takt-sample inside a real Node-RED runtime against a pass-through node (a change node
 * with no rules) over the same messages in the same run: messages per second and CPU per 1,000 messages.
 *
 *   npm run bench:sample -- [--messages 200000] [--rounds 5]
 */
import { cpuMs, finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import { startEmbedded } from './lib/runtime';

const flags = parseFlags();
const N = numberFlag(flags, 'messages', 200000);
const ROUNDS = numberFlag(flags, 'rounds', 5);

const flows = [
  { id: 'tab', type: 'tab', label: 'bench' },
  {
    id: 'sample',
    z: 'tab',
    type: 'takt-sample',
    topicPrefix: 'acme/plant1',
    coerce: 'auto',
    wires: [['end-s']],
  },
  { id: 'end-s', z: 'tab', type: 'junction', wires: [] },
  { id: 'pass', z: 'tab', type: 'change', rules: [], wires: [['end-p']] },
  { id: 'end-p', z: 'tab', type: 'junction', wires: [] },
];

function message(i: number) {
  return { topic: `line${i % 4}/cell${i % 10}/temp`, payload: 20 + (i % 97) * 0.25, ts: 1764144000000 + i };
}

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}

async function main() {
  const rt = await startEmbedded(['end-s', 'end-p']);
  await rt.deploy(flows);
  // Messages are pushed in chunks so the event loop delivers as it goes, like a reader emitting.
  const run = async (entry: string, exit: string) => {
    rt.reset();
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      rt.inject(entry, message(i));
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => (rt.received.get(exit) ?? 0) >= N);
    return { ms: performance.now() - t0, cpu: cpuMs() - c0 };
  };
  await run('sample', 'end-s'); // warm-up: JIT and runtime caches
  await run('pass', 'end-p');
  const rows: (string | number)[][] = [
    ['round', 'sample msg/s', 'pass msg/s', 'sample cpu/1k', 'pass cpu/1k'],
  ];
  const ratios: number[] = [];
  let sTot = 0;
  let pTot = 0;
  for (let r = 1; r <= ROUNDS; r++) {
    const s = await run('sample', 'end-s');
    const p = await run('pass', 'end-p');
    sTot += s.ms;
    pTot += p.ms;
    ratios.push(s.cpu / p.cpu);
    rows.push([r, (N / s.ms) * 1000, (N / p.ms) * 1000, (s.cpu / N) * 1000, (p.cpu / N) * 1000]);
  }
  printTable(rows);
  await rt.stop();
  ratios.sort((a, b) => a - b);
  finalLine({
    bench: 'sample',
    messages: N,
    rounds: ROUNDS,
    msgPerS: Math.round((N * ROUNDS * 1000) / sTot),
    passMsgPerS: Math.round((N * ROUNDS * 1000) / pTot),
    throughputRatio: Number((pTot / sTot).toFixed(3)),
    cpuRatioMedian: Number(ratios[Math.floor(ratios.length / 2)].toFixed(3)),
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
