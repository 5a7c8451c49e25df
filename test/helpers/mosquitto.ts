/**
 * A Mosquitto broker of a test's own, on a free loopback port (for tests that stop and start brokers, which
 * the shared dev server must never be). Without the binary, `requireMosquitto` skips the suite, or fails it
 * under CI=true (.ci/run installs it).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort, waitUntil } from './net';

const isCi = () => process.env.CI === 'true' || process.env.CI === '1';

/** For a mocha `before`: skips the suite when mosquitto is not installed, or fails it under CI=true. */
export function requireMosquitto(ctx: Mocha.Context): void {
  if (spawnSync('mosquitto', ['-h'], { encoding: 'utf8' }).error === undefined) return;
  const why = 'mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)';
  if (isCi()) throw new Error(`CI=true and ${why}`);
  console.warn(`      skipped: ${why}`);
  ctx.skip();
}

export interface Mosquitto {
  url: string;
  port: number;
  /** Kills the broker at once (SIGKILL: its clients see the connection drop, no goodbye); resolves on its exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  running(): boolean;
  stop(): Promise<void>;
}

/** Starts Mosquitto (anonymous, no persistence) on a free port and waits until it listens. */
export async function startMosquitto(extraConf = ''): Promise<Mosquitto> {
  const port = await freePort();
  const conf = join(tmpdir(), `takt-test-mosquitto-${process.pid}-${port}.conf`);
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n${extraConf}`);
  let proc: ChildProcess | undefined;
  const up = async () => {
    const p = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    proc = p;
    let exited = false;
    p.once('exit', () => (exited = true));
    await waitUntil(
      async () => {
        if (exited) throw new Error(`mosquitto on port ${port} exited at start`);
        return canConnect('127.0.0.1', port, 500);
      },
      `mosquitto to listen on ${port}`,
      15000,
      50,
    );
  };
  const down = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  await up();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    kill: () => down('SIGKILL'),
    restart: up,
    running: () => proc !== undefined,
    stop: async () => {
      await down('SIGTERM');
      rmSync(conf, { force: true });
    },
  };
}
