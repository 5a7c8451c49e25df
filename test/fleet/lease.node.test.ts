/** takt-fleet and takt-fleet-lease in Node-RED, on an in-process broker. */
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker';
import { getNode, helper, load, nextMessages } from '../helpers/nodered';

/* eslint-disable @typescript-eslint/no-require-imports */
const brokerNode = require('../../nodes/mqtt/broker.node');
const fleetNode = require('../../nodes/fleet/fleet.node');
const leaseNode = require('../../nodes/fleet/lease.node');
/* eslint-enable @typescript-eslint/no-require-imports */
const NODES = [brokerNode, fleetNode, leaseNode];

interface LeaseMsg {
  topic: string;
  payload: { lease: string; holder: string | null; mine: boolean; box: string; boxes: { box: string }[] };
}

const flow = (url: string, lease: string) => [
  { id: 'tab', type: 'tab' },
  { id: 'br', type: 'takt-mqtt-broker', url, reconnectPeriod: 200 },
  { id: 'fl', type: 'takt-fleet', broker: 'br', box: 'box1', role: 'line1', leases: 'sched, energy' },
  { id: 'gate', z: 'tab', type: 'takt-fleet-lease', fleet: 'fl', lease, wires: [['run'], ['who']] },
  { id: 'run', z: 'tab', type: 'helper' },
  { id: 'who', z: 'tab', type: 'helper' },
];

describe('takt-fleet-lease node', function () {
  this.timeout(20000);
  let broker: TestBroker;
  before(async () => (broker = await startBroker()));
  afterEach(() => helper.unload());
  after(() => broker.close());

  it('passes messages once this box holds the lease and says who holds it', async () => {
    await load(NODES, flow(broker.url, 'sched'));
    // The claim settles after a second: nothing has been held yet.
    const who = nextMessages<LeaseMsg>('who', 1, 10000, (m) => m.payload.mine);
    getNode('gate').receive({ payload: 'too early' });
    const [held] = await who;
    assert.equal(held.topic, 'sched');
    assert.equal(held.payload.holder, 'box1');
    assert.deepEqual(
      held.payload.boxes.map((b) => b.box),
      ['box1'],
    );
    const run = nextMessages<{ payload: string }>('run', 1, 5000);
    getNode('gate').receive({ payload: 'job' });
    assert.deepEqual(
      (await run).map((m) => m.payload),
      ['job'],
      'the message sent before the lease was held was dropped',
    );
  });

  it('refuses a lease the fleet does not list: its inputs end with an error naming the leases', async () => {
    await load(NODES, flow(broker.url, 'nope'));
    const gate = getNode('gate');
    const failed = new Promise<string>((resolve) =>
      gate.on('call:error', ((call: { args: unknown[] }) => resolve(String(call.args[0]))) as never),
    );
    gate.receive({ payload: 'job' });
    assert.match(await failed, /lease "nope" is not one of the fleet's leases \(sched, energy\)/);
  });
});
