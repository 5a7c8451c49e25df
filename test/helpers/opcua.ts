/** OPC UA helpers shared by tests and benchmarks: a test client, and the takt-sim command as a process. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  type ClientSession,
  DataType,
  makeBrowsePath,
  OPCUACertificateManager,
  OPCUAClient,
  type OPCUAClientOptions,
} from 'node-opcua';
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

/** The simulator's GetChangeCounts answer: value changes it wrote per tag (browse path from Objects). */
export interface ChangeCounts {
  counts: Record<string, number>;
  total: number;
  loadTick: number;
}

async function nodeIdAt(session: ClientSession, path: string): Promise<string> {
  const r = await session.translateBrowsePath(makeBrowsePath('i=85', path));
  if (!r.targets?.length) throw new Error(`no node at Objects${path}: ${r.statusCode.name}`);
  return r.targets[0].targetId.toString();
}

async function callOn(session: ClientSession, object: string, method: string, args: unknown[] = []) {
  const r = await session.call({
    objectId: await nodeIdAt(session, object),
    methodId: await nodeIdAt(session, `${object}/1:${method}`),
    inputArguments: args.map((value) => ({ dataType: DataType.String, value })),
  });
  if (r.statusCode.name !== 'Good') throw new Error(`${method}: ${r.statusCode.name}`);
  return r.outputArguments ?? [];
}

/** Calls GetChangeCounts on Objects/<site> (counts of the tags whose path starts with `prefix`). */
export async function getChangeCounts(
  session: ClientSession,
  prefix = '',
  site = 'Plant1',
): Promise<ChangeCounts> {
  const out = await callOn(session, `/1:${site}`, 'GetChangeCounts', [prefix]);
  return {
    counts: JSON.parse(String(out[0].value)) as Record<string, number>,
    total: Number(out[1].value),
    loadTick: Number(out[2].value),
  };
}

/** Starts or stops the simulator's load tags (Objects/<site>/Load/Start|Stop); returns the last tick. */
export async function setLoad(session: ClientSession, running: boolean, site = 'Plant1'): Promise<number> {
  const out = await callOn(session, `/1:${site}/1:Load`, running ? 'Start' : 'Stop');
  return Number(out[0].value);
}
