/**
 * Every status text a node can show is a few plain words under 20 characters: the locale files' status
 * keys (with representative values in their placeholders), the texts the adaptors write themselves, and the
 * words every error code in nodes/ turns into (core/status.ts errorWords). A new code or status text that
 * reads like code ("notNumeric") or runs long fails here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { errorWords } from '../../nodes/core/status';
import { ROOT } from '../helpers/paths';

const NODES = join(ROOT, 'nodes');

function files(dir: string, keep: (f: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name), keep) : keep(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Representative values for the locale placeholders (__n__ and so on); any other reads as "120". */
const SAMPLE: Record<string, string> = {
  task: 'regression',
  kind: 'autoencoder',
  rule: '1,2',
  gap: '12.5',
  rmse: '0.123',
  ridge: '0.01',
  acc: '0.95',
  makespan: '1440',
  kw: '1200',
};
const render = (t: string) => t.replace(/__(\w+)__/g, (_m, k: string) => SAMPLE[k] ?? '120');

/** Units written the way engineers write them. */
const UNITS = /\b(kW|kWh|MWh|kB|MB|mA|mV|Hz|kHz)\b/g;

/** Why `text` is not a short plain status, or undefined. */
function fault(text: string): string | undefined {
  if (text.length >= 20) return `${text.length} characters`;
  const bare = text.replace(UNITS, '');
  if (/[a-z][A-Z]/.test(bare)) return 'camelCase, reads like a code';
  if (/[A-Za-z]\.[A-Za-z]/.test(bare)) return 'dotted, reads like a code';
  if (/__|\$\{/.test(text)) return 'unfilled placeholder';
  return undefined;
}

interface Shown {
  where: string;
  text: string;
}

function localeTexts(): Shown[] {
  const out: Shown[] = [];
  for (const f of files(NODES, (n) => n.endsWith('.json')).filter((f) => /locales[\\/]en-US/.test(f))) {
    const walk = (o: unknown, path: string[]) => {
      if (typeof o === 'string') {
        if (path.includes('status'))
          out.push({ where: `${relative(ROOT, f)} ${path.join('.')}`, text: render(o) });
      } else if (o && typeof o === 'object')
        for (const [k, v] of Object.entries(o as Record<string, unknown>)) walk(v, [...path, k]);
    };
    walk(JSON.parse(readFileSync(f, 'utf8')), []);
  }
  return out;
}

/** status.ready('…') / status.error(`… ${x}`) written in the adaptors (template values read as "12"). */
function literalTexts(): Shown[] {
  const out: Shown[] = [];
  const call =
    /status\.(?:ready|connected|connecting|warning|disconnected|error|busy|idle)\(\s*(?:'([^']*)'|`((?:[^`$]|\$\{(?:[^{}]|\{[^{}]*\})*\})*)`)/g;
  for (const f of files(NODES, (n) => n.endsWith('.ts'))) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(call)) {
      const text = m[1] ?? m[2].replace(/\$\{(?:[^{}]|\{[^{}]*\})*\}/g, '12');
      out.push({ where: relative(ROOT, f), text });
    }
  }
  return out;
}

/** Every literal TaktError code in nodes/, and the status words it shows. */
function codeTexts(): Shown[] {
  const out: Shown[] = [];
  for (const f of files(NODES, (n) => n.endsWith('.ts'))) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/TaktError\(\s*['`]([a-z][A-Za-z0-9]*\.[A-Za-z0-9]+)['`]/g))
      out.push({ where: `${relative(ROOT, f)} ${m[1]}`, text: errorWords(m[1]) });
  }
  return out;
}

/**
 * Texts allowed to stay long for now, each as "<file> <key or text>" (none today). Each entry must still match,
 * so the list cannot outlive its texts.
 */
const PENDING: readonly string[] = [];

describe('status texts (plain words, under 20 characters)', () => {
  const all = [...localeTexts(), ...literalTexts(), ...codeTexts()];

  it('finds the texts: locale keys, adaptor literals and error codes', () => {
    assert.ok(localeTexts().length > 30, `${localeTexts().length} locale status texts`);
    assert.ok(literalTexts().length > 50, `${literalTexts().length} literal status texts`);
    assert.ok(codeTexts().length > 150, `${codeTexts().length} error codes`);
    assert.ok(codeTexts().some((c) => c.where.endsWith('sample.notNumeric') && c.text === 'not a number'));
  });

  it('every status text is short plain words', () => {
    const bad = all
      .map((s) => ({ ...s, why: fault(s.text) }))
      .filter(
        (s) =>
          s.why !== undefined && !PENDING.some((p) => `${s.where} ${s.text}`.startsWith(p) || s.where === p),
      );
    assert.deepEqual(
      bad.map((s) => `${s.where}: "${s.text}" (${s.why})`),
      [],
    );
  });

  it('every pending exception still exists and still needs shortening', () => {
    for (const p of PENDING)
      assert.ok(
        all.some((s) => (s.where === p || `${s.where} ${s.text}` === p) && fault(s.text) !== undefined),
        `${p} is fixed or gone: delete it from PENDING`,
      );
  });
});
