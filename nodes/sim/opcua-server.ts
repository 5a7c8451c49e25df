/**
 * The simulator's OPC UA server (node-opcua): Objects/<Site>/<Line>/<Machine>/<Variable> with proper
 * DataTypes, EUInformation and EURange, source timestamps and StatusCodes; methods InjectFault and
 * ClearFaults on the site object; security None, Basic256Sha256 and Aes128_Sha256_RsaOaep in Sign and
 * SignAndEncrypt; anonymous and username/password users; a load mode of N extra tags for benchmarks.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import {
  DataType,
  type EUInformation,
  makeEUInformation,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  standardUnits,
  StatusCodes,
  Variant,
  VariantArrayType,
  type Namespace,
  type UAObject,
  type UAVariable,
} from 'node-opcua';
import { TaktError } from '../core/errors';
import type { FaultRecord, PlantSimulator, TagInfo, TagValue } from './engine';

export const SIM_SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep'] as const;
export type SimSecurityPolicy = (typeof SIM_SECURITY_POLICIES)[number];

export interface SimServerOptions {
  port: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Folder of the server's PKI (own certificate, trusted and rejected client certificates). */
  pkiDir: string;
  /** Username/password users; anonymous access stays on unless allowAnonymous is false. */
  users?: { user: string; password: string }[];
  allowAnonymous?: boolean;
  securityPolicies?: SimSecurityPolicy[];
  /**
   * Load mode: `tags` extra Double variables under Objects/<Site>/Load, each changing `rateHz` times a
   * second; every tag's value is the number of the tick that set it (1, 2, 3, ...).
   */
  load?: { tags: number; rateHz: number };
}

export interface SimServerEvents {
  fault: [FaultRecord];
  cleared: [FaultRecord[]];
}

const UNITS: Record<string, EUInformation> = {
  '°C': standardUnits.degree_celsius,
  kW: standardUnits.kilowatt,
  A: standardUnits.ampere,
  Hz: standardUnits.hertz,
  mm: standardUnits.millimetre,
  g: standardUnits.gram,
  s: standardUnits.second,
  rpm: standardUnits.revolutions_per_minute,
  kWh: makeEUInformation('KWH', 'kWh', 'kilowatt hour'),
  'mm/s': makeEUInformation('C16', 'mm/s', 'millimetre per second'),
  gn: makeEUInformation('K40', 'gn', 'standard acceleration of free fall'),
};

// node-opcua exports EUInformation as a type only; its class is the constructor of any standard unit.
const EUInformationClass = standardUnits.second.constructor as new (options: {
  namespaceUri: string;
  unitId: number;
  displayName: { text: string };
  description: { text: string };
}) => EUInformation;

/** EUInformation for a unit symbol: the UNECE unit where one exists, else unitId -1 (no code). */
function euInformation(unit: string): EUInformation {
  return (
    UNITS[unit] ??
    new EUInformationClass({
      namespaceUri: 'http://www.opcfoundation.org/UA/units/un/cefact',
      unitId: -1,
      displayName: { text: unit },
      description: { text: unit },
    })
  );
}

const SCALAR: Record<Exclude<TagInfo['type'], 'DoubleArray'>, DataType> = {
  Double: DataType.Double,
  Int32: DataType.Int32,
  UInt32: DataType.UInt32,
  String: DataType.String,
};

function variant(tag: TagInfo, value: TagValue): Variant {
  if (tag.type === 'DoubleArray') {
    return new Variant({
      dataType: DataType.Double,
      arrayType: VariantArrayType.Array,
      value: Float64Array.from(value as number[]),
    });
  }
  return new Variant({ dataType: SCALAR[tag.type], value });
}

/**
 * Server initialisations per PKI folder, one at a time: two simulators in one runtime share the folder, and
 * two servers creating its certificate and key at the same moment leave an unreadable key behind.
 */
const pkiQueue = new Map<string, Promise<unknown>>();

function oneAtATime<T>(key: string, job: () => Promise<T>): Promise<T> {
  const run = (pkiQueue.get(key) ?? Promise.resolve()).then(job, job);
  pkiQueue.set(key, run);
  const forget = () => {
    if (pkiQueue.get(key) === run) pkiQueue.delete(key);
  };
  run.then(forget, forget);
  return run;
}

