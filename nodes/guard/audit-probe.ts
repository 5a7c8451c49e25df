/**
 * Gathers the facts the hardening audit (audit.ts) judges: file modes under the user directory, the
 * MQTT brokers and OPC UA servers and connections the flows name, anonymous probes of them, requests to the
 * admin API and the dashboard without credentials, default and weak passwords, and the model registry's
 * hashes. Everything here is read-only toward the box: probes connect without credentials and disconnect.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { MessageSecurityMode, OPCUACertificateManager, OPCUAClient, UserTokenType } from 'node-opcua';
import {
  type BoxFacts,
  type FileFact,
  type HttpProbe,
  isLoopback,
  type ModelFact,
  type MqttProbe,
  type OpcuaClientFact,
  type OpcuaProbe,
  type ProbeOutcome,
  settingsPasswords,
  type WeakPassword,
} from './audit';
import { sha256 } from '../core/hash';

/** A node of a flow file (config nodes included). */
export type FlowNode = Record<string, unknown> & { type?: string; id?: string; name?: string };

export interface ProbeOptions {
  settings: Record<string, unknown>;
  /** The runtime's user directory (settings.userDir when missing). */
  userDir?: string;
  /** The flows: a flow file's nodes, or the deployed nodes of a running runtime. */
  flows?: FlowNode[];
  /** Environment for ${VAR} in node properties (process.env by default). */
  env?: Record<string, string | undefined>;
  /** The runtime's base URL for the HTTP probes (from uiHost/uiPort when missing); false: no HTTP probes. */
  url?: string | false;
  /** More brokers and OPC UA servers to probe. */
  mqtt?: string[];
  opcua?: string[];
  /** Files holding keys outside the userDir (e.g. TAKT_HTTPS_KEY). */
  keyFiles?: string[];
  /** Registry folders to hash (default <userDir>/takt/models/registry). */
  registries?: string[];
  /** Per probe (default 3000 ms). */
  timeoutMs?: number;
  /** The password candidates to try against the stored hashes (default WEAK_PASSWORDS plus the user name). */
  weakPasswords?: readonly string[];
  /** Where the OPC UA probe keeps its client certificate (default a folder under the OS temp dir). */
  pkiDir?: string;
}

/** Defaults and the commonest passwords, tried against the stored bcrypt hashes (never sent anywhere). */
export const WEAK_PASSWORDS: readonly string[] = [
  'password',
  'Password1',
  'admin',
  'administrator',
  'changeme',
  'secret',
  'node-red',
  'nodered',
  'takt',
  '12345678',
  '123456789',
  'qwertyui',
  'letmein',
  'operator',
];

const substitute = (v: unknown, env: Record<string, string | undefined>): string =>
  String(v ?? '').replace(/\$\{(\w+)\}/g, (_m, k: string) => env[k] ?? '');

/** The brokers, OPC UA servers and OPC UA client connections the flows name. */
export function flowTargets(
  flows: FlowNode[],
  env: Record<string, string | undefined>,
): {
  mqtt: { url: string; source: string }[];
  opcua: { url: string; source: string }[];
  clients: OpcuaClientFact[];
} {
  const mqttOut: { url: string; source: string }[] = [];
  const opcua: { url: string; source: string }[] = [];
  const clients: OpcuaClientFact[] = [];
  const label = (n: FlowNode) => `${n.type} "${n.name || n.id}"`;
  for (const n of flows) {
    if (n.type === 'takt-mqtt-broker') {
      const url = substitute(n.url, env).trim();
      if (url) mqttOut.push({ url, source: label(n) });
    } else if (n.type === 'takt-opcua-endpoint') {
      const url = substitute(n.url, env).trim();
      if (!url) continue;
      clients.push({
        name: label(n),
        url,
        securityMode: substitute(n.securityMode, env) || 'None',
        trustOnFirstUse: n.trustOnFirstUse === true,
      });
      opcua.push({ url, source: label(n) });
    } else if (n.type === 'takt-sim') {
      const port = substitute(n.opcuaPort ?? 4840, env).trim() || '4840';
      if (port !== '0') {
        const host = substitute(n.opcuaHost, env).trim() || '127.0.0.1';
        opcua.push({
          url: `opc.tcp://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/UA/Takt`,
          source: label(n),
        });
      }
    }
  }
  return { mqtt: mqttOut, opcua, clients };
}

/** The modes of files that must stay private: the userDir, credentials, keys, the generated key. */
export function fileFacts(userDir: string | undefined, keyFiles: string[] = []): FileFact[] {
  const out: FileFact[] = [];
  const add = (path: string, role: FileFact['role']) => {
    try {
      out.push({ path, role, mode: statSync(path).mode & 0o777 });
    } catch {
      // missing: nothing to protect
    }
  };
  if (userDir && existsSync(userDir)) {
    add(userDir, 'userDir');
    for (const f of readdirSync(userDir))
      if (/_cred\.json$|^\.config\.(runtime|users)\.json$|\.(pem|key|p12|pfx)$/.test(f))
        add(join(userDir, f), 'secret');
    // Private keys under takt/ (OPC UA PKI and the like), a bounded walk.
    const walk = (dir: string, depth: number) => {
      if (depth > 6) return;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) {
        const p = join(dir, name);
        let isDir = false;
        try {
          isDir = statSync(p).isDirectory();
        } catch {
          continue;
        }
        if (isDir) walk(p, depth + 1);
        else if (/\.(pem|key|p12|pfx)$/.test(name) && /private/.test(dir)) add(p, 'secret');
      }
    };
    walk(join(userDir, 'takt'), 0);
  }
  for (const k of keyFiles) add(k, 'secret');
  return out;
}

