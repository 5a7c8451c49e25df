import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import {
  AttributeIds,
  DataType,
  makeBrowsePath,
  MessageSecurityMode,
  SecurityPolicy,
  UserTokenType,
} from 'node-opcua';
import {
  type AedesLike,
  EventQueue,
  externalEvent,
  type GuardEvent,
  type OpcuaServerLike,
  tapAedes,
  tapOpcuaServer,
} from '../../nodes/guard';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { SimRunner } from '../../nodes/sim/runner';
import { startBroker, type TestBroker } from '../helpers/broker';
import { freePort, waitUntil } from '../helpers/net';
import { testClient } from '../helpers/opcua';

describe('guard taps', function () {
  this.timeout(60_000);

  describe('aedes', () => {
    let b: TestBroker;
    const seen: GuardEvent[] = [];
    let close: () => void;
    before(async () => {
      b = await startBroker();
      b.broker.authenticate = (_c, user, _p, done) => done(null, user !== 'mallory');
      close = tapAedes(b.broker as unknown as AedesLike, (e) => seen.push(e)).close;
    });
    after(async () => {
      close();
      await b.close();
    });

    it('turns connects, subscriptions, publishes, disconnects and refused logins into events', async () => {
      const c = await mqtt.connectAsync(b.url, {
        clientId: 'press-7',
        username: 'op',
        password: 'x',
        keepalive: 42,
      });
      await c.subscribeAsync(['plant/#', '$SYS/#']);
      await c.publishAsync('plant/press7/temp', '{"value":71.5}', { qos: 1, retain: true });
      await c.endAsync();
      await mqtt
        .connectAsync(b.url, { clientId: 'guess', username: 'mallory', password: 'y', reconnectPeriod: 0 })
        .then(
          () => assert.fail('should be refused'),
          () => undefined,
        );
      await waitUntil(
        () => seen.some((e) => e.kind === 'auth-fail') && seen.some((e) => e.kind === 'disconnect'),
        'events',
      );
      const conn = seen.find((e) => e.kind === 'connect');
      assert.deepEqual(
        {
          client: conn?.client,
          user: conn?.user,
          addr: conn?.addr,
          keepalive: conn?.keepalive,
          proto: conn?.proto,
        },
        { client: 'press-7', user: 'op', addr: '127.0.0.1', keepalive: 42, proto: 'mqtt' },
      );
      assert.deepEqual(
        seen.filter((e) => e.kind === 'subscribe').map((e) => e.topic),
        ['plant/#', '$SYS/#'],
      );
      const pub = seen.find((e) => e.kind === 'publish');
      assert.equal(pub?.topic, 'plant/press7/temp');
      assert.equal(pub?.bytes, 14);
      assert.equal(pub?.qos, 1);
      assert.equal(pub?.retain, true);
      assert.equal(new TextDecoder().decode(pub?.payload), '{"value":71.5}');
      // the broker's own $SYS messages are not attributed to anyone
      assert.ok(seen.every((e) => e.kind !== 'publish' || !e.topic?.startsWith('$SYS')));
      const fail = seen.find((e) => e.kind === 'auth-fail');
      assert.deepEqual({ client: fail?.client, user: fail?.user }, { client: 'guess', user: 'mallory' });
    });

    it('gives the broker its hooks back on close', () => {
      const broker = {
        on: () => undefined,
        removeListener: () => undefined,
        authenticate: () => undefined,
        preConnect: () => undefined,
        authorizePublish: () => undefined,
      };
      const { authenticate, preConnect, authorizePublish } = broker;
      const tap = tapAedes(broker as unknown as AedesLike, () => undefined);
      assert.notEqual(broker.authenticate, authenticate);
      tap.close();
      assert.equal(broker.authenticate, authenticate);
      assert.equal(broker.preConnect, preConnect);
      assert.equal(broker.authorizePublish, authorizePublish);
    });
  });

  describe('OPC UA server (the simulator)', () => {
    let pki: string;
    let runner: SimRunner;
    let url: string;
    const seen: GuardEvent[] = [];
    let close: () => void;
    before(async () => {
      pki = mkdtempSync(join(tmpdir(), 'guard-tap-'));
      const port = await freePort();
      runner = new SimRunner(DEFAULT_PLANT, {
        seed: 1,
        opcua: {
          port,
          pkiDir: pki,
          users: [{ user: 'mes', password: 'secret' }],
        },
      });
      await runner.start();
      url = runner.opcua!.endpointUrl;
      close = tapOpcuaServer(
        runner.opcua!.uaServer as unknown as OpcuaServerLike,
        (e) => seen.push(e),
        Date.now,
        300,
      ).close;
    });
    after(async () => {
      close();
      await runner.stop();
      rmSync(pki, { recursive: true, force: true });
    });

    it('reports sessions, reads, writes, calls, browses and failed activations with user and node', async () => {
      // a secured channel: the tap sees the server's decoded requests all the same
      const client = testClient(join(pki, 'client'), {
        securityMode: MessageSecurityMode.SignAndEncrypt,
        securityPolicy: SecurityPolicy.Basic256Sha256,
      });
      await client.connect(url);
      const session = await client.createSession({
        type: UserTokenType.UserName,
        userName: 'mes',
        password: 'secret',
      });
      const tag = runner.sim.tags().find((t) => t.writable)!;
      const path = `/1:${DEFAULT_PLANT.site}/1:${tag.line}/1:${tag.machine}/1:${tag.name}`;
      const r = await session.translateBrowsePath(makeBrowsePath('i=85', path));
      const nodeId = r.targets![0].targetId.toString();
      await session.read({ nodeId, attributeId: AttributeIds.Value });
      await session.write({
        nodeId,
        attributeId: AttributeIds.Value,
        value: { value: { dataType: DataType.Double, value: 0 } },
      });
      await session.browse('i=85');
      const at = async (p: string) =>
        (await session.translateBrowsePath(makeBrowsePath('i=85', p))).targets![0].targetId.toString();
      const site = await at(`/1:${DEFAULT_PLANT.site}`);
      const method = await at(`/1:${DEFAULT_PLANT.site}/1:ClearFaults`);
      await session.call({
        objectId: site,
        methodId: method,
        inputArguments: [{ dataType: DataType.String, value: '' }],
      });
      await session.close();
      await client.createSession({ type: UserTokenType.UserName, userName: 'mes', password: 'wrong' }).then(
        () => assert.fail('should be refused'),
        () => undefined,
      );
      await client.disconnect();
      await waitUntil(() => seen.some((e) => e.kind === 'auth-fail'), 'the failed activation');
      const kinds = new Set(seen.map((e) => e.kind));
      for (const k of ['session', 'read', 'write', 'call', 'browse', 'disconnect', 'auth-fail'] as const)
        assert.ok(kinds.has(k), k);
      const w = seen.find((e) => e.kind === 'write');
      assert.equal(w?.nodeId, nodeId);
      assert.equal(w?.user, 'mes');
      assert.equal(w?.proto, 'opcua');
      assert.equal(w?.addr, '127.0.0.1');
      assert.equal(seen.find((e) => e.kind === 'call')?.nodeId, method);
      assert.equal(seen.find((e) => e.kind === 'auth-fail')?.user, 'mes');
    });
  });

  it('reads an external broker: per-client $SYS connects and namespace publishes (without their author)', () => {
    const p = new TextEncoder().encode('cnc-3');
    assert.deepEqual(externalEvent('$SYS/abc/new/clients', p, 5), {
      ts: 5,
      proto: 'mqtt',
      kind: 'connect',
      client: 'cnc-3',
    });
    assert.equal(externalEvent('$SYS/abc/disconnect/clients', p, 5)?.kind, 'disconnect');
    assert.equal(externalEvent('$SYS/broker/load/bytes/received', p, 5), undefined);
    const e = externalEvent('plant/a/temp', p, 6, 1, true);
    assert.deepEqual(
      { ...e, payload: undefined },
      {
        ts: 6,
        proto: 'mqtt',
        kind: 'publish',
        client: '',
        topic: 'plant/a/temp',
        bytes: 5,
        qos: 1,
        retain: true,
        payload: undefined,
      },
    );
  });

  it('queues events without blocking and counts what overflows', async () => {
    const got: GuardEvent[] = [];
    const q = new EventQueue((batch) => got.push(...batch), 3);
    for (let i = 0; i < 5; i++) q.push({ ts: i, proto: 'mqtt', kind: 'publish', client: 'a' });
    assert.equal(got.length, 0);
    assert.equal(q.dropped, 2);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      got.map((e) => e.ts),
      [0, 1, 2],
    );
  });
});
