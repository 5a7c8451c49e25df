import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { parse, type Plant } from '../../nodes/assistant';
import demo from '../../nodes/assistant/demo-plant.json';
import {
  buildGrammar,
  DEFAULT_MODEL_DIR,
  numberWords,
  Recognizer,
  run,
  say,
  spokenWords,
  toRecognizerWav,
  wavInfo,
} from '../../nodes/assistant/voice';
import { english } from '../../nodes/assistant/parse';
import { requireVoice } from '../helpers/voice';

const plant = demo as Plant;
const NOW = Date.UTC(2026, 0, 7, 10, 30);

/** A 16-bit PCM WAV header + silence. */
function wav(rate: number, channels: number, samples = 1600): Buffer {
  const b = Buffer.alloc(44 + samples * 2 * channels);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + samples * 2 * channels, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2 * channels, 28);
  b.writeUInt16LE(2 * channels, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(samples * 2 * channels, 40);
  return b;
}

describe('assistant voice: grammar and dictionary', () => {
  it('splits names into spoken words', () => {
    assert.deepEqual(spokenWords('BoreDiameterOffset'), ['bore', 'diameter', 'offset']);
    assert.deepEqual(spokenWords('ORD-105'), ['ord', '105']);
    assert.deepEqual(spokenWords('CNC1'), ['cnc', '1']);
    assert.deepEqual(spokenWords('packs/min'), ['packs', 'min']);
  });

  it('says integers in words from the language data', () => {
    assert.equal(numberWords(182, english).join(' '), 'one hundred and eighty two');
    assert.equal(numberWords(182, english, false).join(' '), 'one hundred eighty two');
    assert.equal(numberWords(2000, english).join(' '), 'two thousand');
    assert.equal(numberWords(2705, english).join(' '), 'two thousand seven hundred and five');
    assert.equal(numberWords(40, english).join(' '), 'forty');
    assert.equal(numberWords(17, english).join(' '), 'seventeen');
  });

  it('builds the grammar from the intents and the plant, and pronounces words missing from the dictionary', function () {
    if (!existsSync(`${DEFAULT_MODEL_DIR}/cmudict-en-us.dict`)) return requireVoice(this);
    const g = buildGrammar(plant);
    assert.match(g.jsgf, /^#JSGF V1\.0;/);
    for (const intent of ['set_parameter', 'why_stopped', 'rush_order', 'help'])
      assert.match(g.jsgf, new RegExp(`<i_${intent}>`));
    assert.ok(g.jsgf.includes('cnc one'), 'machine alias');
    assert.ok(g.jsgf.includes('spindle speed'), 'parameter alias');
    assert.ok(g.jsgf.includes('bore diameter offset'), 'parameter name split at capitals');
    // "cnc" and "oee" are not in cmudict: spelled by letter names
    assert.ok(g.fallback.includes('cnc') && g.fallback.includes('oee'));
    assert.match(g.dict, /^cnc S IY EH N S IY$/m);
    // the order number 105: digit by digit and as a number
    assert.match(g.dict, /^105 W AH N Z IH R OW F AY V$/m);
    assert.match(g.dict, /^105\(\d\) W AH N HH AH N D R AH D AH N D F AY V$/m);
    // every grammar word has a pronunciation
    const dictWords = new Set(g.dict.split('\n').map((l) => l.split(' ')[0].replace(/\(\d+\)$/, '')));
    for (const w of g.words) assert.ok(dictWords.has(w), w);
  });

  it("follows another plant's names (no fixed sentence list)", function () {
    if (!existsSync(`${DEFAULT_MODEL_DIR}/cmudict-en-us.dict`)) return requireVoice(this);
    const other: Plant = {
      machines: [
        {
          id: 'Lathe7',
          name: 'lathe 7',
          aliases: ['zx lathe'],
          parameters: [{ name: 'FeedRate', unit: 'mm' }],
        },
      ],
      orders: [{ id: 'WO-88' }],
    };
    const g = buildGrammar(other);
    assert.ok(g.jsgf.includes('zx lathe') && g.jsgf.includes('feed rate') && g.jsgf.includes(' 88 '));
    assert.ok(!g.jsgf.includes('cnc one'));
    assert.match(g.dict, /^zx Z IY EH K S$/m);
    assert.match(g.dict, /^7 S EH V AH N$/m);
  });

  it('reads WAV formats and refuses what is not a WAV', () => {
    assert.deepEqual(wavInfo(wav(16000, 1)), { format: 1, channels: 1, sampleRate: 16000, bits: 16 });
    assert.deepEqual(wavInfo(wav(44100, 2)), { format: 1, channels: 2, sampleRate: 44100, bits: 16 });
    assert.throws(() => wavInfo(Buffer.from('ID3 this is an mp3')), { code: 'voice.badAudio' });
    assert.throws(() => wavInfo(Buffer.alloc(0)), { code: 'voice.badAudio' });
  });

  it('names the Debian package when a binary is missing', async () => {
    await assert.rejects(
      run('takt-no-such-binary', [], { timeoutMs: 5000, packages: 'takt-pkg' }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'voice.missingBinary');
        assert.match(e.message, /takt-no-such-binary not found: install the Debian package\(s\) takt-pkg/);
        return true;
      },
    );
  });

  it('names the model package when the acoustic model is missing', () => {
    assert.throws(
      () => new Recognizer(plant, { modelDir: '/nonexistent/model' }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'voice.missingModel');
        assert.match(e.message, /pocketsphinx-en-us/);
        return true;
      },
    );
  });
});

describe('assistant voice: round trip with the real binaries', function () {
  this.timeout(240000);
  let rec: Recognizer;
  before(function () {
    requireVoice(this);
    rec = new Recognizer(plant, { timeoutMs: 120000 });
  });
  after(() => rec?.dispose());

  it('says text as a WAV and converts it to 16 kHz mono', async () => {
    const w = await say('the oven is running', { voice: 'en-us', speed: 160 });
    const info = wavInfo(w);
    assert.equal(info.channels, 1);
    assert.notEqual(info.sampleRate, 16000);
    const c = await toRecognizerWav(w);
    assert.deepEqual(wavInfo(c), { format: 1, channels: 1, sampleRate: 16000, bits: 16 });
  });

  it('refuses empty text', async () => {
    await assert.rejects(say('   '), { code: 'voice.emptyText' });
  });

  it('decodes only words of the grammar, and hears a spoken command right', async () => {
    const t = await rec.transcribe(await say('put order 105 first', { voice: 'en-us', speed: 150 }));
    const words = new Set(rec.grammar.words);
    for (const w of t.text.split(' ').filter(Boolean)) assert.ok(words.has(w), `${w} in ${t.text}`);
    const r = parse(t.text, { plant, now: NOW });
    assert.equal(r.intent, 'rush_order', t.text);
    assert.deepEqual(r.slots, { order: 'ORD-105' }, t.text);
  });

  it("hears another plant's machine from a grammar built for it", async () => {
    const other: Plant = { machines: [{ id: 'Lathe7', name: 'lathe 7', aliases: ['zx lathe'] }] };
    const r2 = new Recognizer(other, { timeoutMs: 120000 });
    try {
      const t = await r2.transcribe(await say('stop the zx lathe', { voice: 'en-us', speed: 150 }));
      const r = parse(t.text, { plant: other, now: NOW });
      assert.equal(r.intent, 'stop_machine', t.text);
      assert.equal(r.slots.machine, 'Lathe7', t.text);
    } finally {
      r2.dispose();
    }
  });
});
