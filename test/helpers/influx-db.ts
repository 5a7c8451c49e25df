/** Reading back from the real servers in integration tests (VictoriaMetrics export, InfluxDB 1.x /query). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitUntil } from './net';

/** Points stored in VictoriaMetrics for a metric (`<measurement>_<field>`) and label filters. */
export async function vmCount(url: string, metric: string, labels: Record<string, string>): Promise<number> {
  const sel = [
    `__name__=${JSON.stringify(metric)}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
  ];
  const body = new URLSearchParams({ 'match[]': `{${sel.join(',')}}`, start: '0' });
  const res = await fetch(`${url}/api/v1/export`, { method: 'POST', body });
  if (!res.ok) throw new Error(`export: HTTP ${res.status}`);
  let n = 0;
  for (const line of (await res.text()).split('\n')) {
    if (line.trim()) n += (JSON.parse(line) as { values: number[] }).values.length;
  }
  return n;
}

/** Series (label sets) stored in VictoriaMetrics for a metric name pattern and a label. */
export async function vmSeries(url: string, match: string): Promise<Record<string, string>[]> {
  const res = await fetch(`${url}/api/v1/series`, {
    method: 'POST',
    // start=1 (s), all of time: VictoriaMetrics takes start=0 as no start and then looks at the current UTC day
    // only, so a series written before midnight was not found after it
    body: new URLSearchParams({ 'match[]': match, start: '1' }),
  });
  return ((await res.json()) as { data: Record<string, string>[] }).data;
}

/** Runs an InfluxQL statement on InfluxDB 1.x with bound parameters. */
export async function influxQl(url: string, db: string, q: string, params: Record<string, unknown> = {}) {
  const body = new URLSearchParams({ db, q, params: JSON.stringify(params), epoch: 'ms' });
  const res = await fetch(`${url}/query`, { method: 'POST', body });
  const json = (await res.json()) as {
    results: {
      error?: string;
      series?: { name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> }[];
    }[];
  };
  if (!res.ok || json.results[0]?.error)
    throw new Error(`query: ${res.status} ${json.results[0]?.error ?? ''}`);
  return json.results[0];
}

/** A private VictoriaMetrics process (for tests that stop and restart the server). */
export class VmProcess {
  proc: ChildProcess | undefined;
  url = '';
  constructor(readonly dataDir: string) {}

  async start(port?: number): Promise<void> {
    const p = port ?? (await freePort());
    this.url = `http://127.0.0.1:${p}`;
    const bin = process.env.VICTORIA_METRICS_BIN || 'victoria-metrics';
    this.proc = spawn(
      bin,
      [`-httpListenAddr=127.0.0.1:${p}`, `-storageDataPath=${this.dataDir}`, '-retentionPeriod=100y'],
      {
        stdio: 'ignore',
      },
    );
    const proc = this.proc;
    let failed: Error | undefined;
    proc.once('error', (e) => (failed = e));
    await waitUntil(
      async () => {
        if (failed) throw failed;
        try {
          return (await fetch(`${this.url}/health`)).ok;
        } catch {
          return false;
        }
      },
      'victoria-metrics to start',
      20000,
    );
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGINT');
    });
    this.proc = undefined;
  }
}

/** A private InfluxDB 1.x with authentication on, and an admin user (for the 401 test). */
export class InfluxAuthProcess {
  proc: ChildProcess | undefined;
  url = '';
  constructor(readonly dir: string) {}

  async start(user: string, password: string): Promise<void> {
    const port = await freePort();
    const rpc = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    const conf = join(this.dir, 'influxdb.conf');
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(
      conf,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${rpc}"`,
        '[meta]',
        `  dir = "${join(this.dir, 'meta')}"`,
        '[data]',
        `  dir = "${join(this.dir, 'data')}"`,
        `  wal-dir = "${join(this.dir, 'wal')}"`,
        '[http]',
        `  bind-address = "127.0.0.1:${port}"`,
        '  auth-enabled = true',
        '  log-enabled = false',
        '[monitor]',
        '  store-enabled = false',
        '[ifql]',
        '  enabled = false',
        '',
      ].join('\n'),
    );
    this.proc = spawn(process.env.INFLUXD_BIN || 'influxd', ['-config', conf], { stdio: 'ignore' });
    let failed: Error | undefined;
    this.proc.once('error', (e) => (failed = e));
    await waitUntil(
      async () => {
        if (failed) throw failed;
        try {
          return (await fetch(`${this.url}/ping`)).status === 204;
        } catch {
          return false;
        }
      },
      'influxd to start',
      20000,
    );
    // With no users yet, InfluxDB 1.x lets the first admin user be created without credentials.
    const q = `CREATE USER "${user}" WITH PASSWORD '${password}' WITH ALL PRIVILEGES`;
    const res = await fetch(`${this.url}/query`, { method: 'POST', body: new URLSearchParams({ q }) });
    if (!res.ok) throw new Error(`create user: HTTP ${res.status}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
    this.proc = undefined;
  }
}

/** Every value stored in VictoriaMetrics for the label filters (duplicates of a series and time included). */
export async function vmValues(url: string, labels: Record<string, string>): Promise<number[]> {
  const sel = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const body = new URLSearchParams({ 'match[]': `{${sel.join(',')}}`, start: '0' });
  const res = await fetch(`${url}/api/v1/export`, { method: 'POST', body });
  if (!res.ok) throw new Error(`export: HTTP ${res.status}`);
  const out: number[] = [];
  for (const line of (await res.text()).split('\n')) {
    if (line.trim()) for (const v of (JSON.parse(line) as { values: number[] }).values) out.push(v);
  }
  return out;
}

/** The point indices a crash child wrote to its accepted file (u32 each; a torn last one is ignored). */
export function readAccepted(file: string): Set<number> {
  const out = new Set<number>();
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return out;
  }
  for (let off = 0; off + 4 <= b.length; off += 4) out.add(b.readUInt32LE(off));
  return out;
}
