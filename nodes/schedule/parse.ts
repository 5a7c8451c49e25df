/**
 * Readers for the two standard benchmark text formats, producing a SchedulingProblem.
 * - JSPLIB / OR-Library job shop: optional `#` comment lines, "n m", then one line per job of
 *   "machine duration" pairs (machines 0-based). Jobs are named J0.., machines M0...
 * - Brandimarte flexible job shop (.fjs): "n m [avg]", then per job: the number of operations and,
 *   per operation, k followed by k "machine duration" pairs (machines 1-based). Same names, 0-based.
 */
import { TaktError } from '../core/errors';
import type { SchedulingProblem } from './types';

function numbers(text: string, what: string): number[] {
  const body = text
    .split(/\r?\n/)
    .filter((l) => !l.trimStart().startsWith('#'))
    .join(' ')
    .trim();
  if (body === '') throw new TaktError('schedule.badText', `${what}: no data`);
  return body.split(/\s+/).map((t, k) => {
    const v = Number(t);
    if (!Number.isFinite(v))
      throw new TaktError(
        'schedule.badText',
        `${what}: token ${k + 1} (${JSON.stringify(t)}) is not a number`,
      );
    return v;
  });
}

function machines(m: number): SchedulingProblem['machines'] {
  return Array.from({ length: m }, (_, k) => ({ id: `M${k}` }));
}

export function parseJsplib(text: string): SchedulingProblem {
  const v = numbers(text, 'job-shop text');
  const [n, m] = v;
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || m < 1)
    throw new TaktError('schedule.badText', 'job-shop text: the first line must be "jobs machines"');
  // Each job line has m pairs in the standard files; read line by line when the counts differ.
  const lines = text
    .split(/\r?\n/)
    .filter((l) => !l.trimStart().startsWith('#') && l.trim() !== '')
    .slice(1);
  const jobs: SchedulingProblem['jobs'] = [];
  const perLine = lines.length === n;
  let p = 2;
  for (let j = 0; j < n; j++) {
    const row = perLine ? lines[j].trim().split(/\s+/).map(Number) : v.slice(p, p + 2 * m);
    p += 2 * m;
    if (row.length % 2 !== 0 || row.length === 0 || row.some((x) => !Number.isInteger(x)))
      throw new TaktError(
        'schedule.badText',
        `job-shop text: job ${j} must list integer "machine duration" pairs`,
      );
    const operations = [];
    for (let k = 0; k < row.length; k += 2) {
      if (row[k] < 0 || row[k] >= m)
        throw new TaktError(
          'schedule.badText',
          `job-shop text: job J${j} operation ${k / 2} names machine ${row[k]} (0..${m - 1})`,
        );
      operations.push({ alternatives: [{ machine: `M${row[k]}`, duration: row[k + 1] }] });
    }
    jobs.push({ id: `J${j}`, operations });
  }
  return { machines: machines(m), jobs };
}

export function parseFjs(text: string): SchedulingProblem {
  const v = numbers(text, 'fjs text');
  const [n, m] = v;
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || m < 1)
    throw new TaktError('schedule.badText', 'fjs text: the first line must be "jobs machines [average]"');
  // The third header number is optional: the first job line starts on the second line.
  const firstLine = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trimStart().startsWith('#')) ?? '';
  let p = firstLine.trim().split(/\s+/).length;
  const need = (what: string) => {
    if (p >= v.length) throw new TaktError('schedule.badText', `fjs text: ended early while reading ${what}`);
    const x = v[p++];
    if (!Number.isInteger(x) || x < 0)
      throw new TaktError('schedule.badText', `fjs text: ${what} must be an integer >= 0, got ${x}`);
    return x;
  };
  const jobs: SchedulingProblem['jobs'] = [];
  for (let j = 0; j < n; j++) {
    const nOps = need(`the operation count of job ${j}`);
    const operations = [];
    for (let o = 0; o < nOps; o++) {
      const k = need(`the machine count of job J${j} operation ${o}`);
      const alternatives = [];
      for (let a = 0; a < k; a++) {
        const mc = need(`a machine of job J${j} operation ${o}`);
        if (mc < 1 || mc > m)
          throw new TaktError(
            'schedule.badText',
            `fjs text: job J${j} operation ${o} names machine ${mc} (1..${m})`,
          );
        alternatives.push({
          machine: `M${mc - 1}`,
          duration: need(`a duration of job J${j} operation ${o}`),
        });
      }
      operations.push({ alternatives });
    }
    jobs.push({ id: `J${j}`, operations });
  }
  return { machines: machines(m), jobs };
}
