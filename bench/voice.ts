/**
 * bench:voice: the synthetic voice round trip. Operator utterances are spoken by espeak-ng with several voices
 * and speeds, mixed with white or brown noise from sox at a stated SNR, decoded by the voice engine
 * (pocketsphinx; by default the domain language model built from the voice language data and the plant,
 * `--search grammar` for the JSGF grammar) and parsed. Fully right = the gold intent and every slot. A
 * SYNTHETIC-VOICE figure: espeak is far easier than people on a shop floor.
 *
 * Two sets: `--set gen` (default) generated utterances over every intent and the demo plant
 * (bench/lib/voice-commands.ts, written apart from the voice language data; times compared with the parser's
 * reading of the typed text); `--set eval` the in-scope utterances of the parser's evaluation set
 * (bench/data/assistant, written by a helper who never saw the parser or the voice data: held out for the
 * voice side too), with their gold.
 * Per stage: decoding (word error rate against the spoken text, numbers written as words; word-exact
 * transcripts), parsing (the typed text through the same parser: the ceiling the voice side can reach), and
 * the round trip, with the decoder's best hypothesis alone and after the parser's pick among the second pass's
 * hypothesis and the n-best; the
 * decode time of every command (p50, p95, max).
 *
 * `--audio-cache DIR` keeps the synthesized and mixed audio (keyed by text, voice, speed, noise and SNR), so a
 * rerun decodes the same audio without espeak-ng and sox; `--dump FILE` writes every case's passes (scored
 * hypotheses) as JSON lines, for reading errors.
 *
 *   npm run bench:voice [-- --n 100 --seed 7 --set gen|eval --search lm|grammar --second-pass on --errors
 *                          --limit 20 --audio-cache DIR --dump FILE]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { english, parse, type Plant, type Slots } from '../nodes/assistant';
import {
  numberWords,
  pcm16,
  pickHeard,
  Recognizer,
  run,
  say,
  spokenWords,
  toRecognizerWav,
  wav16,
} from '../nodes/assistant/voice';
import { EVAL_NOW, readGold, sameSlots } from './lib/assistant-eval';
import { finalLine, numberFlag, parseFlags, printTable, ROOT } from './lib/cli';
import { generate, rng } from './lib/voice-commands';

const flags = parseFlags();
const n = numberFlag(flags, 'n', 100);
const seed = numberFlag(flags, 'seed', 7);
const set = flags.set === 'eval' ? 'eval' : 'gen';
const search = flags.search === 'grammar' ? 'grammar' : 'lm';
/** `--second-pass on`: the sentence-pattern grammar beside the language model (off by default, as in the node). */
const secondPass = flags['second-pass'] === 'on';
const limit = numberFlag(flags, 'limit', Infinity);
const audioCache = typeof flags['audio-cache'] === 'string' ? flags['audio-cache'] : undefined;
const dump = typeof flags.dump === 'string' ? flags.dump : undefined;
const plant = JSON.parse(readFileSync(join(ROOT, 'nodes', 'assistant', 'demo-plant.json'), 'utf8')) as Plant;
const VOICES = ['en-us', 'en-gb', 'en+m3', 'en+f2', 'en-us+m7', 'en+f4'];
/** Signal-to-noise ratios in dB; Infinity = clean. */
const SNRS = [Infinity, 20, 15, 10];
const NOISES = ['whitenoise', 'brownnoise'];

interface Case {
  text: string;
  intent: string;
  slots: Slots;
  /** Take period/when from the parser's reading of the typed text (generated set). */
  timesFromTyped: boolean;
}
function cases(): { list: Case[]; now: number } {
  if (set === 'gen')
    return {
      list: generate(plant, n, seed).map((c) => ({ ...c, timesFromTyped: true })),
      now: Date.UTC(2026, 0, 7, 10, 30),
    };
  const gold = readGold(join(ROOT, 'bench', 'data', 'assistant', 'utterances.json'));
  const inScope = gold.utterances.filter((u) => u.intent !== 'out_of_scope');
  // every k-th in-scope utterance: spread over the intents, no choice by content
  const step = Math.max(1, Math.floor(inScope.length / n));
  const list = inScope
    .filter((_, i) => i % step === 0)
    .slice(0, n)
    .map((u) => ({ ...u, timesFromTyped: false }));
  return { list, now: gold.now ?? EVAL_NOW };
}

