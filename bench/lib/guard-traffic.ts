/**
 * Seeded synthetic plant traffic as takt-guard events (no sockets): sensors publishing JSON or plain
 * numbers periodically or at random, a Sparkplug B edge node, an MES client reading and writing over
 * OPC UA, and attack scripts of each class with random parameters (rates, topics, client ids, sizes).
 * Used by the guard engine tests and by bench:guard's CPU measurement.
 */
import { Rng } from '../../nodes/core/random';
import type { GuardEvent } from '../../nodes/guard/types';
import { codec } from '../../nodes/mqtt/codec';

export const ATTACK_CLASSES = [
  'flood',
  'connection-hoarding',
  'brute-force',
  'scan',
  'unauthorised-write',
  'replay',
  'malformed',
] as const;
export type AttackClass = (typeof ATTACK_CLASSES)[number];

const text = (s: string) => new TextEncoder().encode(s);

interface Sensor {
  id: string;
  addr: string;
  topic: string;
  json: boolean;
  periodMs: number;
  random: boolean;
  mean: number;
  sd: number;
  next: number;
}

export interface PlantTraffic {
  sensors: { topic: string; json: boolean; mean: number; sd: number }[];
  edge: { group: string; node: string; client: string };
  /** Normal events in [from, to), in time order. */
  normal(from: number, to: number): GuardEvent[];
  /** The events an attack of `cls` starting at `at` adds (its own random variant). */
  attack(cls: AttackClass, at: number, rng: Rng): GuardEvent[];
}

function spPayload(seq: number, ts: number, metrics: { name: string; value: number }[], bdSeq?: number) {
  return codec.encodePayload({
    timestamp: ts,
    seq,
    metrics: [
      ...metrics.map((m) => ({ name: m.name, type: 'Double' as const, value: m.value, timestamp: ts })),
      ...(bdSeq !== undefined ? [{ name: 'bdSeq', type: 'UInt64' as const, value: bdSeq }] : []),
    ],
  });
}

/**
 * A plant of `nSensors` MQTT sensors (each about once a second, `rate` times that), one Sparkplug edge
 * node and one MES client.
 */