export class SimOpcuaServer extends EventEmitter<SimServerEvents> {
  private readonly sim: PlantSimulator;
  private readonly opts: SimServerOptions;
  private server: OPCUAServer | undefined;
  private readonly vars = new Map<string, { tag: TagInfo; node: UAVariable; last: TagValue | undefined }>();
  private loadVars: UAVariable[] = [];
  private loadTimer: NodeJS.Timeout | undefined;
  private loadTick = 0;
  /** Value changes offered by the load mode since start (for delivered/offered figures). */
  loadChanges = 0;

  constructor(sim: PlantSimulator, opts: SimServerOptions) {
    super();
    this.sim = sim;
    this.opts = opts;
  }

  get endpointUrl(): string {
    return `opc.tcp://${this.opts.host ?? '127.0.0.1'}:${this.opts.port}/UA/Takt`;
  }

  async start(): Promise<void> {
    const o = this.opts;
    const policies = (o.securityPolicies ?? [...SIM_SECURITY_POLICIES]).map((p) => {
      if (!(SIM_SECURITY_POLICIES as readonly string[]).includes(p)) {
        throw new TaktError(
          'sim.badSecurityPolicy',
          `unknown security policy "${p}" (use ${SIM_SECURITY_POLICIES.join(', ')})`,
        );
      }
      return SecurityPolicy[p];
    });
    const users = o.users ?? [];
    const certificateManager = new OPCUACertificateManager({
      rootFolder: o.pkiDir,
      automaticallyAcceptUnknownCertificate: true,
    });
    const server = new OPCUAServer({
      port: o.port,
      host: o.host ?? '127.0.0.1',
      hostname: o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1',
      resourcePath: '/UA/Takt',
      buildInfo: { productName: 'Takt plant simulator', manufacturerName: 'Takt', softwareVersion: '0.1.0' },
      securityPolicies: policies,
      securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
      allowAnonymous: o.allowAnonymous ?? true,
      serverCertificateManager: certificateManager,
      // X.509 user certificates: the simulator is a test server and accepts any (as it does client certificates).
      userCertificateManager: new OPCUACertificateManager({
        rootFolder: join(o.pkiDir, 'users'),
        automaticallyAcceptUnknownCertificate: true,
      }),
      userManager: {
        isValidUser: (username: string, password: string) =>
          users.some((u) => u.user === username && u.password === password),
      },
      serverCapabilities: {
        maxSessions: 50,
        maxSubscriptionsPerSession: 20,
        maxMonitoredItemsPerSubscription: 100000,
        maxMonitoredItemsQueueSize: 10000,
      },
    });
    this.vars.clear();
    this.loadVars = [];
    try {
      await oneAtATime(o.pkiDir, () => server.initialize());
      this.build(server);
      await server.start();
    } catch (err) {
      await server.shutdown().catch(() => undefined);
      const code = (err as NodeJS.ErrnoException).code;
      if (
        code === 'EADDRINUSE' ||
        /EADDRINUSE|address already in use/i.test(String((err as Error).message))
      ) {
        throw new TaktError(
          'sim.portInUse',
          `OPC UA port ${o.port} on ${o.host ?? '127.0.0.1'} is already in use`,
          'port',
        );
      }
      throw err;
    }
    this.server = server;
    this.publish();
    if (o.load && o.load.tags > 0) this.startLoad(o.load.rateHz);
  }

  /** Writes every tag whose value changed since the last call, with the simulated source timestamp. */
  publish(): void {
    if (!this.server) return;
    const snap = this.sim.snapshot();
    const ts = new Date(this.sim.now);
    for (const [topic, v] of this.vars) {
      if (v.tag.type === 'DoubleArray' || v.tag.writable) continue;
      const cur = snap.get(topic);
      if (!cur || cur.value === v.last) continue;
      v.last = cur.value;
      v.node.setValueFromSource(variant(v.tag, cur.value), StatusCodes.Good, ts);
    }
  }

