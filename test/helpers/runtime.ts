/**
 * Starts a real Node-RED process (the runtime `npm start` runs) and talks to its admin API.
 * Used by the runtime and pack tests; node tests use the in-process helper instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, waitUntil } from './net';
import { ROOT } from './paths';

export interface RuntimeOptions {
  /** Arguments after red.js, e.g. ['-s', 'flows/settings.js'] or ['-u', userDir]. */
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** How long Node-RED may take to start its flows (default 60 s; more for suites that run under load). */
  startTimeoutMs?: number;
}

export interface Runtime {
  url: string;
  port: number;
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** Spawns Node-RED on a free loopback port (PORT and -p both set) and waits until its flows have started. */
export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const port = await freePort();
  const red = require.resolve('node-red/red.js');
  const proc = spawn(process.execPath, [red, '-p', String(port), ...opts.args], {
    cwd: opts.cwd,
    env: { ...process.env, PORT: String(port), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  proc.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (exited) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 10000).unref();
    });
  try {
    await waitUntil(
      () => {
        if (exited) throw new Error(`Node-RED exited:\n${out}`);
        return /Started flows/.test(out);
      },
      'Node-RED to start its flows',
      opts.startTimeoutMs ?? 60000,
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- Node-RED output ---\n${out}`);
  }
  return { url, port, proc, log: () => out, stop };
}

/**
 * The runtime `npm start` starts (flows/settings.js) on the flow file `flowFile`, in its own user directory,
 * with OPC UA and embedded-broker ports of its own and no MQTT_URL (settings.js then starts its embedded broker)
 * unless `env` sets them.
 */
export async function startTaktRuntime(o: {
  userDir: string;
  flowFile: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
}): Promise<Runtime> {
  return startRuntime({
    args: ['-s', join(ROOT, 'flows', 'settings.js')],
    env: {
      TAKT_USER_DIR: o.userDir,
      TAKT_FLOW_FILE: o.flowFile,
      TAKT_OPCUA_PORT: String(await freePort()),
      TAKT_MQTT_PORT: String(await freePort()),
      MQTT_URL: '',
      ...o.env,
    },
    startTimeoutMs: o.startTimeoutMs,
  });
}

/** GET a JSON admin API path. */
export async function getJson<T>(
  url: string,
  token?: string,
): Promise<{ status: number; body: T | undefined }> {
  const res = await fetch(url, {
    headers: { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  });
  const text = await res.text();
  let body: T | undefined;
  try {
    body = JSON.parse(text) as T;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** The node sets the runtime loaded (GET /nodes). */
export interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/**
 * Subscribes to the editor's comms websocket and collects the messages on `topic` (e.g. "debug",
 * "status/#"). Node 22+ has a global WebSocket.
 */
export function commsListener(baseUrl: string, topic: string, token?: string) {
  const messages: { topic: string; data: unknown }[] = [];
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/comms`);
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => {
      if (token) ws.send(JSON.stringify({ auth: token }));
      ws.send(JSON.stringify({ subscribe: topic }));
      resolve();
    };
    ws.onerror = () => reject(new Error(`comms websocket to ${baseUrl} failed`));
  });
  ws.onmessage = (ev: MessageEvent) => {
    const parsed = JSON.parse(String(ev.data)) as
      { topic: string; data: unknown }[] | { topic: string; data: unknown };
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) messages.push(m);
  };
  return { messages, opened, close: () => ws.close() };
}