export function plantTraffic(seed: number, nSensors = 10, rate = 1): PlantTraffic {
  const rng = new Rng(seed);
  const sensors: Sensor[] = [];
  for (let i = 0; i < nSensors; i++) {
    const random = i % 3 === 2;
    sensors.push({
      id: `sensor-${i}`,
      addr: `127.0.${Math.floor(i / 200)}.${10 + (i % 200)}`,
      topic: `acme/site1/line${1 + (i % 2)}/cell${i}/${['temp', 'pressure', 'flow', 'level'][i % 4]}`,
      json: i % 2 === 0,
      periodMs: Math.round(rng.uniform(500, 2000) / rate),
      random,
      mean: rng.uniform(10, 100),
      sd: rng.uniform(0.5, 3),
      next: 0,
    });
  }
  const edge = { group: 'Plant1', node: 'Edge1', client: 'takt-sim-Plant1-Edge1' };
  let seq = 0;
  let started = false;
  const mesReads = ['ns=1;s=Line1.CNC1.Power', 'ns=1;s=Line1.CNC1.Temp', 'ns=1;s=Line1.Press1.Force'];

  function normal(from: number, to: number): GuardEvent[] {
    const out: GuardEvent[] = [];
    if (!started) {
      started = true;
      for (const s of sensors) {
        out.push({ ts: from, proto: 'mqtt', kind: 'connect', client: s.id, addr: s.addr, keepalive: 60 });
        s.next = from + rng.uniform(0, s.periodMs);
      }
      out.push({
        ts: from,
        proto: 'mqtt',
        kind: 'connect',
        client: edge.client,
        addr: '127.0.0.2',
        keepalive: 30,
      });
      const birth = spPayload(0, from, [{ name: 'Temp', value: 50 }], 0);
      out.push(pub(from, edge.client, '127.0.0.2', `spBv1.0/${edge.group}/NBIRTH/${edge.node}`, birth));
      seq = 1;
      out.push({
        ts: from,
        proto: 'mqtt',
        kind: 'connect',
        client: 'mes',
        addr: '127.0.0.3',
        user: 'mes',
        keepalive: 60,
      });
      out.push({
        ts: from,
        proto: 'mqtt',
        kind: 'subscribe',
        client: 'mes',
        addr: '127.0.0.3',
        user: 'mes',
        topic: 'acme/#',
      });
      out.push({
        ts: from,
        proto: 'opcua',
        kind: 'session',
        client: 'mes-ua',
        addr: '127.0.0.3',
        user: 'mes',
      });
    }
    // on whole plant seconds, so that the traffic is the same whatever slices it is asked for in
    for (let t = Math.ceil(from / 1000) * 1000; t < to; t += 1000) {
      // Sparkplug DDATA once a second
      const dd = spPayload(seq, t, [{ name: 'Temp', value: 50 + rng.normal() }]);
      seq = (seq + 1) % 256;
      out.push(pub(t + 1, edge.client, '127.0.0.2', `spBv1.0/${edge.group}/DDATA/${edge.node}/CNC1`, dd));
      // MES reads every second, writes a setpoint every minute
      for (const n of mesReads)
        out.push({
          ts: t + 2,
          proto: 'opcua',
          kind: 'read',
          client: 'mes-ua',
          addr: '127.0.0.3',
          user: 'mes',
          nodeId: n,
        });
      if (t % 60_000 < 1000)
        out.push({
          ts: t + 3,
          proto: 'opcua',
          kind: 'write',
          client: 'mes-ua',
          addr: '127.0.0.3',
          user: 'mes',
          nodeId: 'ns=1;s=Line1.CNC1.Setpoint',
        });
    }
    for (const s of sensors) {
      while (s.next < to) {
        if (s.next >= from) {
          const v = s.mean + s.sd * rng.normal();
          const body = s.json ? JSON.stringify({ value: Number(v.toFixed(3)), unit: 'u' }) : v.toFixed(3);
          out.push(pub(s.next, s.id, s.addr, s.topic, text(body)));
        }
        s.next += s.random ? rng.exponential(s.periodMs) : s.periodMs + rng.uniform(-20, 20);
      }
    }
    return out.sort((a, b) => a.ts - b.ts);
  }

  function attack(cls: AttackClass, at: number, r: Rng): GuardEvent[] {
    const out: GuardEvent[] = [];
    const addr = `127.0.${r.int(1, 200)}.${r.int(1, 250)}`;
    const client = `x${Math.floor(r.uniform(0, 1e9)).toString(36)}`;
    const victim = sensors[r.int(0, sensors.length - 1)];
    switch (cls) {
      case 'flood': {
        // a known client or a new one, 20x to 500x its rate, for 10 s
        const insider = r.next() < 0.5;
        const who = insider ? victim.id : client;
        const from = insider ? victim.addr : addr;
        if (!insider)
          out.push({ ts: at, proto: 'mqtt', kind: 'connect', client: who, addr: from, keepalive: 60 });
        const rate = r.uniform(20, 500);
        const size = r.int(5, 2000);
        for (let t = 0; t < 10_000; t += 1000 / rate)
          out.push(
            pub(
              at + t,
              who,
              from,
              insider ? victim.topic : `acme/site1/x/${r.int(0, 3)}`,
              new Uint8Array(size),
            ),
          );
        break;
      }
      case 'connection-hoarding': {
        const n = r.int(8, 60);
        for (let i = 0; i < n; i++)
          out.push({
            ts: at + i * r.uniform(50, 800),
            proto: 'mqtt',
            kind: 'connect',
            client: `${client}-${i}`,
            addr,
            keepalive: r.int(600, 65535),
          });
        break;
      }
      case 'brute-force': {
        const n = r.int(6, 50);
        const user = r.next() < 0.5 ? 'admin' : 'mes';
        for (let i = 0; i < n; i++)
          out.push({
            ts: at + i * r.uniform(100, 1000),
            proto: r.next() < 0.7 ? 'mqtt' : 'opcua',
            kind: 'auth-fail',
            client: r.next() < 0.5 ? client : `${client}${i}`,
            addr,
            user,
          });
        break;
      }
      case 'scan': {
        out.push({ ts: at, proto: 'mqtt', kind: 'connect', client, addr, keepalive: 60 });
        const v = r.int(0, 2);
        if (v === 0) out.push({ ts: at + 100, proto: 'mqtt', kind: 'subscribe', client, addr, topic: '#' });
        else if (v === 1)
          out.push({ ts: at + 100, proto: 'mqtt', kind: 'subscribe', client, addr, topic: '$SYS/#' });
        else
          for (let i = 0; i < r.int(20, 200); i++)
            out.push({
              ts: at + 100 + i * 20,
              proto: 'mqtt',
              kind: 'subscribe',
              client,
              addr,
              topic: `acme/site${r.int(1, 9)}/line${i}/+`,
            });
        break;
      }
      case 'unauthorised-write': {
        const ua = r.next() < 0.5 ? client : 'mes-ua';
        const user = ua === 'mes-ua' ? undefined : 'guest';
        out.push({ ts: at, proto: 'opcua', kind: 'session', client: ua, addr, ...(user ? { user } : {}) });
        out.push({
          ts: at + 200,
          proto: 'opcua',
          kind: r.next() < 0.5 ? 'write' : 'call',
          client: ua,
          addr,
          ...(user ? { user } : {}),
          nodeId: `ns=1;s=Line1.${['CNC1.Setpoint', 'Press1.Speed', 'Site.InjectFault'][r.int(0, 2)]}`,
        });
        break;
      }
      case 'replay': {
        // a birth replayed or forged by another client
        out.push({ ts: at, proto: 'mqtt', kind: 'connect', client, addr, keepalive: 60 });
        const birth = spPayload(0, at - r.int(0, 1e6), [{ name: 'Temp', value: 50 }], r.int(0, 5));
        out.push(
          pub(
            at + 100,
            client,
            addr,
            `spBv1.0/${edge.group}/${r.next() < 0.5 ? 'NBIRTH' : 'DBIRTH'}/${edge.node}${r.next() < 0.5 ? '' : '/CNC1'}`,
            birth,
          ),
        );
        break;
      }
      case 'malformed': {
        // from the sensor itself (a compromised device) or another client, on its own topic
        const insider = r.next() < 0.5;
        const who = insider ? victim.id : client;
        const from = insider ? victim.addr : addr;
        const v = r.int(0, 2);
        const far = victim.mean * r.uniform(20, 1000) * (r.next() < 0.5 ? -1 : 1);
        const bad =
          v === 0
            ? victim.json
              ? 'not json {'
              : 'NaN?'
            : victim.json
              ? JSON.stringify({ value: far, unit: 'u' })
              : String(far);
        out.push(pub(at, who, from, victim.topic, v === 2 ? new Uint8Array([0, 255, 254, 1]) : text(bad)));
        break;
      }
    }
    return out;
  }

  return {
    sensors: sensors.map((s) => ({ topic: s.topic, json: s.json, mean: s.mean, sd: s.sd })),
    edge,
    normal,
    attack,
  };
}

function pub(ts: number, client: string, addr: string, topic: string, payload: Uint8Array): GuardEvent {
  return {
    ts,
    proto: 'mqtt',
    kind: 'publish',
    client,
    addr,
    topic,
    bytes: payload.length,
    qos: 0,
    retain: false,
    payload,
  };
}