  /** Publishes each machine's vibration waveform of the current simulated second. */
  publishWaveforms(): void {
    if (!this.server) return;
    const ts = new Date(this.sim.now);
    for (const v of this.vars.values()) {
      if (v.tag.type !== 'DoubleArray') continue;
      v.node.setValueFromSource(variant(v.tag, this.sim.waveform(v.tag.machine)), StatusCodes.Good, ts);
    }
  }

  async stop(): Promise<void> {
    if (this.loadTimer) clearInterval(this.loadTimer);
    this.loadTimer = undefined;
    const s = this.server;
    this.server = undefined;
    if (s) await s.shutdown(0);
  }

  private build(server: OPCUAServer): void {
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('OPC UA address space not ready');
    const ns = addressSpace.getOwnNamespace();
    const model = this.sim.model;
    const site = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: model.site });
    const lines = new Map<string, UAObject>();
    const machines = new Map<string, UAObject>();
    for (const tag of this.sim.tags()) {
      let line = lines.get(tag.line);
      if (!line) {
        line = ns.addObject({ componentOf: site, browseName: tag.line });
        lines.set(tag.line, line);
      }
      let machine = machines.get(tag.machine);
      if (!machine) {
        machine = ns.addObject({ componentOf: line, browseName: tag.machine });
        machines.set(tag.machine, machine);
      }
      this.vars.set(tag.topic, { tag, node: this.addVariable(ns, machine, tag), last: undefined });
    }
    this.addMethods(ns, site);
    if (this.opts.load && this.opts.load.tags > 0) {
      const folder = ns.addObject({ componentOf: site, browseName: 'Load' });
      for (let i = 0; i < this.opts.load.tags; i++) {
        this.loadVars.push(
          ns.addVariable({
            componentOf: folder,
            browseName: `Tag${String(i).padStart(5, '0')}`,
            dataType: 'Double',
            minimumSamplingInterval: 0,
            value: new Variant({ dataType: DataType.Double, value: 0 }),
          }),
        );
      }
    }
  }

  private addVariable(ns: Namespace, machine: UAObject, tag: TagInfo): UAVariable {
    // Measurements are read-only; only the tags marked writable (setpoints) accept writes.
    const common = {
      componentOf: machine,
      browseName: tag.name,
      description: tag.description,
      minimumSamplingInterval: 0,
      accessLevel: 'CurrentRead',
      userAccessLevel: 'CurrentRead',
    };
    if (tag.type === 'DoubleArray') {
      return ns.addAnalogDataItem({
        ...common,
        dataType: 'Double',
        valueRank: 1,
        arrayDimensions: [0],
        engineeringUnitsRange: { low: tag.range?.[0] ?? -1e9, high: tag.range?.[1] ?? 1e9 },
        engineeringUnits: euInformation(tag.unit ?? ''),
        value: new Variant({
          dataType: DataType.Double,
          arrayType: VariantArrayType.Array,
          value: new Float64Array(0),
        }),
      }) as unknown as UAVariable;
    }
    if (tag.writable) {
      // A setpoint: clients write it, the simulator applies it (out-of-range writes are refused).
      return ns.addAnalogDataItem({
        ...common,
        minimumSamplingInterval: 100,
        dataType: 'Double',
        accessLevel: 'CurrentRead | CurrentWrite',
        userAccessLevel: 'CurrentRead | CurrentWrite',
        engineeringUnitsRange: { low: tag.range?.[0] ?? -1e9, high: tag.range?.[1] ?? 1e9 },
        engineeringUnits: euInformation(tag.unit ?? ''),
        value: {
          get: () =>
            new Variant({ dataType: DataType.Double, value: this.sim.snapshot().get(tag.topic)?.value ?? 0 }),
          set: (v: Variant) => {
            try {
              this.sim.setOffset(tag.machine, Number(v.value));
              return StatusCodes.Good;
            } catch {
              return StatusCodes.BadOutOfRange;
            }
          },
        },
      }) as unknown as UAVariable;
    }
    if (tag.type === 'Double' && tag.unit !== undefined) {
      return ns.addAnalogDataItem({
        ...common,
        dataType: 'Double',
        engineeringUnitsRange: { low: tag.range?.[0] ?? -1e9, high: tag.range?.[1] ?? 1e9 },
        engineeringUnits: euInformation(tag.unit),
        value: new Variant({ dataType: DataType.Double, value: 0 }),
      }) as unknown as UAVariable;
    }
    return ns.addVariable({
      ...common,
      dataType: tag.type,
      value: new Variant({ dataType: SCALAR[tag.type], value: tag.type === 'String' ? '' : 0 }),
    });
  }

  private addMethods(ns: Namespace, site: UAObject): void {
    const inject = ns.addMethod(site, {
      browseName: 'InjectFault',
      description:
        'Starts a fault on a machine: kind bearing, toolWear, shift, breakdown or overheat; severity in (0, 1]',
      inputArguments: [
        { name: 'machine', dataType: DataType.String, description: 'Machine id, e.g. CNC1' },
        {
          name: 'kind',
          dataType: DataType.String,
          description: 'bearing | toolWear | shift | breakdown | overheat',
        },
        { name: 'severity', dataType: DataType.Double, description: 'Severity in (0, 1]' },
      ],
      outputArguments: [
        {
          name: 'faultId',
          dataType: DataType.UInt32,
          description: 'Id of the fault in the ground-truth log',
        },
        { name: 'message', dataType: DataType.String, description: 'What happened' },
      ],
    });
    inject.bindMethod(async (args: Variant[], _context: unknown) => {
      try {
        const r = this.sim.inject(
          String(args[0].value),
          String(args[1].value),
          Number(args[2].value),
          'method',
        );
        this.emit('fault', r);
        this.publish();
        return {
          statusCode: StatusCodes.Good,
          outputArguments: [
            { dataType: DataType.UInt32, value: r.id },
            {
              dataType: DataType.String,
              value: `fault ${r.id}: ${r.kind} on ${r.machine}, severity ${r.severity}`,
            },
          ],
        };
      } catch (err) {
        return {
          statusCode: StatusCodes.BadInvalidArgument,
          statusText: (err as Error).message,
          outputArguments: [
            { dataType: DataType.UInt32, value: 0 },
            { dataType: DataType.String, value: (err as Error).message },
          ],
        };
      }
    });
    const clear = ns.addMethod(site, {
      browseName: 'ClearFaults',
      description: 'Ends the faults of one machine, or of every machine when machine is empty',
      inputArguments: [
        { name: 'machine', dataType: DataType.String, description: 'Machine id, or empty for all' },
      ],
      outputArguments: [
        { name: 'cleared', dataType: DataType.UInt32, description: 'How many faults ended' },
        { name: 'message', dataType: DataType.String, description: 'What happened' },
      ],
    });
    clear.bindMethod(async (args: Variant[], _context: unknown) => {
      try {
        const machine = String(args[0]?.value ?? '');
        const ended = this.sim.clear(machine === '' ? undefined : machine);
        this.emit('cleared', ended);
        this.publish();
        return {
          statusCode: StatusCodes.Good,
          outputArguments: [
            { dataType: DataType.UInt32, value: ended.length },
            { dataType: DataType.String, value: `${ended.length} fault(s) cleared` },
          ],
        };
      } catch (err) {
        return {
          statusCode: StatusCodes.BadInvalidArgument,
          statusText: (err as Error).message,
          outputArguments: [
            { dataType: DataType.UInt32, value: 0 },
            { dataType: DataType.String, value: (err as Error).message },
          ],
        };
      }
    });
  }

  private startLoad(rateHz: number): void {
    const everyMs = 1000 / rateHz;
    let next = performance.now() + everyMs;
    const tick = () => {
      // Catch up on missed ticks so the offered rate is the configured one even under load.
      const now = performance.now();
      while (next <= now) {
        this.loadTick++;
        const ts = new Date();
        // The value is the tick counter, so a client can tell exactly which changes it missed.
        const v = new Variant({ dataType: DataType.Double, value: this.loadTick });
        for (const node of this.loadVars) node.setValueFromSource(v, StatusCodes.Good, ts);
        this.loadChanges += this.loadVars.length;
        next += everyMs;
      }
    };
    this.loadTimer = setInterval(tick, Math.max(1, Math.floor(everyMs / 2)));
  }
}
