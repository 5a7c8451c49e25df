/**
 * The testbed of bench:guard (and of its CI-sized integration test): takt-guard's detector on a seeded loopback testbed (127.0.0.0/8 only, bounded in time).
 *
 * An aedes broker with the guard's tap, the plant simulator serving OPC UA (tapped too) and publishing
 * Sparkplug B to the broker, ten MQTT sensors (periodic and random, each from its own 127.0.0.x
 * address), an MES client that subscribes over MQTT and reads and writes over OPC UA, and a dashboard
 * subscriber. Plant time runs `--factor` times faster than the wall clock (the taps stamp events with
 * plant time). The guard learns the first `--train` plant minutes (its last 30 % held out for the
 * thresholds), is scored on the rest of the `--minutes` of normal traffic, then attack scripts of 7
 * classes run `--trials` times each with random variants (rates, counts, topics, client ids, addresses).
 * Unsupervised: the detector never sees an attack before it is scored.
 *
 * Figures: detection per class (an alert of the class's type within the attack or 5 plant s after),
 * fpWindows (share of normal windows with any feature over its threshold), falseAlertsPerHour (alerts
 * outside every attack, per hour of plant time), medianDelayS (plant seconds from an attack's first
 * packet to its alert), cpuPct and rssMb of the guard alone at 5,000 messages/s (a child process: the
 * detector on synthetic traffic of that rate, CPU measured with process.cpuUsage around observe).
 *
 * Flags: --factor 20 --minutes 30 --train 15 --trials 4 --seed 1 --quick (CI size).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { type IClientOptions, MqttClient } from 'mqtt';
import {
  AttributeIds,
  type ClientSession,
  DataType,
  makeBrowsePath,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  UserTokenType,
} from 'node-opcua';
import { Rng } from '../../nodes/core/random';
import {
  type AedesLike,
  createDetector,
  EventQueue,
  type GuardAlert,
  type GuardEvent,
  type OpcuaServerLike,
  tapAedes,
  tapOpcuaServer,
} from '../../nodes/guard';
import { codec } from '../../nodes/mqtt/codec';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { SimRunner } from '../../nodes/sim/runner';
import { freePort } from '../../test/helpers/net';
import { ATTACK_CLASSES, type AttackClass } from './guard-traffic';

export interface TestbedOptions {
  factor: number;
  minutes: number;
  trainMinutes: number;
  trials: number;
  seed: number;
  /** Inject machine faults into the normal traffic (default true): some while learning, others after. */
  faults?: boolean;
  log?: (line: string) => void;
}

/** A machine fault the testbed injects into the simulator at a plant time (minutes from the start). */
export interface PlannedFault {
  atMin: number;
  machine: string;
  kind: 'bearing' | 'toolWear' | 'shift' | 'breakdown' | 'overheat';
  severity: number;
}

/**
 * The faults of the normal traffic: two while the guard learns (tool wear, a quality shift), then more
 * and other ones in the scored part (an overheat, a bearing fault, two breakdowns): the false-alarm budget
 * is checked on a period whose process excursions the guard never saw.
 */
export function faultPlan(trainMinutes: number, minutes: number): PlannedFault[] {
  const scored = minutes - trainMinutes;
  return [
    { atMin: 0.2 * trainMinutes, machine: 'CNC1', kind: 'toolWear', severity: 0.6 },
    { atMin: 0.4 * trainMinutes, machine: 'Press1', kind: 'shift', severity: 0.8 },
    { atMin: trainMinutes + 0.1 * scored, machine: 'Oven1', kind: 'overheat', severity: 1 },
    { atMin: trainMinutes + 0.2 * scored, machine: 'CNC1', kind: 'bearing', severity: 0.9 },
    { atMin: trainMinutes + 0.3 * scored, machine: 'Packer1', kind: 'breakdown', severity: 0.05 },
    { atMin: trainMinutes + 0.5 * scored, machine: 'Press1', kind: 'breakdown', severity: 0.05 },
  ];
}

