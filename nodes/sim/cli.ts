#!/usr/bin/env node
/**
 * takt-sim: the plant simulator from a shell.
 *   npx takt-sim --port 4841 [--time-factor 60] [--mqtt mqtt://127.0.0.1:1883] [--user op:secret] ...
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PLANT, parsePlantModel, type PlantModel } from './model';
import { SimRunner } from './runner';

const HELP = `takt-sim: a simulated production line over OPC UA (and Sparkplug B)

  --port N            OPC UA port (default 4840; 0 = no OPC UA)
  --host ADDR         interface to listen on (default 127.0.0.1)
  --plant FILE        plant model JSON (default: the built-in line of four machines)
  --seed N            random seed (default 1): the same seed gives the same data
  --time-factor N     simulated seconds per second, 1..3600 (default 1)
  --faults-per-day N  seeded random faults over the plant (default 0)
  --user NAME:PASS    an OPC UA user (repeatable)
  --no-anonymous      refuse anonymous OPC UA sessions
  --user-cert FILE    trust this X.509 user certificate, PEM or DER (repeatable); other user
                      certificates are refused, except those in <pki>/users/trusted/certs
  --mqtt URL[,URL]    also publish as a Sparkplug B edge node on this broker (several: fail over)
  --group ID          Sparkplug group id (default Takt)
  --edge-node ID      Sparkplug edge node id (default: the first line's id)
  --load-tags N       load mode: N extra tags under Objects/<Site>/Load
  --load-rate HZ      how often each load tag changes (default 10)
  --ground-truth FILE append fault starts and ends as JSON lines, and on stop the value changes
                      served per tag (default .takt/sim/ground-truth.jsonl)
  --camera            publish one PNG per part from each inspection camera (OPC UA Camera/Image, MQTT)
  --pki DIR           PKI folder of the server (default .takt/sim/pki)
  --help`;

function num(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) fail(`--${name} needs a number, got "${v}"`);
  return n;
}

function fail(message: string): never {
  console.error(`takt-sim: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        plant: { type: 'string' },
        seed: { type: 'string' },
        'time-factor': { type: 'string' },
        'faults-per-day': { type: 'string' },
        user: { type: 'string', multiple: true },
        'no-anonymous': { type: 'boolean' },
        'user-cert': { type: 'string', multiple: true },
        mqtt: { type: 'string' },
        group: { type: 'string' },
        'edge-node': { type: 'string' },
        'load-tags': { type: 'string' },
        'load-rate': { type: 'string' },
        'ground-truth': { type: 'string' },
        pki: { type: 'string' },
        camera: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}\n\n${HELP}`);
  }
  if (args.help) {
    console.log(HELP);
    return;
  }
  let model: PlantModel = DEFAULT_PLANT;
  if (args.plant) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(args.plant, 'utf8'));
    } catch (err) {
      fail(`cannot read the plant model ${args.plant}: ${(err as Error).message}`);
    }
    try {
      model = parsePlantModel(raw);
    } catch (err) {
      fail(`${args.plant}: ${(err as Error).message}`);
    }
  }
  const users = (args.user ?? []).map((u) => {
    const i = u.indexOf(':');
    if (i <= 0) fail(`--user needs NAME:PASSWORD, got "${u}"`);
    return { user: u.slice(0, i), password: u.slice(i + 1) };
  });
  const port = num(args.port, 'port', 4840);
  const loadTags = num(args['load-tags'], 'load-tags', 0);
  const runner = new SimRunner(model, {
    seed: num(args.seed, 'seed', 1),
    timeFactor: num(args['time-factor'], 'time-factor', 1),
    camera: args.camera === true,
    faultsPerDay: num(args['faults-per-day'], 'faults-per-day', 0),
    groundTruthFile: resolve(args['ground-truth'] ?? join('.takt', 'sim', 'ground-truth.jsonl')),
    opcua: port
      ? {
          port,
          host: args.host ?? '127.0.0.1',
          pkiDir: resolve(args.pki ?? join('.takt', 'sim', 'pki')),
          users,
          allowAnonymous: !args['no-anonymous'],
          userCertificates: (args['user-cert'] ?? []).map((f) => resolve(f)),
          load:
            loadTags > 0 ? { tags: loadTags, rateHz: num(args['load-rate'], 'load-rate', 10) } : undefined,
        }
      : undefined,
    sparkplug: args.mqtt
      ? { url: args.mqtt, groupId: args.group ?? 'Takt', edgeNodeId: args['edge-node'] ?? model.lines[0].id }
      : undefined,
  });
  runner.on('fault', (e) =>
    console.log(
      `fault ${e.event}: ${e.fault.kind} on ${e.fault.machine} (id ${e.fault.id}, severity ${e.fault.severity})`,
    ),
  );
  runner.on('warning', (err) => console.warn(`warning: ${err.message}`));
  try {
    await runner.start();
  } catch (err) {
    fail((err as Error).message);
  }
  const machines = runner.sim.machineIds().join(', ');
  console.log(
    `takt-sim: ${model.site}/${model.lines.map((l) => l.id).join(',')} (${machines}) at ${runner.timeFactor}x, seed ${runner.sim.seed}`,
  );
  if (runner.opcua)
    console.log(
      `takt-sim: OPC UA ${runner.opcua.endpointUrl}${loadTags ? ` with ${loadTags} load tags` : ''}`,
    );
  if (args.mqtt) console.log(`takt-sim: Sparkplug B on ${args.mqtt}`);
  const stop = () => {
    void runner.stop().then(() => {
      if (runner.opcua)
        console.log(`takt-sim: ${runner.opcua.changes.total()} value changes served over OPC UA`);
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
