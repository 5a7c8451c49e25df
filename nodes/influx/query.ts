/**
 * Reading history back (takt-influx-query): a time range (absolute, or relative like "-6h"), a
 * measurement with field and tag filters, or a raw InfluxQL (v1) / Flux (v2) query with named parameters.
 * Parameters are never pasted into the query text: InfluxQL gets bound parameters (`$name` with `params`),
 * Flux a `params` record of literals escaped by the client library; InfluxQL identifiers are quoted and escaped.
 * Results stream in chunks (InfluxDB 1.x `chunked=true`, the client's row iterator for Flux), each chunk
 * turned into samples, aligned rows or CSV.
 */
import { TaktError } from '../core/errors';
import type { Sample } from '../core/sample';
import { toEpochMs } from '../core/time';
import {
  fluxBool,
  fluxDateTime,
  fluxFloat,
  fluxInteger,
  fluxString,
  HttpError,
} from '@influxdata/influxdb-client';
import { clientFor, type ServerOptions } from './transport';

export type QueryOutput = 'samples' | 'rows' | 'csv';

export interface QueryRequest {
  start: string | number;
  stop?: string | number;
  measurement?: string;
  fields?: readonly string[];
  tags?: Readonly<Record<string, string>>;
  /** A raw InfluxQL (v1) or Flux (v2) query; `$name` (InfluxQL) or `params.name` (Flux) for parameters. */
  raw?: string;
  params?: Readonly<Record<string, string | number | boolean>>;
  /** Rows per chunk (InfluxDB 1.x); chunks are also cut at this many rows for Flux. */
  chunkSize?: number;
}

/** One table of a chunk: a series (measurement + tags) with columns; the first column is the time (epoch ms). */
export interface SeriesChunk {
  measurement: string;
  tags: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

const RELATIVE = /^-\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
const UNIT: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 };

/** Epoch ms from an absolute time (epoch ms/s, ISO 8601) or a relative one ("-15m", "-7d"; "now"). */
export function resolveTime(v: string | number, now: number, field = 'start'): number {
  if (typeof v === 'string') {
    const s = v.trim();
    if (s === 'now' || s === '') return now;
    const m = RELATIVE.exec(s);
    if (m) return now - Number(m[1]) * UNIT[m[2]];
  }
  return toEpochMs(v, field);
}

