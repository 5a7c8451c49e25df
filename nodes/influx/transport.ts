/**
 * The HTTP side of writing: a `WriteTarget` posts one line-protocol body to InfluxDB's v2 API
 * (/api/v2/write: org, bucket, token; also VictoriaMetrics) or v1 API (/write: database, retention
 * policy, user/password; InfluxDB 1.x and VictoriaMetrics), through @influxdata/influxdb-client's
 * transport (gzip, TLS options, time-out). Failures are classified for the writer: retry, hold or reject.
 */
import { gzip } from 'node:zlib';
import { HttpError, InfluxDB, type Transport } from '@influxdata/influxdb-client';
import { TaktError } from '../core/errors';

/** Bodies larger than this are gzipped (when the server config asks for gzip). */
const GZIP_ABOVE = 1000;
/**
 * zlib level of those bodies. Line protocol repeats itself so much that level 1 comes within a few per
 * cent of the default level 6 in size at about a third of the CPU (5,000 demo lines, 463 kB: 27.98 kB at
 * level 1 in 1.0 ms, 27.28 kB at level 6 in 3.2 ms): on an edge box the CPU is the scarcer of the two.
 */
export const GZIP_LEVEL = 1;

const gzipped = (body: Buffer) =>
  new Promise<Buffer>((resolve, reject) =>
    gzip(body, { level: GZIP_LEVEL }, (err, out) => (err ? reject(err) : resolve(out))),
  );

export type ApiVersion = 'v1' | 'v2';

export interface TlsOptions {
  rejectUnauthorized?: boolean;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface ServerOptions {
  url: string;
  api: ApiVersion;
  /** v2 */
  org?: string;
  bucket?: string;
  token?: string;
  /** v1 */
  database?: string;
  retentionPolicy?: string;
  username?: string;
  password?: string;
  /** Gzip bodies above 1 kB. */
  gzip?: boolean;
  timeoutMs?: number;
  tls?: TlsOptions;
}

/** How a failed write is handled: retried later (network, 5xx, 429, 404, 401/403), or refused for good (400). */
export type FailureKind = 'retry' | 'auth' | 'reject';

export class WriteError extends Error {
  readonly kind: FailureKind;
  readonly status?: number;
  constructor(kind: FailureKind, message: string, status?: number) {
    super(message);
    this.name = 'WriteError';
    this.kind = kind;
    if (status !== undefined) this.status = status;
  }
}

export interface WriteTarget {
  /** Resolves when the server accepted the body (line protocol, UTF-8); rejects with a `WriteError`. */
  write(body: Buffer, signal?: AbortSignal): Promise<void>;
  readonly description: string;
}

export function validateServer(o: ServerOptions): ServerOptions {
  let u: URL;
  try {
    u = new URL(o.url);
  } catch {
    throw new TaktError('influx.badUrl', `url: "${o.url}" is not a URL`, 'url');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TaktError('influx.badUrl', `url: "${o.url}" must start with http:// or https://`, 'url');
  }
  if (o.api === 'v2') {
    if (!o.bucket) throw new TaktError('influx.noBucket', 'bucket: the v2 API needs a bucket', 'bucket');
  } else if (o.api === 'v1') {
    if (!o.database)
      throw new TaktError('influx.noDatabase', 'database: the v1 API needs a database', 'database');
  } else {
    throw new TaktError('influx.badApi', `api: "${String(o.api)}" is not v1 or v2`, 'api');
  }
  return o;
}

export function writePath(o: ServerOptions): string {
  const q = new URLSearchParams();
  if (o.api === 'v2') {
    q.set('org', o.org ?? '');
    q.set('bucket', o.bucket ?? '');
  } else {
    q.set('db', o.database ?? '');
    if (o.retentionPolicy) q.set('rp', o.retentionPolicy);
  }
  q.set('precision', 'ms');
  return `${o.api === 'v2' ? '/api/v2/write' : '/write'}?${q.toString()}`;
}

/** The client library's transport for a server (also used by the query side). */
export function clientFor(o: ServerOptions): {
  client: InfluxDB;
  transport: Transport;
  headers: Record<string, string>;
} {
  const client = new InfluxDB({
    url: o.url,
    ...(o.api === 'v2' && o.token ? { token: o.token } : {}),
    timeout: o.timeoutMs ?? 10000,
    ...(o.tls ? { transportOptions: { ...o.tls } } : {}),
  });
  const headers: Record<string, string> = {};
  if (o.api === 'v1' && o.username) {
    headers.authorization = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
  }
  return { client, transport: client.transport, headers };
}

export function classify(err: unknown): WriteError {
  if (err instanceof WriteError) return err;
  if (err instanceof HttpError) {
    const s = err.statusCode;
    const text = `HTTP ${s}${err.body ? `: ${err.body.slice(0, 300)}` : ''}`;
    if (s === 401 || s === 403) return new WriteError('auth', text, s);
    if (s === 400 || s === 413 || s === 422) return new WriteError('reject', text, s);
    return new WriteError('retry', text, s);
  }
  const e = err as { code?: string; message?: string };
  return new WriteError('retry', e.code ? `${e.code}: ${e.message ?? ''}` : (e.message ?? String(err)));
}

export function httpTarget(options: ServerOptions): WriteTarget {
  const o = validateServer(options);
  const { transport, headers } = clientFor(o);
  const path = writePath(o);
  const sendHeaders = { 'content-type': 'text/plain; charset=utf-8', ...headers };
  const gzipHeaders = { ...sendHeaders, 'content-encoding': 'gzip' };
  return {
    description: `${o.url} (${o.api === 'v2' ? `bucket ${o.bucket}` : `db ${o.database}`})`,
    async write(body, signal) {
      // Gzipped here, not by the client's transport, whose zlib call takes no level (it uses level 6).
      const gz = o.gzip === true && body.length > GZIP_ABOVE;
      const out = gz ? await gzipped(body) : body;
      // The transport listens for an abort only once the request is made: one that came meanwhile ends here.
      if (signal?.aborted) throw classify(new Error('the write was aborted'));
      // send(), not request(): request() would JSON-encode a body that is not a string, while the Node
      // transport sends any body through Buffer.from, so the log's bytes go out without a string between.
      await new Promise<void>((resolve, reject) =>
        transport.send(
          path,
          out as unknown as string,
          {
            method: 'POST',
            headers: gz ? gzipHeaders : sendHeaders,
            ...(signal ? { signal } : {}),
          },
          { error: (err: Error) => reject(classify(err)), complete: () => resolve() },
        ),
      );
    },
  };
}