/** Every registered version in the registries, with its file's hash against the card's. */
export function modelFacts(registries: string[]): ModelFact[] {
  const out: ModelFact[] = [];
  for (const root of registries) {
    if (!existsSync(root)) continue;
    for (const model of readdirSync(root)) {
      const dir = join(root, model);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        if (!/^v\d+\.json$/.test(name)) continue;
        let card: { version?: unknown; file?: unknown; sha256?: unknown };
        try {
          card = JSON.parse(readFileSync(join(dir, name), 'utf8')) as typeof card;
        } catch {
          continue;
        }
        if (typeof card.file !== 'string' || typeof card.sha256 !== 'string') continue;
        const file = join(dir, card.file);
        let actual: string | null = null;
        try {
          actual = sha256(readFileSync(file));
        } catch {
          actual = null;
        }
        out.push({ model, version: Number(card.version), file, expected: card.sha256, actual });
      }
    }
  }
  return out;
}

/** Loads bcryptjs where it is installed (Node-RED depends on it); undefined when it is not. */
function loadBcrypt(): { compareSync(p: string, h: string): boolean } | undefined {
  for (const from of [__dirname, process.cwd()]) {
    try {
      const path = require.resolve('bcryptjs', { paths: [from, join(require.resolve('node-red'), '..')] });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(path) as { compareSync(p: string, h: string): boolean };
    } catch {
      // try the next place
    }
  }
  return undefined;
}

/** The users whose stored bcrypt hash matches a default or weak password (or their user name). */
export function weakPasswordFacts(
  settings: Record<string, unknown>,
  candidates: readonly string[] = WEAK_PASSWORDS,
): { weak: WeakPassword[]; skipped?: string } {
  const hashed = settingsPasswords(settings).filter(
    (p) => typeof p.pass === 'string' && /^\$2[aby]\$/.test(p.pass),
  );
  if (!hashed.length) return { weak: [] };
  const bcrypt = loadBcrypt();
  if (!bcrypt) return { weak: [], skipped: 'weak passwords: bcryptjs is not installed here' };
  const weak: WeakPassword[] = [];
  // The same hash often guards several places (the demo's admin and http logins): try each pair once.
  const tried = new Map<string, boolean>();
  const matches = (t: string, hash: string) => {
    const key = `${hash}\u0000${t}`;
    let hit = tried.get(key);
    if (hit === undefined) tried.set(key, (hit = bcrypt.compareSync(t, hash)));
    return hit;
  };
  for (const p of hashed) {
    const tries = [...candidates, p.user, `${p.user}${p.user}`, `${p.user}123`].filter(Boolean);
    if (tries.some((t) => matches(t, p.pass as string))) weak.push({ where: p.where, user: p.user });
  }
  return { weak };
}

