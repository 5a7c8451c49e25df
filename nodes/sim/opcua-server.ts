/**
 * The simulator's OPC UA server (node-opcua): Objects/<Site>/<Line>/<Machine>/<Variable> with proper
 * DataTypes, EUInformation and EURange, source timestamps and StatusCodes; methods InjectFault and
 * ClearFaults on the site object; security None, Basic256Sha256 and Aes128_Sha256_RsaOaep in Sign and
 * SignAndEncrypt; anonymous, username/password and X.509 users (a trust list of user certificates); a load
 * mode of N extra tags for benchmarks. Every value change it writes is counted per tag (GetChangeCounts).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
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
import { derCertificate } from '../opcua/connection';
import { ChangeCounter } from './counts';
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
  /**
   * X.509 user certificates (PEM or DER files) to trust. They join the user trust list, the folder
   * `<pkiDir>/users/trusted/certs` (certificates put there are trusted too); any other user certificate is
   * refused and kept in `<pkiDir>/users/rejected`.
   */
  userCertificates?: string[];
  securityPolicies?: SimSecurityPolicy[];
  /**
   * Load mode: `tags` extra Double variables under Objects/<Site>/Load, each changing `rateHz` times a
   * second; every tag's value is the number of the tick that set it (1, 2, 3, ...). The methods Start and
   * Stop on the Load object resume and pause it.
   */
  load?: { tags: number; rateHz: number };
  /**
   * Inspection cameras: each machine with a camera gets an object Camera with Image (ByteString, the PNG of
   * the last part) and Part (String, JSON ground truth of that part), set by `publishImage`.
   */
  camera?: boolean;
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
  private readonly vars = new Map<
    string,
    { tag: TagInfo; path: string; node: UAVariable; last: TagValue | undefined }
  >();
  private loadVars: { path: string; node: UAVariable }[] = [];
  private readonly cameraVars = new Map<string, { image: UAVariable; part: UAVariable }>();
  private loadTimer: NodeJS.Timeout | undefined;
  private tick = 0;
  private userCertificateManager: OPCUACertificateManager | undefined;
  /**
   * Every value change this server has written, per tag, keyed by its browse path from Objects (e.g.
   * "Plant1/Line1/CNC1/Power", "Plant1/Load/Tag00042"): what it offered its clients. Setpoints written
   * by clients are not counted.
   */
  readonly changes = new ChangeCounter();

  constructor(sim: PlantSimulator, opts: SimServerOptions) {
    super();
    this.sim = sim;
    this.opts = opts;
  }

  /** The running node-opcua server (for takt-guard's tap), undefined when stopped. */
  get uaServer(): OPCUAServer | undefined {
    return this.server;
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
    // X.509 users: only the certificates on the user trust list (client certificates, by contrast, are
    // accepted on first use, as a test server's should be).
    const userCertificateManager = new OPCUACertificateManager({
      rootFolder: join(o.pkiDir, 'users'),
      automaticallyAcceptUnknownCertificate: false,
    });
    const userCertificates = (o.userCertificates ?? []).map((file) => readCertificateFile(file));
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
      userCertificateManager,
      userManager: {
        isValidUser: (username: string, password: string) =>
          users.some((u) => u.user === username && u.password === password),
      },
      serverCapabilities: {
        // 0: an item that asks for sampling interval 0 gets every change (node-opcua otherwise folds the
        // changes of each 100 ms into one), so a client can receive every change the simulator counts.
        minSupportedSampleRate: 0,
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
      for (const der of userCertificates) await userCertificateManager.trustCertificate(der);
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
    this.userCertificateManager = userCertificateManager;
    this.publish();
    if (o.load && o.load.tags > 0) this.startLoad();
  }

  /** Adds a user certificate (PEM or DER file) to the user trust list of the running server. */
  async trustUserCertificate(file: string): Promise<void> {
    if (!this.userCertificateManager)
      throw new TaktError('sim.notStarted', 'the OPC UA server is not running');
    await this.userCertificateManager.trustCertificate(readCertificateFile(file));
  }

  /** The load mode's last tick (the value every load tag holds), 0 before the first. */
  get loadTick(): number {
    return this.tick;
  }

  /** Whether the load mode is producing changes. */
  get loadRunning(): boolean {
    return this.loadTimer !== undefined;
  }

  /** Resumes the load mode (no-op without load tags or when running); the ticks missed while paused are not made up. */
  startLoad(): void {
    const rateHz = this.opts.load?.rateHz ?? 0;
    if (!this.server || this.loadVars.length === 0 || this.loadTimer || !(rateHz > 0)) return;
    const everyMs = 1000 / rateHz;
    let next = performance.now() + everyMs;
    const tick = () => {
      // Catch up on missed ticks so the offered rate is the configured one even under load.
      const now = performance.now();
      while (next <= now) {
        this.tick++;
        const ts = new Date();
        // The value is the tick counter, so a client can tell exactly which changes it missed.
        const v = new Variant({ dataType: DataType.Double, value: this.tick });
        for (const l of this.loadVars) {
          l.node.setValueFromSource(v, StatusCodes.Good, ts);
          this.changes.add(l.path);
        }
        next += everyMs;
      }
    };
    this.loadTimer = setInterval(tick, Math.max(1, Math.floor(everyMs / 2)));
  }

  /** Pauses the load mode: no load tag changes until `startLoad()`; the counts stay as they are. */
  stopLoad(): void {
    if (this.loadTimer) clearInterval(this.loadTimer);
    this.loadTimer = undefined;
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
      this.changes.add(v.path);
    }
  }

  /** Publishes each machine's vibration waveform of the current simulated second. */
  publishWaveforms(): void {
    if (!this.server) return;
    const ts = new Date(this.sim.now);
    for (const v of this.vars.values()) {
      if (v.tag.type !== 'DoubleArray') continue;
      v.node.setValueFromSource(variant(v.tag, this.sim.waveform(v.tag.machine)), StatusCodes.Good, ts);
      this.changes.add(v.path);
    }
  }

  /** Sets a camera's Image (PNG bytes) and Part (ground truth JSON) at the part's simulated time. */
  publishImage(machine: string, png: Uint8Array, truth: { ts: number }): void {
    const v = this.cameraVars.get(machine);
    if (!this.server || !v) return;
    const ts = new Date(truth.ts);
    const bytes = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
    v.image.setValueFromSource(
      new Variant({ dataType: DataType.ByteString, value: bytes }),
      StatusCodes.Good,
      ts,
    );
    v.part.setValueFromSource(
      new Variant({ dataType: DataType.String, value: JSON.stringify(truth) }),
      StatusCodes.Good,
      ts,
    );
  }

  async stop(): Promise<void> {
    this.stopLoad();
    const s = this.server;
    this.server = undefined;
    this.userCertificateManager = undefined;
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
      const path = `${model.site}/${tag.line}/${tag.machine}/${tag.name}`;
      if (!tag.writable) this.changes.declare(path);
      this.vars.set(tag.topic, { tag, path, node: this.addVariable(ns, machine, tag), last: undefined });
    }
    if (this.opts.camera)
      for (const c of this.sim.cameras()) {
        const machine = machines.get(c.machine);
        if (!machine) continue;
        const camera = ns.addObject({ componentOf: machine, browseName: 'Camera' });
        const common = {
          componentOf: camera,
          minimumSamplingInterval: 0,
          accessLevel: 'CurrentRead',
          userAccessLevel: 'CurrentRead',
        };
        this.cameraVars.set(c.machine, {
          image: ns.addVariable({
            ...common,
            browseName: 'Image',
            description: `PNG image of the last part (${c.camera.size}x${c.camera.size}, ${c.camera.product})`,
            dataType: 'ByteString',
            value: new Variant({ dataType: DataType.ByteString, value: Buffer.alloc(0) }),
          }),
          part: ns.addVariable({
            ...common,
            browseName: 'Part',
            description: 'Ground truth of the last image as JSON: part number, time, defect and its box',
            dataType: 'String',
            value: new Variant({ dataType: DataType.String, value: '' }),
          }),
        });
      }
    this.addMethods(ns, site);
    this.addCountMethod(ns, site);
    if (this.opts.load && this.opts.load.tags > 0) {
      const folder = ns.addObject({ componentOf: site, browseName: 'Load' });
      for (let i = 0; i < this.opts.load.tags; i++) {
        const name = `Tag${String(i).padStart(5, '0')}`;
        const path = `${model.site}/Load/${name}`;
        this.changes.declare(path);
        this.loadVars.push({
          path,
          node: ns.addVariable({
            componentOf: folder,
            browseName: name,
            dataType: 'Double',
            minimumSamplingInterval: 0,
            value: new Variant({ dataType: DataType.Double, value: 0 }),
          }),
        });
      }
      this.addLoadMethods(ns, folder);
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
              this.sim.write(tag.machine, tag.name, Number(v.value));
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
        'Starts a fault on a machine: kind bearing, toolWear, shift, breakdown, overheat or surfaceDefect (machines with a camera); severity in (0, 1]',
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

  private addCountMethod(ns: Namespace, site: UAObject): void {
    const counts = ns.addMethod(site, {
      browseName: 'GetChangeCounts',
      description:
        'Value changes the server has written since start, per tag (browse path from Objects), to compare with what a client received',
      inputArguments: [
        {
          name: 'prefix',
          dataType: DataType.String,
          description: 'Only tags whose path starts with this, e.g. Plant1/Load/ (empty for all)',
        },
      ],
      outputArguments: [
        {
          name: 'counts',
          dataType: DataType.String,
          description: 'JSON object: browse path -> changes, e.g. {"Plant1/Line1/CNC1/Power": 1200}',
        },
        { name: 'total', dataType: DataType.Double, description: 'Sum of the counts' },
        {
          name: 'loadTick',
          dataType: DataType.UInt32,
          description: 'Last tick of the load mode (the value of every load tag); 0 without load',
        },
      ],
    });
    counts.bindMethod(async (args: Variant[], _context: unknown) => {
      const prefix = String(args[0]?.value ?? '');
      return {
        statusCode: StatusCodes.Good,
        outputArguments: [
          { dataType: DataType.String, value: JSON.stringify(this.changes.snapshot(prefix)) },
          { dataType: DataType.Double, value: this.changes.total(prefix) },
          { dataType: DataType.UInt32, value: this.tick },
        ],
      };
    });
  }

  private addLoadMethods(ns: Namespace, folder: UAObject): void {
    const out = [{ name: 'loadTick', dataType: DataType.UInt32, description: 'Last tick of the load mode' }];
    const start = ns.addMethod(folder, {
      browseName: 'Start',
      description: 'Resumes the load tags (they start changing again at the configured rate)',
      outputArguments: out,
    });
    start.bindMethod(async (_args: Variant[], _context: unknown) => {
      this.startLoad();
      return {
        statusCode: StatusCodes.Good,
        outputArguments: [{ dataType: DataType.UInt32, value: this.tick }],
      };
    });
    const stop = ns.addMethod(folder, {
      browseName: 'Stop',
      description: 'Pauses the load tags: no change until Start, so GetChangeCounts then gives final counts',
      outputArguments: out,
    });
    stop.bindMethod(async (_args: Variant[], _context: unknown) => {
      this.stopLoad();
      return {
        statusCode: StatusCodes.Good,
        outputArguments: [{ dataType: DataType.UInt32, value: this.tick }],
      };
    });
  }
}

/** A certificate file, PEM or DER, as DER bytes. */
function readCertificateFile(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new TaktError(
      'sim.badCertificate',
      `cannot read the user certificate ${file}: ${(err as Error).message}`,
      'userCertificates',
    );
  }
  const der = derCertificate(raw);
  // A DER certificate is an ASN.1 SEQUENCE (0x30).
  if (der.length < 64 || der[0] !== 0x30) {
    throw new TaktError(
      'sim.badCertificate',
      `${file} is not a certificate (PEM or DER)`,
      'userCertificates',
    );
  }
  return der;
}
