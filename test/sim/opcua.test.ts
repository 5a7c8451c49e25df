/**
 * The simulator's OPC UA server, checked with a generic node-opcua client (in-process server on a free
 * loopback port): browse, read with units, subscribe, method calls, security and users.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds,
  BrowseDirection,
  ClientMonitoredItem,
  ClientSubscription,
  DataType,
  MessageSecurityMode,
  NodeClass,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  UserTokenType,
  type ClientSession,
  type DataValue,
  type UserIdentityInfo,
} from 'node-opcua';
import { TaktError } from '../../nodes/core/errors';
import { DEFAULT_PLANT, withProcesses } from '../../nodes/sim/model';
import { SimRunner } from '../../nodes/sim/runner';
import { freePort } from '../helpers/net';

const USER = { user: 'operator', password: 'takt-op-2026' };

describe('sim OPC UA server', function () {
  this.timeout(60000);
  let dir: string;
  let runner: SimRunner;
  let url: string;
  let port: number;
  const clients: OPCUAClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'takt-sim-opcua-'));
    port = await freePort();
    runner = new SimRunner(withProcesses(DEFAULT_PLANT), {
      seed: 11,
      timeFactor: 60,
      opcua: { port, pkiDir: join(dir, 'pki-server'), users: [USER] },
      groundTruthFile: join(dir, 'ground-truth.jsonl'),
    });
    await runner.start();
    url = runner.opcua!.endpointUrl;
  });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.disconnect()));
    await runner.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(
    mode: MessageSecurityMode = MessageSecurityMode.None,
    policy: SecurityPolicy = SecurityPolicy.None,
    identity: UserIdentityInfo = { type: UserTokenType.Anonymous },
  ): Promise<ClientSession> {
    const client = OPCUAClient.create({
      applicationName: 'TaktSimTest',
      endpointMustExist: false,
      securityMode: mode,
      securityPolicy: policy,
      connectionStrategy: { maxRetry: 0, initialDelay: 100 },
      clientCertificateManager: new OPCUACertificateManager({
        rootFolder: join(dir, 'pki-client'),
        automaticallyAcceptUnknownCertificate: true,
      }),
    });
    clients.push(client);
    await client.connect(url);
    return client.createSession(identity);
  }

  async function nodeIdOf(session: ClientSession, path: string): Promise<string> {
    const r = await session.translateBrowsePath({
      startingNode: 'i=85', // Objects
      relativePath: {
        elements: path.split('/').map((name) => ({
          referenceTypeId: 'i=33', // HierarchicalReferences
          isInverse: false,
          includeSubtypes: true,
          targetName: { namespaceIndex: 1, name },
        })),
      },
    });
    assert.equal(r.statusCode.name, 'Good', `browse path ${path}: ${r.statusCode.name}`);
    return r.targets![0].targetId.toString();
  }

  async function children(session: ClientSession, nodeId: string) {
    const r = await session.browse({ nodeId, browseDirection: BrowseDirection.Forward, resultMask: 63 });
    return r.references ?? [];
  }

  it('serves Objects/<Site>/<Line>/<Machine>/<Variable>, every variable readable with its type and units', async () => {
    const s = await open();
    const machines = (await children(s, await nodeIdOf(s, 'Plant1/Line1'))).filter(
      (r) => r.nodeClass === NodeClass.Object,
    );
    assert.deepEqual(machines.map((r) => r.browseName.name).sort(), ['CNC1', 'Oven1', 'Packer1', 'Press1']);

    const tags = runner.sim.tags().filter((t) => t.machine === 'CNC1');
    const cnc = await nodeIdOf(s, 'Plant1/Line1/CNC1');
    const vars = (await children(s, cnc)).filter((r) => r.nodeClass === NodeClass.Variable);
    assert.deepEqual(vars.map((v) => v.browseName.name).sort(), tags.map((t) => t.name).sort());

    const values = await s.read(vars.map((v) => ({ nodeId: v.nodeId, attributeId: AttributeIds.Value })));
    for (const [i, dv] of values.entries()) {
      const tag = tags.find((t) => t.name === vars[i].browseName.name)!;
      assert.equal(dv.statusCode.name, 'Good', tag.name);
      assert.ok(dv.sourceTimestamp instanceof Date, `${tag.name} has a source timestamp`);
      const expected = {
        Double: DataType.Double,
        Int32: DataType.Int32,
        UInt32: DataType.UInt32,
        String: DataType.String,
        DoubleArray: DataType.Double,
      }[tag.type];
      assert.equal(dv.value.dataType, expected, tag.name);
    }
    const wave = values[vars.findIndex((v) => v.browseName.name === 'VibrationWaveform')];
    assert.equal((wave.value.value as Float64Array).length, 2048);

    // Analog items carry EngineeringUnits and EURange.
    const temp = vars.find((v) => v.browseName.name === 'Temperature')!;
    const props = await children(s, temp.nodeId.toString());
    const eu = props.find((p) => p.browseName.name === 'EngineeringUnits')!;
    const range = props.find((p) => p.browseName.name === 'EURange')!;
    const [euValue, rangeValue] = await s.read([
      { nodeId: eu.nodeId, attributeId: AttributeIds.Value },
      { nodeId: range.nodeId, attributeId: AttributeIds.Value },
    ]);
    assert.equal((euValue.value.value as { displayName: { text: string } }).displayName.text, '°C');
    assert.deepEqual({ ...(rangeValue.value.value as { low: number; high: number }) }, { low: 2, high: 138 });
  });

  it('lets a subscribed client see values change', async () => {
    const s = await open();
    const sub = ClientSubscription.create(s, {
      requestedPublishingInterval: 100,
      requestedMaxKeepAliveCount: 20,
      requestedLifetimeCount: 200,
      publishingEnabled: true,
    });
    const seen: DataValue[] = [];
    const item = ClientMonitoredItem.create(
      sub,
      { nodeId: await nodeIdOf(s, 'Plant1/Line1/Press1/Energy'), attributeId: AttributeIds.Value },
      { samplingInterval: 0, queueSize: 100, discardOldest: true },
      TimestampsToReturn.Both,
    );
    item.on('changed', (dv: DataValue) => seen.push(dv));
    const deadline = Date.now() + 10000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await sub.terminate();
    assert.ok(seen.length >= 3, `saw ${seen.length} changes`);
    const energy = seen.map((d) => d.value.value as number);
    assert.ok(energy[energy.length - 1] > energy[0], 'the energy meter counts up');
  });

  it('injects and clears faults by method call, in the data and in the ground-truth log', async () => {
    const s = await open();
    const site = await nodeIdOf(s, 'Plant1');
    const inject = await nodeIdOf(s, 'Plant1/InjectFault');
    const r = await s.call({
      objectId: site,
      methodId: inject,
      inputArguments: [
        { dataType: DataType.String, value: 'Oven1' },
        { dataType: DataType.String, value: 'breakdown' },
        { dataType: DataType.Double, value: 1 },
      ],
    });
    assert.equal(r.statusCode.name, 'Good');
    const faultId = r.outputArguments![0].value as number;
    assert.ok(faultId > 0);
    const state = await s.read({
      nodeId: await nodeIdOf(s, 'Plant1/Line1/Oven1/State'),
      attributeId: AttributeIds.Value,
    });
    assert.equal(state.value.value, 'Down');
    const reason = await s.read({
      nodeId: await nodeIdOf(s, 'Plant1/Line1/Oven1/ReasonCode'),
      attributeId: AttributeIds.Value,
    });
    assert.equal(reason.value.value, 103);

    const clear = await s.call({
      objectId: site,
      methodId: await nodeIdOf(s, 'Plant1/ClearFaults'),
      inputArguments: [{ dataType: DataType.String, value: 'Oven1' }],
    });
    assert.equal(clear.statusCode.name, 'Good');
    assert.equal(clear.outputArguments![0].value, 1);

    const log = readFileSync(join(dir, 'ground-truth.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { event: string; id: number; machine: string; kind: string; source: string },
      );
    const mine = log.filter((l) => l.id === faultId);
    assert.deepEqual(
      mine.map((l) => [l.event, l.machine, l.kind, l.source]),
      [
        ['start', 'Oven1', 'breakdown', 'method'],
        ['end', 'Oven1', 'breakdown', 'method'],
      ],
    );
  });

  it('takes a written process offset (a setpoint) and refuses one out of range', async () => {
    const s = await open();
    const nodeId = await nodeIdOf(s, 'Plant1/Line1/Packer1/WeightOffset');
    const ok = await s.write({
      nodeId,
      attributeId: AttributeIds.Value,
      value: { value: { dataType: DataType.Double, value: 1.5 } },
    });
    assert.equal(ok.name, 'Good');
    const dv = await s.read({ nodeId, attributeId: AttributeIds.Value });
    assert.equal(dv.value.value, 1.5);
    const bad = await s.write({
      nodeId,
      attributeId: AttributeIds.Value,
      value: { value: { dataType: DataType.Double, value: 1e6 } },
    });
    assert.equal(bad.name, 'BadOutOfRange');
  });

  it('takes a written process setpoint within its bounds, applies it to the simulator, refuses one outside', async () => {
    const s = await open();
    const nodeId = await nodeIdOf(s, 'Plant1/Line1/CNC1/FeedRate');
    const write = (value: number) =>
      s.write({
        nodeId,
        attributeId: AttributeIds.Value,
        value: { value: { dataType: DataType.Double, value } },
      });
    assert.equal((await write(320)).name, 'Good');
    assert.deepEqual(runner.sim.setpoints('CNC1'), [320, 1800]);
    assert.equal((await s.read({ nodeId, attributeId: AttributeIds.Value })).value.value, 320);
    assert.equal((await write(601)).name, 'BadOutOfRange');
    assert.deepEqual(runner.sim.setpoints('CNC1'), [320, 1800]);
  });

  it('answers BadInvalidArgument, with the reason, for an unknown machine or fault kind', async () => {
    const s = await open();
    const site = await nodeIdOf(s, 'Plant1');
    const methodId = await nodeIdOf(s, 'Plant1/InjectFault');
    for (const [machine, kind, why] of [
      ['Lathe9', 'bearing', /unknown machine "Lathe9"/],
      ['CNC1', 'gremlins', /unknown fault kind "gremlins"/],
    ] as const) {
      const r = await s.call({
        objectId: site,
        methodId,
        inputArguments: [
          { dataType: DataType.String, value: machine },
          { dataType: DataType.String, value: kind },
          { dataType: DataType.Double, value: 0.5 },
        ],
      });
      assert.equal(r.statusCode.value, StatusCodes.BadInvalidArgument.value);
      assert.match(String(r.outputArguments?.[1]?.value ?? ''), why);
    }
  });

  it('accepts SignAndEncrypt (Basic256Sha256) and Sign (Aes128_Sha256_RsaOaep) with a user, and refuses a wrong password', async () => {
    const user: UserIdentityInfo = {
      type: UserTokenType.UserName,
      userName: USER.user,
      password: USER.password,
    };
    for (const [mode, policy] of [
      [MessageSecurityMode.SignAndEncrypt, SecurityPolicy.Basic256Sha256],
      [MessageSecurityMode.Sign, SecurityPolicy.Aes128_Sha256_RsaOaep],
      [MessageSecurityMode.SignAndEncrypt, SecurityPolicy.Aes128_Sha256_RsaOaep],
    ] as const) {
      const s = await open(mode, policy, user);
      const dv = await s.read({
        nodeId: await nodeIdOf(s, 'Plant1/Line1/CNC1/GoodCount'),
        attributeId: AttributeIds.Value,
      });
      assert.equal(dv.statusCode.name, 'Good');
    }
    await assert.rejects(
      open(MessageSecurityMode.SignAndEncrypt, SecurityPolicy.Basic256Sha256, { ...user, password: 'wrong' }),
      /BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/,
    );
  });

  it('reports a port already in use as a clear error', async () => {
    const second = new SimRunner(DEFAULT_PLANT, { opcua: { port, pkiDir: join(dir, 'pki-second') } });
    try {
      await assert.rejects(
        second.start(),
        (e: TaktError) => e.code === 'sim.portInUse' && new RegExp(`${port}`).test(e.message),
      );
    } finally {
      await second.stop();
    }
  });
});