/** An InfluxQL identifier in double quotes, with `"` and `\` escaped. */
export function quoteIdent(s: string): string {
  if (s === '') throw new TaktError('influx.badIdent', 'an identifier must not be empty', 'measurement');
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

/** InfluxQL text and its bound parameters for a request. Values never enter the text. */
export function buildInfluxQl(r: QueryRequest, now: number): { q: string; params: Record<string, unknown> } {
  const start = resolveTime(r.start, now, 'start');
  const stop = r.stop === undefined ? now : resolveTime(r.stop, now, 'stop');
  if (!(stop > start)) throw new TaktError('influx.badRange', 'stop: must be after start', 'stop');
  const params: Record<string, unknown> = {
    ...(r.params ?? {}),
    start: new Date(start).toISOString(),
    stop: new Date(stop).toISOString(),
  };
  if (r.raw !== undefined && r.raw.trim() !== '') return { q: r.raw, params };
  if (!r.measurement) {
    throw new TaktError(
      'influx.noMeasurement',
      'measurement: give a measurement or a raw query',
      'measurement',
    );
  }
  const cols = r.fields && r.fields.length ? r.fields.map(quoteIdent).join(',') : '*';
  let where = 'time >= $start AND time < $stop';
  Object.entries(r.tags ?? {}).forEach(([k, v], i) => {
    params[`tag${i}`] = v;
    where += ` AND ${quoteIdent(k)} = $tag${i}`;
  });
  return { q: `SELECT ${cols} FROM ${quoteIdent(r.measurement)} WHERE ${where} GROUP BY *`, params };
}

/** A Flux literal for a parameter value, escaped by the client library (never pasted as text). */
function fluxLiteral(v: unknown): string {
  if (typeof v === 'boolean') return fluxBool(v).toString();
  if (typeof v === 'number') return (Number.isInteger(v) ? fluxInteger(v) : fluxFloat(v)).toString();
  return fluxString(String(v)).toString();
}

/**
 * A Flux query for a request. Values travel in a `params` record declared at the top of the query, each
 * an escaped Flux literal (the client library's fluxString/fluxFloat/...); the query reads `params.x`.
 */
export function buildFlux(r: QueryRequest, bucket: string, now: number): string {
  const start = resolveTime(r.start, now, 'start');
  const stop = r.stop === undefined ? now : resolveTime(r.stop, now, 'stop');
  if (!(stop > start)) throw new TaktError('influx.badRange', 'stop: must be after start', 'stop');
  const params: Record<string, unknown> = { ...(r.params ?? {}), bucket };
  let body: string;
  if (r.raw !== undefined && r.raw.trim() !== '') body = r.raw;
  else {
    if (!r.measurement) {
      throw new TaktError(
        'influx.noMeasurement',
        'measurement: give a measurement or a raw query',
        'measurement',
      );
    }
    params.measurement = r.measurement;
    const conds = ['r._measurement == params.measurement'];
    (r.fields ?? []).forEach((f, i) => (params[`field${i}`] = f));
    if (r.fields?.length)
      conds.push(`(${r.fields.map((_, i) => `r._field == params.field${i}`).join(' or ')})`);
    Object.entries(r.tags ?? {}).forEach(([k, v], i) => {
      params[`tagKey${i}`] = k;
      params[`tag${i}`] = v;
      conds.push(`r[params.tagKey${i}] == params.tag${i}`);
    });
    body =
      'from(bucket: params.bucket)\n' +
      '  |> range(start: params.start, stop: params.stop)\n' +
      `  |> filter(fn: (r) => ${conds.join(' and ')})\n` +
      '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")';
  }
  for (const k of Object.keys(params)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw new TaktError('influx.badParam', `params.${k}: not a Flux name`, `params.${k}`);
  }
  const fields = Object.entries(params).map(([k, v]) => `${k}: ${fluxLiteral(v)}`);
  fields.push(`start: ${fluxDateTime(new Date(start).toISOString()).toString()}`);
  fields.push(`stop: ${fluxDateTime(new Date(stop).toISOString()).toString()}`);
  return `params = {${fields.join(', ')}}\n${body}`;
}

/** Passes bytes through, turning an HTTP error into a TaktError with the server's own message. */
async function* httpErrors(it: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* it;
  } catch (err) {
    if (err instanceof HttpError) {
      let msg = err.body ?? err.message;
      try {
        msg = (JSON.parse(err.body ?? '') as { error?: string; message?: string }).error ?? msg;
      } catch {
        /* not JSON: keep the text */
      }
      throw new TaktError('influx.queryError', `query: HTTP ${err.statusCode}: ${msg}`, 'query');
    }
    throw err;
  }
}

/** Streams an InfluxDB 1.x query (chunked JSON) as series chunks. */
export async function* queryV1(
  server: ServerOptions,
  r: QueryRequest,
  now = Date.now(),
): AsyncGenerator<SeriesChunk[]> {
  const { transport, headers } = clientFor(server);
  const { q, params } = buildInfluxQl(r, now);
  const form = new URLSearchParams({
    db: server.database ?? '',
    q,
    params: JSON.stringify(params),
    epoch: 'ms',
    chunked: 'true',
    chunk_size: String(r.chunkSize ?? 10000),
  });
  if (server.retentionPolicy) form.set('rp', server.retentionPolicy);
  const body = transport.iterate('/query', form.toString(), {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
  });
  let text = '';
  const dec = new TextDecoder();
  const parse = (line: string): SeriesChunk[] => {
    const json = JSON.parse(line) as {
      error?: string;
      results?: {
        error?: string;
        series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
      }[];
    };
    const err = json.error ?? json.results?.find((x) => x.error)?.error;
    if (err) throw new TaktError('influx.queryError', `query: ${err}`, 'query');
    const out: SeriesChunk[] = [];
    for (const res of json.results ?? []) {
      for (const s of res.series ?? [])
        out.push({ measurement: s.name, tags: s.tags ?? {}, columns: s.columns, values: s.values ?? [] });
    }
    return out;
  };
  for await (const bytes of httpErrors(body)) {
    text += dec.decode(bytes, { stream: true });
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, nl).trim();
      text = text.slice(nl + 1);
      if (line) {
        const chunk = parse(line);
        if (chunk.length) yield chunk;
      }
    }
  }
  if (text.trim()) {
    const chunk = parse(text.trim());
    if (chunk.length) yield chunk;
  }
}

