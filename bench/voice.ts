/**
 * bench:voice: the synthetic voice round trip. Generated operator utterances (bench/lib/voice-commands.ts, over
 * every intent and the demo plant; never the evaluation set) are spoken by espeak-ng with several voices and
 * speeds, mixed with white or brown noise from sox at a stated SNR, decoded by the voice engine (pocketsphinx
 * with the grammar generated from the language data and the plant) and parsed. Fully right = the gold intent
 * and every slot (times as the parser reads the typed text). A SYNTHETIC-VOICE figure: espeak is far easier
 * than people on a shop floor.
 * Reference in the same run: the typed text through the same parser (the ceiling the voice side can reach).
 *
 *   npm run bench:voice [-- --n 100 --seed 7 --errors]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, type Plant, type Slots } from '../nodes/assistant';
import { Recognizer, run, say, toRecognizerWav } from '../nodes/assistant/voice';
import { sameSlots } from './lib/assistant-eval';
import { finalLine, numberFlag, parseFlags, printTable, ROOT } from './lib/cli';
import { generate, rng } from './lib/voice-commands';

const flags = parseFlags();
const n = numberFlag(flags, 'n', 100);
const seed = numberFlag(flags, 'seed', 7);
const plant = JSON.parse(readFileSync(join(ROOT, 'nodes', 'assistant', 'demo-plant.json'), 'utf8')) as Plant;
const now = Date.UTC(2026, 0, 7, 10, 30);
const VOICES = ['en-us', 'en-gb', 'en+m3', 'en+f2', 'en-us+m7', 'en+f4'];
/** Signal-to-noise ratios in dB; Infinity = clean. */
const SNRS = [Infinity, 20, 15, 10];
const NOISES = ['whitenoise', 'brownnoise'];

/** PCM samples of a 16 kHz mono 16-bit WAV (data chunk). */
function samples(wav: Buffer): { head: Buffer; pcm: Int16Array } {
  let off = 12;
  while (off + 8 <= wav.length) {
    const id = wav.toString('ascii', off, off + 4);
    const size = wav.readUInt32LE(off + 4);
    if (id === 'data') {
      const len = Math.min(size, wav.length - off - 8) & ~1;
      const pcm = new Int16Array(len / 2);
      for (let i = 0; i < pcm.length; i++) pcm[i] = wav.readInt16LE(off + 8 + 2 * i);
      return { head: wav.subarray(0, off + 8), pcm };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}
function wavOf(pcm: Int16Array): Buffer {
  const b = Buffer.alloc(44 + pcm.length * 2);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + pcm.length * 2, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(32000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(pcm.length * 2, 40);
  for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i], 44 + 2 * i);
  return b;
}
const rms = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));

/** Speech mixed with sox-made noise scaled to the SNR (speech RMS over its non-silent samples). */
async function noisy(speech: Int16Array, kind: string, snrDb: number, i: number): Promise<Int16Array> {
  if (!Number.isFinite(snrDb)) return speech;
  const secs = (speech.length / 16000).toFixed(3);
  // -R: repeatable noise; the seed differs per utterance through a different length/offset
  const r = await run(
    'sox',
    [
      '-R',
      '-n',
      '-r',
      '16000',
      '-c',
      '1',
      '-b',
      '16',
      '-t',
      'wav',
      '-',
      'synth',
      String(Number(secs) + 1),
      kind,
    ],
    {
      timeoutMs: 10000,
      packages: 'sox',
    },
  );
  const noise = samples(r.stdout).pcm.subarray(i % 16000);
  const voiced = speech.filter((v) => Math.abs(v) > 300);
  const gain =
    rms(voiced.length ? voiced : speech) /
    Math.pow(10, snrDb / 20) /
    Math.max(1, rms(noise.subarray(0, speech.length)));
  const out = new Int16Array(speech.length);
  for (let k = 0; k < speech.length; k++)
    out[k] = Math.max(-32768, Math.min(32767, Math.round(speech[k] + gain * noise[k])));
  return out;
}

const sameResult = (a: { intent: string; slots: Slots }, intent: string, slots: Slots) =>
  a.intent === intent && sameSlots(a.slots, slots);

