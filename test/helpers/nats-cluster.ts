/**
 * A three-node nats-server cluster on loopback for the fleet tests and bench: JetStream on every node (the
 * MQTT sessions, QoS 1 messages and retained messages live in streams replicated on every node), cluster
 * routes between them, an MQTT 3.1.1 listener and an HTTP monitoring port per node. Each node gets free ports
 * and its own store directory under a temporary folder; `stop()` kills them all and removes it. Nodes can be
 * killed (SIGKILL) and started again on the same ports and store.
 *
 * "Up" means more than MQTT CONNACKs: a node answers MQTT before its JetStream assets have leaders and their
 * replicas have caught up, and a node killed then takes the last copy of something with it. So the cluster
 * counts as ready (and a restarted node as back) only when every running node names the same metadata
 * leader, and that leader's `/jsz` shows every running node a current peer and every JetStream stream and
 * consumer with a leader on a running node (see `problems`).
 *
 * TAKT_NATS_LOGS=<folder>: every node also writes a debug log (-D; with TAKT_NATS_TRACE=1 also every
 * protocol message, -V) there, kept after stop, for a failure's analysis.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, waitUntil } from './net';

export interface NatsNode {
  name: string;
  mqttUrl: string;
  /** The node's HTTP monitoring endpoint (/varz, /jsz, /routez). */
  monitorUrl: string;
  proc: ChildProcess | undefined;
  log: string;
}

export interface NatsCluster {
  dir: string;
  nodes: NatsNode[];
  /** The MQTT URLs of every node, for takt-mqtt-broker's failover list. */
  urls: string[];
  /** SIGKILL one node (its store stays). */
  kill(i: number): void;
  /** Starts a killed node again and waits until the cluster is healthy with it. */
  restart(i: number): Promise<void>;
  /** Resolves once `healthy()` holds; rejects after timeoutMs with what is missing and the cluster's state. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** What keeps the cluster from being healthy (empty when it is). */
  healthy(): Promise<string[]>;
  /** The index of the node that leads a JetStream stream (e.g. "$MQTT_msgs"), or -1. */
  leaderOf(stream: string): Promise<number>;
  /** One line per node and per JetStream asset: leaders, replicas and whether they are current (for errors). */
  describe(): Promise<string>;
  stop(): Promise<void>;
}

const isCi = () => process.env.CI === 'true' || process.env.CI === '1';

/** True when the nats-server binary runs here. */
export function hasNatsServer(): boolean {
  return spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

/**
 * For a mocha `before`: skips the suite when nats-server is not installed, or fails it under CI=true
 * (.ci/run installs it).
 */
export function requireNatsServer(ctx: Mocha.Context): void {
  if (hasNatsServer()) return;
  const why = 'nats-server is not installed (apt-get install nats-server; .ci/run installs it)';
  if (isCi()) throw new Error(`CI=true and ${why}`);
  console.warn(`      skipped: ${why}`);
  ctx.skip();
}

/** True once an MQTT client gets a CONNACK from url (the node's JetStream is ready for sessions). */
async function mqttReady(url: string): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 2000,
      clientId: `probe_${Math.random().toString(16).slice(2)}`,
    });
    await c.endAsync();
    return true;
  } catch {
    return false;
  }
}

interface JszReplica {
  name: string;
  current?: boolean;
  offline?: boolean;
}
interface JszCluster {
  leader?: string;
  replicas?: JszReplica[];
}
interface JszAsset {
  name: string;
  cluster?: JszCluster;
}
interface Jsz {
  meta_cluster?: JszCluster;
  account_details?: { stream_detail?: (JszAsset & { consumer_detail?: JszAsset[] })[] }[];
}

/** The JetStream state one node sees (GET /jsz), or undefined when it does not answer. */
async function jsz(n: NatsNode): Promise<Jsz | undefined> {
  try {
    const res = await fetch(`${n.monitorUrl}/jsz?streams=true&consumers=true`, {
      signal: AbortSignal.timeout(2000),
    });
    return res.ok ? ((await res.json()) as Jsz) : undefined;
  } catch {
    return undefined;
  }
}