/** Tries an anonymous MQTT connect: accepted, refused (CONNACK error) or unreachable. */
export function probeMqttAnonymous(url: string, timeoutMs = 3000): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let done = false;
    const client = mqtt.connect(url, {
      connectTimeout: timeoutMs,
      reconnectPeriod: 0,
      clientId: `takt-audit-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      rejectUnauthorized: false,
    });
    const finish = (r: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.end(true);
      resolve(r);
    };
    const timer = setTimeout(() => finish('unreachable'), timeoutMs + 500);
    client.on('connect', () => finish('accepted'));
    client.on('error', (err: Error & { code?: unknown }) =>
      finish(typeof err.code === 'number' ? 'refused' : 'unreachable'),
    );
    client.on('close', () => finish('unreachable'));
  });
}

/** This machine's non-loopback IPv4 addresses (at most three). */
export function outsideAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') out.push(a.address);
  return out.slice(0, 3);
}

async function mqttFacts(
  targets: { url: string; source: string }[],
  timeoutMs: number,
): Promise<MqttProbe[]> {
  const seen = new Set<string>();
  const out: MqttProbe[] = [];
  for (const t of targets) {
    if (seen.has(t.url)) continue;
    seen.add(t.url);
    let u: URL;
    try {
      u = new URL(t.url);
    } catch {
      continue;
    }
    const tls = u.protocol === 'mqtts:' || u.protocol === 'wss:' || u.protocol === 'ssl:';
    const anonymous = await probeMqttAnonymous(t.url, timeoutMs);
    const probe: MqttProbe = { url: t.url, source: t.source, tls, anonymous };
    if (isLoopback(u.hostname)) {
      for (const address of outsideAddresses()) {
        const other = new URL(t.url);
        other.hostname = address;
        const r = await probeMqttAnonymous(other.toString(), timeoutMs);
        if (r !== 'unreachable') {
          probe.beyondLoopback = { address, anonymous: r };
          break;
        }
      }
    }
    out.push(probe);
  }
  return out;
}

/** Reads an OPC UA server's endpoints (GetEndpoints needs no session). */
export async function probeOpcua(
  url: string,
  source: string,
  pkiDir: string,
  timeoutMs = 3000,
): Promise<OpcuaProbe> {
  const client = OPCUAClient.create({
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    clientCertificateManager: new OPCUACertificateManager({
      rootFolder: pkiDir,
      automaticallyAcceptUnknownCertificate: false,
    }),
    requestedSessionTimeout: timeoutMs,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([client.connect(url), timeout]);
    const endpoints = await Promise.race([client.getEndpoints(), timeout]);
    const modes = [...new Set(endpoints.map((e) => MessageSecurityMode[e.securityMode]))].filter(
      (m): m is string => typeof m === 'string',
    );
    const anonymous = endpoints.some((e) =>
      (e.userIdentityTokens ?? []).some((t) => t.tokenType === UserTokenType.Anonymous),
    );
    return { url, source, reachable: true, modes, anonymous };
  } catch (err) {
    const why = ((err as Error).message ?? String(err)).split('\n')[0]!.trim();
    return { url, source, reachable: false, modes: [], anonymous: false, error: why };
  } finally {
    if (timer) clearTimeout(timer);
    await client.disconnect().catch(() => undefined);
  }
}

/** GET without credentials; the status, or null when nothing answered. */
async function httpStatus(url: string, timeoutMs: number): Promise<number | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel();
    return res.status;
  } catch {
    return null;
  }
}

/** The runtime's base URL from its settings. */
export function runtimeUrl(settings: Record<string, unknown>): string {
  const host =
    typeof settings.uiHost === 'string' && settings.uiHost && settings.uiHost !== '0.0.0.0'
      ? settings.uiHost
      : '127.0.0.1';
  const port = Number(settings.uiPort ?? 1880);
  return `${settings.https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

const rootOf = (v: unknown, dflt: string) => {
  const r = typeof v === 'string' ? v : dflt;
  return r.endsWith('/') ? r : `${r}/`;
};

/** Gathers everything the audit judges. */
export async function gatherFacts(o: ProbeOptions): Promise<BoxFacts> {
  const s = o.settings;
  const env = o.env ?? process.env;
  const timeoutMs = o.timeoutMs ?? 3000;
  const userDir = o.userDir ?? (typeof s.userDir === 'string' ? s.userDir : undefined);
  const skipped: string[] = [];
  const targets = flowTargets(o.flows ?? [], env);
  for (const url of o.mqtt ?? []) targets.mqtt.push({ url, source: 'command line' });
  if (env.MQTT_URL) targets.mqtt.push({ url: env.MQTT_URL, source: 'MQTT_URL' });
  for (const url of o.opcua ?? []) targets.opcua.push({ url, source: 'command line' });

  const http: HttpProbe[] = [];
  if (o.url !== false) {
    const base = (o.url ?? runtimeUrl(s)).replace(/\/$/, '');
    const admin = `${base}${rootOf(s.httpAdminRoot, '/')}flows`;
    const dashboard = `${base}${rootOf(s.httpNodeRoot, '/')}dashboard`;
    for (const [kind, url] of [
      ['admin', admin],
      ['dashboard', dashboard],
    ] as const) {
      if (kind === 'admin' && s.httpAdminRoot === false) continue;
      const status = await httpStatus(url, timeoutMs);
      if (status === null) skipped.push(`${kind} endpoint: ${url} did not answer (is the runtime running?)`);
      else http.push({ url, kind, status });
    }
  }

  const mqttProbes = await mqttFacts(targets.mqtt, timeoutMs);
  for (const p of mqttProbes)
    if (p.anonymous === 'unreachable') skipped.push(`MQTT ${p.url} (${p.source}): did not answer`);

  const pkiDir = o.pkiDir ?? join(tmpdir(), 'takt-audit-pki');
  const opcua: OpcuaProbe[] = [];
  const seen = new Set<string>();
  for (const t of targets.opcua) {
    if (seen.has(t.url)) continue;
    seen.add(t.url);
    const p = await probeOpcua(t.url, t.source, pkiDir, timeoutMs);
    if (!p.reachable) skipped.push(`OPC UA ${t.url} (${t.source}): ${p.error ?? 'did not answer'}`);
    opcua.push(p);
  }

  const weak = weakPasswordFacts(s, o.weakPasswords);
  if (weak.skipped) skipped.push(weak.skipped);
  const registries = o.registries ?? (userDir ? [join(userDir, 'takt', 'models', 'registry')] : []);
  return {
    settings: s,
    files: fileFacts(userDir, o.keyFiles),
    http,
    mqtt: mqttProbes,
    opcua,
    opcuaClients: targets.clients,
    weakPasswords: weak.weak,
    models: modelFacts(registries),
    skipped,
  };
}