/** The words of a text as spoken: lower case, digits as number words (for the word error rate). */
function spokenForm(text: string): string[] {
  return spokenWords(text.replace(/(\d)\.(\d)/g, '$1 point $2'))
    .flatMap((w) =>
      /^\d+$/.test(w) && Number(w) < 1e6 ? numberWords(Number(w), english, false) : [w === 'and' ? '' : w],
    )
    .filter((w) => w !== '');
}
/** Word edit distance. */
function editDistance(a: string[], b: string[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
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
  const noise = pcm16(r.stdout).subarray(i % 16000);
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

const pct = (x: number, of: number) => `${((100 * x) / Math.max(1, of)).toFixed(0)}%`;
const quantile = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** The spoken, noise-mixed 16 kHz audio of one case (from the audio cache when it holds it). */
async function spoken(text: string, voice: string, speed: number, kind: string, snr: number, i: number) {
  const key = createHash('sha1')
    .update(JSON.stringify([text, voice, speed, kind, snr, i % 16000]))
    .digest('hex')
    .slice(0, 16);
  const file = audioCache ? join(audioCache, `${key}.wav`) : undefined;
  if (file && existsSync(file)) return readFileSync(file);
  const clean = pcm16(await toRecognizerWav(await say(text, { voice, speed })));
  const wav = wav16(await noisy(clean, kind, snr, i));
  if (file) {
    mkdirSync(audioCache as string, { recursive: true });
    writeFileSync(file, wav);
  }
  return wav;
}

/** period/when gold from the parser's reading of the typed text (generated set), else none. */
function timesOf(typed: { slots: Slots }, c: Case): Slots {
  if (!c.timesFromTyped) return {};
  const out: Slots = {};
  if (typed.slots.period) out.period = typed.slots.period;
  if (typed.slots.when) out.when = typed.slots.when;
  return out;
}

async function main() {
  const all = cases();
  const list = all.list.slice(0, limit);
  const now = all.now;
  const rec = new Recognizer(plant, { timeoutMs: 90000, search, secondPass });
  console.log(
    `${search === 'lm' ? 'domain language model' : 'grammar'}: ${rec.model.words.length} words, ${rec.model.fallback.length} pronounced by fallback (${rec.model.fallback.slice(0, 12).join(', ')}${rec.model.fallback.length > 12 ? ', …' : ''}); set ${set}, ${list.length} utterances`,
  );
  const pick = rng(seed + 1);
  const per = new Map<string, { n: number; voiceOk: number; textOk: number; intentOk: number }>();
  const perSnr = new Map<string, { n: number; ok: number; edits: number; words: number }>();
  const perVoice = new Map<string, { n: number; ok: number }>();
  let voiceOk = 0;
  let textOk = 0;
  let intentOk = 0;
  let wordsRight = 0;
  let edits = 0;
  let refWords = 0;
  let failures = 0;
  let decodeWrongTypedRight = 0;
  /** The decoder's best hypothesis fully right (before the parser's n-best pick), and how often the pick changed it. */
  let bestOk = 0;
  let picked = 0;
  /** How often the second pass's (grammar) hypothesis was passed on. */
  let secondPicked = 0;
  const decodeMs: number[] = [];
  /** Decode time of the first pass alone (the language model). */
  const firstMs: number[] = [];
  /** Fully right with the first pass alone (secondPass off), from the same decodes. */
  let firstOnlyOk = 0;
  const dumped: string[] = [];
  const errors: string[] = [];
  try {
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      const voice = VOICES[i % VOICES.length];
      const speed = 140 + 10 * Math.floor(pick() * 6);
      const snr = SNRS[i % SNRS.length];
      const kind = NOISES[Math.floor(i / SNRS.length) % NOISES.length];
      const mixed = await spoken(c.text, voice, speed, kind, snr, i);
      const typed = parse(c.text, { plant, now });
      const gold: Slots = { ...c.slots, ...timesOf(typed, c) };
      // a decode that fails or times out counts as wrong (nothing heard), the run goes on
      const tr = await rec.transcribe(mixed).catch((e: unknown) => {
        failures++;
        return {
          text: '',
          best: '',
          alternatives: [],
          grammar: '',
          ms: NaN,
          passes: undefined,
          error: String(e),
        };
      });
      if (Number.isFinite(tr.ms)) decodeMs.push(tr.ms);
      if (tr.passes) firstMs.push(tr.passes.first.ms);
      // the same first pass without the second: what the recognizer passes on with secondPass off
      const alone = secondPass ? pickHeard(tr.best, tr.alternatives, plant) : tr.text;
      const aloneHeard = parse(alone, { plant, now });
      if (aloneHeard.intent === c.intent && sameSlots(aloneHeard.slots, { ...c.slots, ...timesOf(typed, c) }))
        firstOnlyOk++;
      if (dump)
        dumped.push(
          JSON.stringify({
            i,
            said: c.text,
            gold: { intent: c.intent, slots: gold },
            voice,
            speed,
            snr,
            kind,
            passes: tr.passes,
          }),
        );
      const heard = parse(tr.text, { plant, now });
      const ok = heard.intent === c.intent && sameSlots(heard.slots, gold);
      const first = tr.best === tr.text ? heard : parse(tr.best, { plant, now });
      if (first.intent === c.intent && sameSlots(first.slots, gold)) bestOk++;
      if (tr.best !== tr.text) picked++;
      if (tr.grammar && tr.text === tr.grammar && tr.best !== tr.text) secondPicked++;
      const tOk = typed.intent === c.intent && sameSlots(typed.slots, gold);
      const ref = spokenForm(c.text);
      const hyp = spokenForm(tr.text);
      const e = editDistance(ref, hyp);
      edits += e;
      refWords += ref.length;
      if (e === 0) wordsRight++;
      voiceOk += ok ? 1 : 0;
      textOk += tOk ? 1 : 0;
      intentOk += heard.intent === c.intent ? 1 : 0;
      if (tOk && !ok) decodeWrongTypedRight++;
      const p = per.get(c.intent) ?? { n: 0, voiceOk: 0, textOk: 0, intentOk: 0 };
      p.n++;
      p.voiceOk += ok ? 1 : 0;
      p.textOk += tOk ? 1 : 0;
      p.intentOk += heard.intent === c.intent ? 1 : 0;
      per.set(c.intent, p);
      const sk = Number.isFinite(snr) ? `${snr} dB ${kind === 'whitenoise' ? 'white' : 'brown'}` : 'clean';
      const s = perSnr.get(sk) ?? { n: 0, ok: 0, edits: 0, words: 0 };
      s.n++;
      s.ok += ok ? 1 : 0;
      s.edits += e;
      s.words += ref.length;
      perSnr.set(sk, s);
      const v = perVoice.get(voice) ?? { n: 0, ok: 0 };
      v.n++;
      v.ok += ok ? 1 : 0;
      perVoice.set(voice, v);
      if (!ok)
        errors.push(
          JSON.stringify({
            said: c.text,
            voice,
            speed,
            snr: sk,
            heard: tr.text,
            ...(tr.best !== tr.text ? { best: tr.best } : {}),
            ...(tr.grammar !== undefined ? { grammar: tr.grammar } : {}),
            intent: heard.intent,
            slots: heard.slots,
            typedRight: tOk,
            gold: { intent: c.intent, slots: gold },
          }),
        );
    }
  } finally {
    rec.dispose();
  }
  if (dump) writeFileSync(dump, dumped.join('\n') + '\n');
  const rows: (string | number)[][] = [
    ['intent', 'n', 'voice intent', 'voice fully right', 'typed fully right'],
  ];
  for (const [intent, p] of per)
    rows.push([intent, p.n, pct(p.intentOk, p.n), pct(p.voiceOk, p.n), pct(p.textOk, p.n)]);
  printTable(rows);
  printTable([
    ['noise', 'n', 'word error rate', 'voice fully right'],
    ...[...perSnr].map(([k, s]) => [k, s.n, pct(s.edits, s.words), pct(s.ok, s.n)]),
  ]);
  printTable([['voice', 'n', 'fully right'], ...[...perVoice].map(([k, v]) => [k, v.n, pct(v.ok, v.n)])]);
  if (flags.errors) for (const e of errors) console.log(e);
  decodeMs.sort((a, b) => a - b);
  firstMs.sort((a, b) => a - b);
  const total = list.length;
  const voiceAcc = voiceOk / total;
  const textAcc = textOk / total;
  const wer = edits / Math.max(1, refWords);
  printTable([
    ['stage', 'figure'],
    ['decoding: word error rate (numbers as words)', `${(100 * wer).toFixed(1)}%`],
    ['decoding: transcripts word-exact', `${wordsRight}/${total}`],
    ['parsing: typed text fully right (ceiling)', `${textOk}/${total}`],
    ['round trip: intent right', `${intentOk}/${total}`],
    ['round trip, decoder best only: fully right', `${bestOk}/${total}`],
    ['n-best: the parser passed on another hypothesis', `${picked}/${total}`],
    ['of which the second pass (sentence-pattern grammar)', `${secondPicked}/${total}`],
    ['round trip: fully right', `${voiceOk}/${total}`],
    ['round trip with the first pass alone (second pass off): fully right', `${firstOnlyOk}/${total}`],
    ['lost in decoding (typed right, voice wrong)', `${decodeWrongTypedRight}/${total}`],
    [
      'decode time per command p50 / p95 / max',
      `${quantile(decodeMs, 0.5)} / ${quantile(decodeMs, 0.95)} / ${decodeMs[decodeMs.length - 1]} ms`,
    ],
    ['first pass alone p50 / p95', `${quantile(firstMs, 0.5)} / ${quantile(firstMs, 0.95)} ms`],
  ]);
  console.log(
    `SYNTHETIC VOICE (espeak-ng ${VOICES.join(', ')}; 140..190 wpm; ${NOISES.join('/')} at ${SNRS.map((s) => (Number.isFinite(s) ? `${s} dB` : 'clean')).join(', ')} SNR; set ${set}; ${search}${secondPass && search === 'lm' ? ' + pattern grammar' : ''}): ` +
      `${(100 * voiceAcc).toFixed(1)}% fully right (intent and slots) over ${total} utterances; typed text ${(100 * textAcc).toFixed(1)}%; ` +
      `word error rate ${(100 * wer).toFixed(1)}%; decode p50 ${quantile(decodeMs, 0.5)} ms (machine loaded)`,
  );
  finalLine({
    bench: 'voice',
    synthetic: true,
    set,
    search,
    secondPass,
    utterances: total,
    voiceAcc: Number(voiceAcc.toFixed(3)),
    typedAcc: Number(textAcc.toFixed(3)),
    voiceVsTyped: textAcc ? Number((voiceAcc / textAcc).toFixed(3)) : null,
    intentAcc: Number((intentOk / total).toFixed(3)),
    bestOnlyAcc: Number((bestOk / total).toFixed(3)),
    firstPassAcc: Number((firstOnlyOk / total).toFixed(3)),
    firstPassMedianMs: quantile(firstMs, 0.5),
    firstPassP95Ms: quantile(firstMs, 0.95),
    secondPassPicked: secondPicked,
    wer: Number(wer.toFixed(3)),
    wordExact: Number((wordsRight / total).toFixed(3)),
    decodeMedianMs: quantile(decodeMs, 0.5),
    decodeP95Ms: quantile(decodeMs, 0.95),
    decodeMaxMs: decodeMs[decodeMs.length - 1],
    grammarWords: rec.model.words.length,
    decodeFailures: failures,
  });
}
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
