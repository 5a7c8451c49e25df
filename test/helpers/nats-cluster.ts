/**
 * A three-node nats-server cluster on loopback for the fleet tests and bench: JetStream on every node (the
 * MQTT sessions, QoS 1 messages and retained messages live in replicated streams), cluster routes between
 * them, and an MQTT 3.1.1 listener per node. Each node gets free ports and its own store directory under a
 * temporary folder; `stop()` kills them all and removes it. Nodes can be killed (SIGKILL) and started again
 * on the same ports and store.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, waitUntil } from './net';

export interface NatsNode {
  name: string;
  mqttUrl: string;
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
  /** Starts a killed node again and waits until it takes MQTT connections. */
  restart(i: number): Promise<void>;
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

/**
 * Starts `size` nodes and waits until each takes MQTT connections. `ackWaitS`: how long a node waits for
 * a QoS 1 PUBACK before it delivers the message again (nats-server's default is 30 s; a message in flight
 * to a box that died comes again after this).
 */
export async function startNatsCluster(size = 3, ackWaitS = 5, timeoutMs = 60000): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'takt-nats-'));
  const ports = [];
  for (let i = 0; i < size; i++)
    ports.push({ client: await freePort(), route: await freePort(), mqtt: await freePort() });
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`).join(', ');
  const nodes: NatsNode[] = ports.map((p, i) => {
    const name = `n${i + 1}`;
    writeFileSync(
      join(dir, `${name}.conf`),
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${p.client}`,
        `jetstream { store_dir: "${join(dir, name)}" }`,
        `cluster { name: takt, listen: 127.0.0.1:${p.route}, routes: [${routes}] }`,
        // Sessions and retained messages replicated on every node: any node can take a box over.
        `mqtt { listen: 127.0.0.1:${p.mqtt}, stream_replicas: ${size}, ack_wait: "${ackWaitS}s" }`,
      ].join('\n'),
    );
    return { name, mqttUrl: `mqtt://127.0.0.1:${p.mqtt}`, proc: undefined, log: '' };
  });
  const launch = (n: NatsNode) => {
    const proc = spawn('nats-server', ['-c', join(dir, `${n.name}.conf`)], {
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
    },
    async stop() {
      await Promise.all(
        nodes.map(
          (n) =>
            new Promise<void>((resolve) => {
              const p = n.proc;
              if (!p) return resolve();
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
    for (const n of nodes) await ready(n);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