export interface Trial {
  cls: AttackClass;
  /** When the script began (a preliminary connection included). */
  script: number;
  /** The first malicious packet. */
  start: number;
  end: number;
  detectedAt?: number;
}

export interface TestbedResult {
  trials: Trial[];
  perClass: Record<AttackClass, { trials: number; detected: number; medianDelayS: number }>;
  detectMin: number;
  fpWindows: number;
  falseAlerts: number;
  /** The first ten false alerts. */
  falseAlertSamples: GuardAlert[];
  normalHours: number;
  falseAlertsPerHour: number;
  medianDelayS: number;
  /** Faults injected while learning and in the scored normal part. */
  faultsTrain: number;
  faultsScored: number;
  events: number;
  dropped: number;
  alerts: GuardAlert[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (v: number[]) => {
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** An MQTT client whose socket leaves from `addr` (a 127.0.0.0/8 address). */
function connectFrom(addr: string, port: number, opts: IClientOptions): MqttClient {
  return new MqttClient(() => createConnection({ host: '127.0.0.1', port, localAddress: addr }), {
    reconnectPeriod: 0,
    ...opts,
  });
}

function connected(c: MqttClient): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
    c.once('close', () => reject(new Error('closed')));
  });
}

/** Runs the testbed and scores the guard; bounded by the flags (about (minutes + trials * 7 * 0.5) / factor minutes). */
export async function runTestbed(o: TestbedOptions): Promise<TestbedResult> {
  const log = o.log ?? (() => undefined);
  const rng = new Rng(o.seed);
  // plant time starts once every client is connected (setting up takes seconds of wall time)
  let start = performance.now();
  const T0 = Date.UTC(2026, 10, 2, 6, 0, 0);
  const clock = () => T0 + (performance.now() - start) * o.factor;
  /** Waits `plantMs` of plant time. */
  const wait = (plantMs: number) => sleep(plantMs / o.factor);
  const dir = mkdtempSync(join(tmpdir(), 'takt-bench-guard-'));
  const closers: (() => unknown)[] = [];

  // the detector behind a bounded queue, as in the node
  const detector = createDetector();
  const trainEnd = T0 + o.trainMinutes * 60_000;
  detector.beginTraining(T0 + 0.7 * (trainEnd - T0));
  let trained = false;
  const alerts: GuardAlert[] = [];
  let events = 0;
  const queue = new EventQueue((batch) => {
    for (const e of batch) {
      events++;
      if (!trained && e.ts >= trainEnd) {
        detector.endTraining(trainEnd);
        trained = true;
      }
      if (!trained) detector.learn(e);
      else alerts.push(...detector.observe(e));
    }
  }, 100_000);
  const sink = (e: GuardEvent) => queue.push(e);

  try {
    // broker: users with passwords; the tap
    const users = new Map<string, string>([
      ['mes', 'mes-pw'],
      ['sim', 'sim-pw'],
      ['dash', 'dash-pw'],
    ]);
    for (let i = 0; i < 10; i++) users.set(`sensor-${i}`, `pw-${i}`);
    const broker = await Aedes.createBroker();
    broker.authenticate = (_c, user, password, done) =>
      done(null, user !== undefined && users.get(user) === password?.toString());
    const tap = tapAedes(broker as unknown as AedesLike, sink, clock);
    const server: Server = createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    closers.push(
      () => new Promise<void>((r) => broker.close(() => server.close(() => r()))),
      () => tap.close(),
    );

    // the simulator: OPC UA (tapped) and Sparkplug B on the broker
    const uaPort = await freePort();
    const runner = new SimRunner(DEFAULT_PLANT, {
      seed: o.seed,
      timeFactor: o.factor,
      opcua: { port: uaPort, pkiDir: join(dir, 'pki'), users: [{ user: 'mes', password: 'mes-pw' }] },
      sparkplug: {
        url: `mqtt://127.0.0.1:${port}`,
        groupId: 'Plant1',
        edgeNodeId: 'Edge1',
        username: 'sim',
        password: 'sim-pw',
      },
    });
    await runner.start();
    closers.unshift(() => runner.stop());
    const uaTap = tapOpcuaServer(runner.opcua!.uaServer as unknown as OpcuaServerLike, sink, clock);
    closers.unshift(() => uaTap.close());
    const uaUrl = runner.opcua!.endpointUrl;

    // normal MQTT clients
    const sensors: {
      id: string;
      addr: string;
      topic: string;
      json: boolean;
      mean: number;
      sd: number;
      periodMs: number;
      random: boolean;
      c: MqttClient;
    }[] = [];
    for (let i = 0; i < 10; i++) {
      const addr = `127.0.0.${10 + i}`;
      const c = await connected(
        connectFrom(addr, port, {
          clientId: `sensor-${i}`,
          username: `sensor-${i}`,
          password: `pw-${i}`,
          keepalive: 30 + 10 * (i % 3),
        }),
      );
      sensors.push({
        id: `sensor-${i}`,
        addr,
        topic: `acme/site1/line${1 + (i % 2)}/cell${i}/${['temp', 'pressure', 'flow', 'level'][i % 4]}`,
        json: i % 2 === 0,
        mean: rng.uniform(10, 100),
        sd: rng.uniform(0.5, 3),
        periodMs: rng.uniform(1000, 4000),
        random: i % 3 === 2,
        c,
      });
    }
    const mes = await connected(
      connectFrom('127.0.0.3', port, { clientId: 'mes', username: 'mes', password: 'mes-pw', keepalive: 60 }),
    );
    await mes.subscribeAsync(['acme/#', 'spBv1.0/#']);
    const captured: { topic: string; payload: Buffer }[] = [];
    mes.on('message', (topic, payload) => {
      if (/\/(N|D)BIRTH\//.test(topic) && captured.length < 20) captured.push({ topic, payload });
    });
    const dash = await connected(
      connectFrom('127.0.0.4', port, {
        clientId: 'dashboard',
        username: 'dash',
        password: 'dash-pw',
        keepalive: 60,
      }),
    );
    await dash.subscribeAsync(['acme/site1/+/+/temp']);
    closers.unshift(() =>
      Promise.all([...sensors.map((s) => s.c.endAsync(true)), mes.endAsync(true), dash.endAsync(true)]),
    );

    let running = true;
    const timers: NodeJS.Timeout[] = [];
    for (const s of sensors) {
      const next = () => {
        if (!running) return;
        const v = s.mean + s.sd * rng.normal();
        s.c.publish(
          s.topic,
          s.json ? JSON.stringify({ value: Number(v.toFixed(3)), unit: 'u' }) : v.toFixed(3),
          { qos: s.random ? 1 : 0 },
        );
        timers.push(setTimeout(next, (s.random ? rng.exponential(s.periodMs) : s.periodMs) / o.factor));
      };
      timers.push(setTimeout(next, rng.uniform(0, s.periodMs) / o.factor));
    }
    closers.unshift(() => {
      running = false;
      timers.forEach(clearTimeout);
    });

    // the MES over OPC UA: reads every 2 plant s, writes a tool offset every minute
    const uaClient = (name: string, secure: boolean) =>
      OPCUAClient.create({
        applicationName: name,
        endpointMustExist: false,
        connectionStrategy: { maxRetry: 0 },
        ...(secure
          ? {
              securityMode: MessageSecurityMode.SignAndEncrypt,
              securityPolicy: SecurityPolicy.Basic256Sha256,
            }
          : {}),
        clientCertificateManager: new OPCUACertificateManager({
          rootFolder: join(dir, 'pki-client'),
          automaticallyAcceptUnknownCertificate: true,
        }),
      });
    const mesUa = uaClient('mes-ua', true);
    await mesUa.connect(uaUrl);
    const mesSession = await mesUa.createSession({
      type: UserTokenType.UserName,
      userName: 'mes',
      password: 'mes-pw',
    });
    closers.unshift(async () => {
      await mesSession.close().catch(() => undefined);
      await mesUa.disconnect();
    });
    const at = async (s: ClientSession, p: string) =>
      (await s.translateBrowsePath(makeBrowsePath('i=85', p))).targets![0].targetId.toString();
    const site = `/1:${DEFAULT_PLANT.site}`;
    const tags = runner.sim.tags();
    const readIds = await Promise.all(
      tags
        .filter((t) => !t.writable && t.type !== 'DoubleArray')
        .slice(0, 4)
        .map((t) => at(mesSession, `${site}/1:${t.line}/1:${t.machine}/1:${t.name}`)),
    );
    const setpoints = tags.filter((t) => t.writable);
    const setpointIds = await Promise.all(
      setpoints.map((t) => at(mesSession, `${site}/1:${t.line}/1:${t.machine}/1:${t.name}`)),
    );
    const methods = {
      site: await at(mesSession, site),
      clear: await at(mesSession, `${site}/1:ClearFaults`),
      inject: await at(mesSession, `${site}/1:InjectFault`),
    };
    let mesTick = 0;
    const mesLoop = (async () => {
      while (running) {
        await mesSession
          .read(readIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })))
          .catch(() => undefined);
        if (mesTick++ % 30 === 0)
          await mesSession
            .write({
              nodeId: setpointIds[0],
              attributeId: AttributeIds.Value,
              value: { value: { dataType: DataType.Double, value: 0 } },
            })
            .catch(() => undefined);
        await wait(2000);
      }
    })();
    closers.unshift(async () => {
      running = false;
      await mesLoop;
    });

    // normal traffic: training, then scored; machine faults injected on plan
    const plan = o.faults === false ? [] : faultPlan(o.trainMinutes, o.minutes);
    let injected = 0;
    const until = async (ts: number) => {
      while (clock() < ts) {
        while (injected < plan.length && clock() >= T0 + plan[injected].atMin * 60_000) {
          const f = plan[injected++];
          runner.inject(f.machine, f.kind, f.severity, 'schedule');
          log(`  fault: ${f.kind} on ${f.machine} at plant minute ${((clock() - T0) / 60_000).toFixed(1)}`);
        }
        await wait(Math.min(5000, Math.max(100, ts - clock())));
      }
    };
    start = performance.now();
    log(`normal traffic: ${o.minutes} plant minutes at ${o.factor}x (learning the first ${o.trainMinutes})`);
    await until(trainEnd + 5000);
    const atTrained = detector.stats();
    await until(T0 + o.minutes * 60_000);
    queue.drain();
    const afterNormal = detector.stats();
    const fpWindows =
      (afterNormal.flaggedWindows - atTrained.flaggedWindows) /
      Math.max(1, afterNormal.windows - atTrained.windows);
    log(
      `normal: ${afterNormal.windows - atTrained.windows} windows scored, ${afterNormal.flaggedWindows - atTrained.flaggedWindows} flagged, ${alerts.length} alerts`,
    );

    // attacks
    const trials: Trial[] = [];
    const order: AttackClass[] = [];
    for (let t = 0; t < o.trials; t++) order.push(...ATTACK_CLASSES);
    for (const cls of order) {
      await wait(20_000);
      const r = new Rng(o.seed * 1000 + trials.length);
      const trial: Trial = { cls, script: clock(), start: clock(), end: 0 };
      trials.push(trial);
      await attack(cls, r, () => (trial.start = clock()));
      trial.end = clock();
      log(`  ${cls}: ${((trial.end - trial.start) / 1000).toFixed(1)} plant s`);
    }
    await wait(10_000);
    queue.drain();
    const end = clock();

    /** `begin` marks the first malicious packet, after a preliminary connection (delays count from there). */
    async function attack(cls: AttackClass, r: Rng, begin: () => void): Promise<void> {
      const shared = r.next() < 0.3;
      const addr = shared ? '127.0.0.1' : `127.0.${r.int(1, 250)}.${r.int(1, 250)}`;
      const id = `c${Math.floor(r.uniform(0, 2 ** 31)).toString(36)}`;
      const victim = sensors[r.int(0, sensors.length - 1)];
      const open = async (clientId: string, more: IClientOptions = {}) =>
        connected(
          connectFrom(addr, port, {
            clientId,
            username: 'sensor-1',
            password: 'pw-1',
            keepalive: 60,
            ...more,
          }),
        );
      switch (cls) {
        case 'flood': {
          // credentials of a sensor (stolen), a new client id, 20x-400x a sensor's rate for 5-15 plant s
          const c = await open(id);
          begin();
          const perPlantS = r.uniform(20, 400);
          const until = clock() + r.uniform(5000, 15_000);
          const size = r.int(8, 1500);
          const topic = r.next() < 0.5 ? victim.topic : `acme/site1/x${r.int(0, 9)}`;
          while (clock() < until) {
            const n = Math.max(1, Math.round(perPlantS * 0.05));
            for (let i = 0; i < n; i++) c.publish(topic, Buffer.alloc(size, 1));
            await wait(50);
          }
          await c.endAsync(true);
          return;
        }
        case 'connection-hoarding': {
          const n = r.int(15, 60);
          const list: MqttClient[] = [];
          for (let i = 0; i < n; i++) {
            list.push(
              await open(`${id}-${i}`, { keepalive: r.int(0, 1) ? 0 : r.int(600, 65535) }).catch(
                () => undefined as never,
              ),
            );
            await wait(r.uniform(50, 500));
          }
          await wait(3000);
          await Promise.all(list.filter(Boolean).map((c) => c.endAsync(true)));
          return;
        }
        case 'brute-force': {
          if (r.next() < 0.6) {
            const n = r.int(8, 40);
            for (let i = 0; i < n; i++) {
              const c = connectFrom(addr, port, {
                clientId: r.next() < 0.5 ? id : `${id}${i}`,
                username: r.next() < 0.5 ? 'admin' : 'mes',
                password: `guess${i}`,
              });
              await connected(c).catch(() => undefined);
              c.end(true);
              await wait(r.uniform(100, 600));
            }
          } else {
            const n = r.int(6, 10);
            const client = uaClient(id, true);
            await client.connect(uaUrl);
            begin();
            for (let i = 0; i < n; i++)
              await client
                .createSession({ type: UserTokenType.UserName, userName: 'mes', password: `guess${i}` })
                .then(
                  (s) => s.close(),
                  () => undefined,
                );
            await client.disconnect();
            await wait(2000);
          }
          return;
        }
        case 'scan': {
          const v = r.int(0, 3);
          if (v === 3) {
            // an OPC UA browse sweep
            const client = uaClient(id, false);
            await client.connect(uaUrl);
            const s = await client.createSession();
            begin();
            const queue2 = ['i=85'];
            let n = 0;
            const limit = r.int(40, 200);
            while (queue2.length && n < limit) {
              const res = await s.browse(queue2.splice(0, 10));
              n += 10;
              for (const br of res) for (const ref of br.references ?? []) queue2.push(ref.nodeId.toString());
            }
            await s.close();
            await client.disconnect();
            return;
          }
          const c = await open(id);
          begin();
          if (v === 0) await c.subscribeAsync('#');
          else if (v === 1) await c.subscribeAsync('$SYS/#');
          else
            for (let i = 0; i < r.int(20, 100); i++)
              await c.subscribeAsync(`acme/site${r.int(1, 9)}/line${i}/+`);
          await wait(2000);
          await c.endAsync(true);
          return;
        }
        case 'unauthorised-write': {
          const client = uaClient(id, r.next() < 0.5);
          await client.connect(uaUrl);
          const s = await client.createSession();
          begin();
          if (r.next() < 0.5) {
            const k = r.int(0, setpointIds.length - 1);
            await s
              .write({
                nodeId: setpointIds[k],
                attributeId: AttributeIds.Value,
                value: { value: { dataType: DataType.Double, value: r.uniform(-0.01, 0.01) } },
              })
              .catch(() => undefined);
          } else {
            await s
              .call(
                r.next() < 0.5
                  ? {
                      objectId: methods.site,
                      methodId: methods.clear,
                      inputArguments: [{ dataType: DataType.String, value: '' }],
                    }
                  : {
                      objectId: methods.site,
                      methodId: methods.inject,
                      inputArguments: [
                        { dataType: DataType.String, value: 'CNC1' },
                        { dataType: DataType.String, value: 'overheat' },
                        { dataType: DataType.Double, value: 0.3 },
                      ],
                    },
              )
              .catch(() => undefined);
          }
          await s.close();
          await client.disconnect();
          return;
        }
        case 'replay': {
          const c = await open(id);
          begin();
          const birth =
            captured.length && r.next() < 0.5 ? captured[r.int(0, captured.length - 1)] : undefined;
          if (birth) c.publish(birth.topic, birth.payload);
          else {
            const forged = codec.encodePayload({
              timestamp: clock(),
              seq: 0,
              metrics: [
                { name: 'bdSeq', type: 'UInt64', value: r.int(0, 255) },
                { name: 'Properties/Plant', type: 'String', value: 'forged' },
              ],
            });
            c.publish(
              `spBv1.0/Plant1/${r.next() < 0.5 ? 'NBIRTH/Edge1' : 'DBIRTH/Edge1/CNC1'}`,
              Buffer.from(forged),
            );
          }
          await wait(2000);
          await c.endAsync(true);
          return;
        }
        case 'malformed': {
          const c = await open(id);
          begin();
          const v = r.int(0, 2);
          const far = victim.mean * r.uniform(20, 1000) * (r.next() < 0.5 ? -1 : 1);
          const body =
            v === 0
              ? Buffer.from([0, 255, 254, r.int(0, 255)])
              : v === 1
                ? victim.json
                  ? 'value='
                  : '{"v":'
                : victim.json
                  ? JSON.stringify({ value: far, unit: 'u' })
                  : String(far);
          for (let i = 0; i < r.int(1, 3); i++) c.publish(victim.topic, body);
          await wait(2000);
          await c.endAsync(true);
          return;
        }
      }
    }

    // scoring
    for (const t of trials) {
      const hit = alerts.find((a) => a.type === t.cls && a.ts >= t.script && a.ts <= t.end + 5000);
      if (hit) t.detectedAt = Math.max(hit.ts, t.start);
    }
    const inAttack = (ts: number) => trials.some((t) => ts >= t.script && ts <= t.end + 15_000);
    const falseAlerts = alerts.filter((a) => a.ts >= trainEnd && !inAttack(a.ts));
    const attackMs = trials.reduce((s, t) => s + (t.end + 15_000 - t.script), 0);
    const normalHours = (end - trainEnd - attackMs) / 3_600_000;
    const perClass = Object.fromEntries(
      ATTACK_CLASSES.map((c) => {
        const ts = trials.filter((t) => t.cls === c);
        const det = ts.filter((t) => t.detectedAt !== undefined);
        return [
          c,
          {
            trials: ts.length,
            detected: det.length,
            medianDelayS: median(det.map((t) => (t.detectedAt! - t.start) / 1000)),
          },
        ];
      }),
    ) as TestbedResult['perClass'];
    const delays = trials
      .filter((t) => t.detectedAt !== undefined)
      .map((t) => (t.detectedAt! - t.start) / 1000);
    return {
      trials,
      perClass,
      detectMin: Math.min(
        ...ATTACK_CLASSES.map((c) => perClass[c].detected / Math.max(1, perClass[c].trials)),
      ),
      fpWindows,
      falseAlerts: falseAlerts.length,
      falseAlertSamples: falseAlerts.slice(0, 10),
      normalHours,
      falseAlertsPerHour: falseAlerts.length / Math.max(normalHours, 1e-9),
      medianDelayS: median(delays),
      faultsTrain: plan.filter((f) => f.atMin < o.trainMinutes).length,
      faultsScored: plan.filter((f) => f.atMin >= o.trainMinutes).length,
      events,
      dropped: queue.dropped,
      alerts,
    };
  } finally {
    for (const c of closers) await Promise.resolve(c()).catch(() => undefined);
    queue.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