async function main() {
  const cases = generate(plant, n, seed);
  const rec = new Recognizer(plant, { timeoutMs: 90000 });
  console.log(
    `grammar: ${rec.grammar.words.length} words, ${rec.grammar.fallback.length} pronounced by fallback (${rec.grammar.fallback.slice(0, 12).join(', ')}${rec.grammar.fallback.length > 12 ? ', …' : ''})`,
  );
  const pick = rng(seed + 1);
  const dir = mkdtempSync(join(tmpdir(), 'takt-bench-voice-'));
  const per = new Map<string, { n: number; voiceOk: number; textOk: number }>();
  const perSnr = new Map<string, { n: number; ok: number }>();
  let voiceOk = 0;
  let textOk = 0;
  let wordsRight = 0;
  let failures = 0;
  const decodeMs: number[] = [];
  const errors: string[] = [];
  try {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      const voice = VOICES[i % VOICES.length];
      const speed = 140 + 10 * Math.floor(pick() * 6);
      const snr = SNRS[i % SNRS.length];
      const kind = NOISES[Math.floor(i / SNRS.length) % NOISES.length];
      const wav22 = await say(c.text, { voice, speed });
      const clean = samples(await toRecognizerWav(wav22)).pcm;
      const mixed = await noisy(clean, kind, snr, i);
      const typed = parse(c.text, { plant, now });
      const gold: Slots = { ...c.slots };
      if (typed.slots.period) gold.period = typed.slots.period;
      if (typed.slots.when) gold.when = typed.slots.when;
      // a decode that fails or times out counts as wrong (nothing heard), the run goes on
      const tr = await rec.transcribe(wavOf(mixed)).catch((e: unknown) => {
        failures++;
        return { text: '', ms: NaN, error: String(e) };
      });
      if (Number.isFinite(tr.ms)) decodeMs.push(tr.ms);
      const heard = parse(tr.text, { plant, now });
      const ok = sameResult(heard, c.intent, gold);
      const tOk = sameResult(typed, c.intent, gold);
      voiceOk += ok ? 1 : 0;
      textOk += tOk ? 1 : 0;
      const norm = (s: string) =>
        s
          .toLowerCase()
          .replace(/[^a-z0-9 ]/g, ' ')
          .replace(/\s+/g, ' ')
          .trim();
      if (norm(tr.text) === norm(c.text)) wordsRight++;
      const p = per.get(c.intent) ?? { n: 0, voiceOk: 0, textOk: 0 };
      p.n++;
      p.voiceOk += ok ? 1 : 0;
      p.textOk += tOk ? 1 : 0;
      per.set(c.intent, p);
      const sk = Number.isFinite(snr) ? `${snr} dB` : 'clean';
      const s = perSnr.get(sk) ?? { n: 0, ok: 0 };
      s.n++;
      s.ok += ok ? 1 : 0;
      perSnr.set(sk, s);
      if (!ok)
        errors.push(
          JSON.stringify({
            said: c.text,
            voice,
            speed,
            snr: sk,
            noise: kind,
            heard: tr.text,
            intent: heard.intent,
            slots: heard.slots,
            gold: { intent: c.intent, slots: gold },
          }),
        );
    }
  } finally {
    rec.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows: (string | number)[][] = [['intent', 'n', 'voice fully right', 'typed fully right']];
  for (const [intent, p] of per)
    rows.push([
      intent,
      p.n,
      `${((100 * p.voiceOk) / p.n).toFixed(0)}%`,
      `${((100 * p.textOk) / p.n).toFixed(0)}%`,
    ]);
  printTable(rows);
  printTable([
    ['noise', 'n', 'voice fully right'],
    ...[...perSnr].map(([k, s]) => [k, s.n, `${((100 * s.ok) / s.n).toFixed(0)}%`]),
  ]);
  if (flags.errors) for (const e of errors) console.log(e);
  decodeMs.sort((a, b) => a - b);
  const voiceAcc = voiceOk / cases.length;
  const textAcc = textOk / cases.length;
  console.log(
    `SYNTHETIC VOICE (espeak-ng ${VOICES.join(', ')}; 140..190 wpm; ${NOISES.join('/')} at ${SNRS.map((s) => (Number.isFinite(s) ? `${s} dB` : 'clean')).join(', ')} SNR): ` +
      `${(100 * voiceAcc).toFixed(1)}% fully right (intent and slots) over ${cases.length} utterances; typed text ${(100 * textAcc).toFixed(1)}%; ` +
      `transcript word-exact ${wordsRight}/${cases.length}; decode median ${decodeMs[Math.floor(decodeMs.length / 2)]} ms (machine loaded)`,
  );
  finalLine({
    bench: 'voice',
    synthetic: true,
    utterances: cases.length,
    voiceAcc: Number(voiceAcc.toFixed(3)),
    typedAcc: Number(textAcc.toFixed(3)),
    voiceVsTyped: textAcc ? Number((voiceAcc / textAcc).toFixed(3)) : null,
    wordExact: Number((wordsRight / cases.length).toFixed(3)),
    decodeMedianMs: decodeMs[Math.floor(decodeMs.length / 2)],
    grammarWords: rec.grammar.words.length,
    decodeFailures: failures,
  });
}
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
