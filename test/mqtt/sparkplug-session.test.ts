/**
 * The Sparkplug edge-node session the simulator and takt-uns-out share (mqtt/sparkplug-session.ts), against an
 * in-process broker: the NDEATH as will, the next bdSeq in the will after each lost session, and the clean
 * NDEATH on stop with its acknowledgement waited for.
 */
import assert from 'node:assert/strict';
import type { BrokerState } from '../../nodes/mqtt/connection';
import { codec } from '../../nodes/mqtt/codec';
import { SparkplugEdgeEngine } from '../../nodes/mqtt/sparkplug-edge';
import { SparkplugSession } from '../../nodes/mqtt/sparkplug-session';
import { startBroker, type TestBroker } from '../helpers/broker';
import { waitUntil } from '../helpers/net';

const NDEATH = 'spBv1.0/G1/NDEATH/Edge1';

describe('mqtt/SparkplugSession (the edge-node session of the simulator and takt-uns-out)', function () {
  this.timeout(20000);
  let broker: TestBroker;
  /** bdSeq of every NDEATH the broker passed on: said by the edge node or its will. */
  let deaths: number[] = [];
  let withholdAck = false;

  before(async () => {
    broker = await startBroker();
    broker.broker.on('publish', (packet) => {
      if (packet.topic !== NDEATH) return;
      const bd = codec
        .decodePayload(new Uint8Array(packet.payload as Buffer))
        .metrics?.find((m) => m.name === 'bdSeq');
      deaths.push(Number(bd?.value));
    });
    // A broker that is stopping: takes the NDEATH but never acknowledges it.
    broker.broker.authorizePublish = (_client, packet, done) => {
      if (withholdAck && packet.topic === NDEATH) return;
      done(null);
    };
  });
  after(async () => broker?.close());
  beforeEach(() => {
    deaths = [];
    withholdAck = false;
  });

  const open = () => {
    const edge = new SparkplugEdgeEngine({ groupId: 'G1', edgeNodeId: 'Edge1' });
    const session = new SparkplugSession(edge, {
      url: broker.url,
      reconnectInitialMs: 50,
      reconnectMaxMs: 200,
    });
    return { edge, session, conn: session.conn };
  };

  it('gives the next session the next bdSeq in its will, once per lost session, before the owner hears of it', async () => {
    const { session, conn, edge } = open();
    const user = {};
    const bdSeq = () => Number(codec.decodePayload(edge.death().payload).metrics?.[0].value);
    /** The bdSeq the next will carries, when the owner hears of a lost session. */
    const atBackoff: number[] = [];
    const off = session.onState((s: BrokerState) => {
      if (s === 'backoff') atBackoff.push(bdSeq());
    });
    try {
      conn.register(user);
      await waitUntil(() => conn.connected, 'connected', 5000);
      conn.dropConnection('test');
      // The broker sends the first session's will (bdSeq 0); the edge node reconnects with bdSeq 1 in its will.
      await waitUntil(() => deaths.length === 1 && conn.connected, 'the will, then connected again', 5000);
      conn.dropConnection('test');
      await waitUntil(() => deaths.length === 2 && conn.connected, 'the second will', 5000);
      assert.deepEqual(deaths, [0, 1]);
      assert.deepEqual(atBackoff, [1, 2], 'one step per lost session, taken before the owner hears of it');
      // A clean stop says the current session's death itself.
      assert.equal(await session.sayDeath(), true);
      assert.deepEqual(deaths, [0, 1, 2]);
    } finally {
      off();
      await conn.deregister(user);
    }
  });

  it('starts a new session on request (a simulator started again), and says no death when not connected', async () => {
    const { session, conn, edge } = open();
    assert.equal(await session.sayDeath(), false, 'never connected');
    session.nextSession();
    const user = {};
    try {
      conn.register(user);
      await waitUntil(() => conn.connected, 'connected', 5000);
      assert.equal(await session.sayDeath(), true);
      assert.deepEqual(deaths, [1]);
      assert.equal(Number(codec.decodePayload(edge.death().payload).metrics?.[0].value), 1);
    } finally {
      await conn.deregister(user);
    }
  });

  it('gives up waiting for an NDEATH the broker does not acknowledge (false), and the owner decides what follows', async () => {
    const { session, conn } = open();
    const user = {};
    try {
      conn.register(user);
      await waitUntil(() => conn.connected, 'connected', 5000);
      withholdAck = true;
      assert.equal(await session.sayDeath(), false);
      assert.equal(conn.connected, true, 'the connection is left to its owner');
      assert.deepEqual(deaths, []);
    } finally {
      // The simulator's way (sim/sparkplug.ts): drop the connection, whose close would wait for the PUBACK.
      conn.dropConnection('stopped');
      await conn.deregister(user);
    }
  });
});