/** Every stream and consumer a node reports, named "stream" or "stream > consumer". */
function assets(j: Jsz): { name: string; cluster?: JszCluster }[] {
  return (j.account_details ?? []).flatMap((a) =>
    (a.stream_detail ?? []).flatMap((s) => [
      { name: s.name, cluster: s.cluster },
      ...(s.consumer_detail ?? []).map((c) => ({ name: `${s.name} > ${c.name}`, cluster: c.cluster })),
    ]),
  );
}

/**
 * What keeps the cluster from being healthy, from the views of its running nodes: one metadata leader they
 * all agree on, whose own view lists every other running node as a current peer and shows every stream and
 * consumer with a leader on a running node. (The metadata leader's view is the truth on assignments: a node
 * back from the dead may still list a consumer deleted meanwhile, without a leader. A replica of an idle
 * stream or consumer may stay "behind" until the next write; it still votes, so it is not waited for.)
 * Empty when healthy.
 */
function problems(views: Map<string, Jsz | undefined>): string[] {
  const out: string[] = [];
  const running = new Set(views.keys());
  for (const [name, j] of views) if (!j) out.push(`${name} does not answer /jsz`);
  if (out.length) return out;
  const metas = new Set([...views.values()].map((j) => j?.meta_cluster?.leader ?? 'none'));
  const meta = [...metas][0];
  const view = views.get(meta);
  if (metas.size !== 1 || !view) return [`no agreed metadata leader (${[...metas].join(', ')})`];
  const peers = view.meta_cluster?.replicas ?? [];
  for (const name of running) {
    const p = peers.find((r) => r.name === name);
    if (name !== meta && (!p || !p.current || p.offline)) out.push(`${name} not a current peer of ${meta}`);
  }
  for (const a of assets(view)) {
    const leader = a.cluster?.leader;
    if (!leader || !running.has(leader)) out.push(`${a.name}: leader ${leader ?? 'none'}`);
  }
  return out;
}

async function describeNode(n: NatsNode): Promise<string> {
  if (!n.proc) return `${n.name}: down`;
  const j = await jsz(n);
  if (!j) return `${n.name}: no answer on ${n.monitorUrl}`;
  const reps = (c?: JszCluster) =>
    (c?.replicas ?? [])
      .map((r) => `${r.name}${r.current ? '' : '(behind)'}${r.offline ? '(offline)' : ''}`)
      .join(',');
  const out = [`${n.name}: meta leader ${j.meta_cluster?.leader ?? 'none'}, peers ${reps(j.meta_cluster)}`];
  for (const a of assets(j))
    out.push(`  ${a.name}: leader ${a.cluster?.leader ?? 'none'}, replicas ${reps(a.cluster)}`);
  return out.join('\n');
}

/**
 * Starts `size` nodes and waits until each takes MQTT connections and the cluster is healthy (the MQTT
 * streams exist then: the first CONNACK made them). `ackWaitS`: how long a node waits for a QoS 1 PUBACK
 * before it delivers the message again (nats-server's default is 30 s; a message in flight to a box that
 * died comes again after this).
 */
export async function startNatsCluster(size = 3, ackWaitS = 5, timeoutMs = 60000): Promise<NatsCluster> {
  // A fresh cluster now and then never forms (once in a CI run: no healthy cluster in 120 s, where it takes
  // 2-5 s): that attempt is stopped, reported with the cluster's state, and a new one started once.
  try {
    return await startOnce(size, ackWaitS, timeoutMs);
  } catch (err) {
    console.warn(
      `      nats cluster did not form, starting a fresh one: ${(err as Error).message.slice(0, 4000)}`,
    );
    return startOnce(size, ackWaitS, timeoutMs);
  }
}

