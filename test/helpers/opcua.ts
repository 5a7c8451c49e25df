/** OPC UA helpers shared by tests and benchmarks: a test client, and the takt-sim command as a process. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { OPCUACertificateManager, OPCUAClient, type OPCUAClientOptions } from 'node-opcua';
import { waitUntil } from './net';
import { ROOT } from './paths';

/** A client that tries once (no retries) and trusts the test server's certificate. */
export function testClient(pkiDir: string, options: OPCUAClientOptions = {}): OPCUAClient {
  return OPCUAClient.create({
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0 },
    clientCertificateManager: new OPCUACertificateManager({
      rootFolder: pkiDir,
      automaticallyAcceptUnknownCertificate: true,
    }),
    ...options,
  });
}

export interface SimProcess {
  proc: ChildProcessWithoutNullStreams;
  output(): string;
  stop(): Promise<void>;
}

/** Runs `takt-sim` (the compiled command) with these arguments and waits for its OPC UA endpoint line. */
export async function spawnSimulator(args: string[], cwd: string): Promise<SimProcess> {
  const proc = spawn(process.execPath, [join(ROOT, 'dist/nodes/sim/cli.js'), ...args], { cwd });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  proc.once('exit', () => (exited = true));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (exited) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  await waitUntil(
    () => {
      if (exited) throw new Error(`takt-sim exited:\n${out}`);
      return out.includes('OPC UA opc.tcp://');
    },
    'the simulator endpoint',
    30000,
  );
  return { proc, output: () => out, stop };
}