/** Streams a Flux query (v2 API) as series chunks of up to `chunkSize` rows. */
export async function* queryV2(
  server: ServerOptions,
  r: QueryRequest,
  now = Date.now(),
): AsyncGenerator<SeriesChunk[]> {
  const { client } = clientFor(server);
  const query = buildFlux(r, server.bucket ?? '', now);
  const api = client.getQueryApi({ org: server.org ?? '' });
  const size = r.chunkSize ?? 10000;
  let rows: { measurement: string; tags: Record<string, string>; cols: Record<string, unknown> }[] = [];
  const flush = (): SeriesChunk[] => {
    const out = new Map<string, SeriesChunk>();
    for (const row of rows) {
      const key = JSON.stringify([row.measurement, row.tags]);
      let s = out.get(key);
      const cols = Object.keys(row.cols);
      if (!s)
        out.set(
          key,
          (s = { measurement: row.measurement, tags: row.tags, columns: ['time', ...cols], values: [] }),
        );
      s.values.push([
        Date.parse(String(row.cols._time ?? '')),
        ...s.columns.slice(1).map((c) => row.cols[c] ?? null),
      ]);
    }
    rows = [];
    return [...out.values()];
  };
  for await (const { values, tableMeta } of api.iterateRows(query)) {
    const o = tableMeta.toObject(values) as Record<string, unknown>;
    const tags: Record<string, string> = {};
    const cols: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (k === 'result' || k === 'table' || k === '_start' || k === '_stop' || k === '_measurement')
        continue;
      if (k.startsWith('_') && k !== '_time') continue;
      if (
        typeof v === 'string' &&
        k !== '_time' &&
        !tableMeta.columns.find((c) => c.label === k && c.group === false)
      )
        tags[k] = v;
      else cols[k === '_time' ? '_time' : k] = v;
    }
    const time = cols._time;
    delete cols._time;
    rows.push({ measurement: String(o._measurement ?? ''), tags, cols: { _time: time, ...cols } });
    if (rows.length >= size) yield flush();
  }
  if (rows.length) yield flush();
}

/** Samples: one per value, topic rebuilt from the tags along the topic levels (the reverse of writing). */
export function toSamples(chunks: readonly SeriesChunk[], levels: readonly string[]): Sample[] {
  const out: Sample[] = [];
  for (const s of chunks) {
    const base = levels
      .map((l) => (l === 'measurement' ? s.measurement : l === '-' ? undefined : s.tags[l]))
      .filter((x): x is string => x !== undefined && x !== '')
      .join('/');
    const topic = base || s.measurement;
    for (const row of s.values) {
      for (let c = 1; c < s.columns.length; c++) {
        const v = row[c];
        if (v === null || v === undefined || s.tags[s.columns[c]] !== undefined) continue;
        if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'string') continue;
        const col = s.columns[c];
        out.push({
          topic: s.columns.length > 2 || col !== 'value' ? `${topic}/${col}` : topic,
          value: v,
          ts: Number(row[0]),
          quality: 'good',
        });
      }
    }
  }
  return out;
}

/** Aligned rows: `{ ts, <column>: value, ... }` plus the series' tags, ordered by time. */
export function toRows(chunks: readonly SeriesChunk[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const s of chunks) {
    for (const row of s.values) {
      const r: Record<string, unknown> = { ts: Number(row[0]), measurement: s.measurement, ...s.tags };
      for (let c = 1; c < s.columns.length; c++) r[s.columns[c]] = row[c];
      out.push(r);
    }
  }
  return out.sort((a, b) => (a.ts as number) - (b.ts as number));
}

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** CSV (RFC 4180) of aligned rows; `header` false for the chunks after the first. */
export function toCsv(
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
  header: boolean,
): string {
  const lines = header ? [columns.map(csvCell).join(',')] : [];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c])).join(','));
  return lines.join('\n') + '\n';
}