async function startOnce(size: number, ackWaitS: number, timeoutMs: number): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'takt-nats-'));
  // A cluster name of its own: a node of another cluster on this machine (another test run, a bench) that
  // keeps dialling a route port this cluster now uses is refused instead of joining.
  const clusterName = `takt_${randomBytes(4).toString('hex')}`;
  const ports = [];
  for (let i = 0; i < size; i++) {
    ports.push({
      client: await freePort(),
      route: await freePort(),
      mqtt: await freePort(),
      http: await freePort(),
    });
  }
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`).join(', ');
  const nodes: NatsNode[] = ports.map((p, i) => {
    const name = `n${i + 1}`;
    writeFileSync(
      join(dir, `${name}.conf`),
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${p.client}`,
        `http: 127.0.0.1:${p.http}`,
        `jetstream { store_dir: "${join(dir, name)}" }`,
        `cluster { name: ${clusterName}, listen: 127.0.0.1:${p.route}, routes: [${routes}] }`,
        // Sessions, QoS 1 messages, retained messages and the consumers behind subscriptions replicated on
        // every node: any node can take a box over, and no node's death takes the only copy with it.
        `mqtt { listen: 127.0.0.1:${p.mqtt}, stream_replicas: ${size}, consumer_replicas: ${size}, ack_wait: "${ackWaitS}s" }`,
      ].join('\n'),
    );
    return {
      name,
      mqttUrl: `mqtt://127.0.0.1:${p.mqtt}`,
      monitorUrl: `http://127.0.0.1:${p.http}`,
      proc: undefined,
      log: '',
    };
  });
  const launch = (n: NatsNode) => {
    const logDir = process.env.TAKT_NATS_LOGS;
    const debug = process.env.TAKT_NATS_TRACE ? '-DV' : '-D';
    const logArgs = logDir ? [debug, '-l', join(logDir, `${basename(dir)}-${n.name}.log`)] : [];
    const proc = spawn('nats-server', ['-c', join(dir, `${n.name}.conf`), ...logArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    n.proc = proc;
    const keep = (d: Buffer) => (n.log = (n.log + d.toString()).slice(-20000));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.once('exit', () => {
      if (n.proc === proc) n.proc = undefined;
    });
  };
  const ready = (n: NatsNode) =>
    waitUntil(
      async () => {
        if (!n.proc) throw new Error(`nats-server ${n.name} exited:\n${n.log}`);
        return mqttReady(n.mqttUrl);
      },
      `nats-server ${n.name} to take MQTT connections`,
      timeoutMs,
      250,
    );
  const cluster: NatsCluster = {
    dir,
    nodes,
    urls: nodes.map((n) => n.mqttUrl),
    kill(i) {
      nodes[i].proc?.kill('SIGKILL');
      nodes[i].proc = undefined;
    },
    async restart(i) {
      launch(nodes[i]);
      await ready(nodes[i]);
      await cluster.waitHealthy(timeoutMs);
    },
    async healthy() {
      const up = nodes.filter((n) => n.proc);
      const views = new Map(await Promise.all(up.map(async (n) => [n.name, await jsz(n)] as const)));
      return problems(views);
    },
    async waitHealthy(ms = timeoutMs) {
      let last: string[] = [];
      try {
        await waitUntil(
          async () => {
            last = await cluster.healthy();
            return last.length === 0;
          },
          'a healthy nats cluster',
          ms,
          250,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}: ${last.join('; ')}\n${await cluster.describe()}`);
      }
    },
    async leaderOf(stream) {
      for (const n of nodes) {
        const j = n.proc ? await jsz(n) : undefined;
        const leader = j && assets(j).find((a) => a.name === stream)?.cluster?.leader;
        if (leader) return nodes.findIndex((m) => m.name === leader);
      }
      return -1;
    },
    async describe() {
      return (await Promise.all(nodes.map((n) => describeNode(n)))).join('\n');
    },
    async stop() {
      await Promise.all(
        nodes.map(
          (n) =>
            new Promise<void>((resolve) => {
              const p = n.proc;
              // a process that has already exited (crashed, or killed before) emits no second 'exit'
              if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
              p.once('exit', () => resolve());
              p.kill('SIGKILL');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    nodes.forEach(launch);
    // The metadata group first (one leader, every node a current peer), then the first MQTT connections,
    // which make the MQTT streams, each with a replica on every node; then their leaders.
    await cluster.waitHealthy(timeoutMs);
    for (const n of nodes) await ready(n);
    await cluster.waitHealthy(timeoutMs);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
