/**
 * The plant demo's "maintenance result" function (flows/plant-demo.json), run as shipped in a Node-RED function
 * node with INFLUX_URL set: what it sends towards InfluxDB must be writable by the demo's takt-influx-out as
 * configured (Value type: number). A text sample (the outcome, who decided) made the node refuse the whole
 * message, so no maintenance result reached InfluxDB.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths';
import { getNode, helper, load } from '../helpers/nodered';
import { MessageEncoder } from '../../nodes/influx/encoder';
import { defaultMapping, type MessageIn, parseLevels } from '../../nodes/influx/mapping';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const functionNode = require('@node-red/nodes/core/function/10-function.js');

interface FlowNode {
  id: string;
  type: string;
  name?: string;
  func?: string;
  levels?: string;
  measurement?: string;
  field?: string;
  valueType?: string;
}

const demo = JSON.parse(readFileSync(join(ROOT, 'flows', 'plant-demo.json'), 'utf8')) as FlowNode[];
const shipped = demo.find((n) => n.type === 'function' && n.name === 'maintenance result');
const influxOut = demo.find((n) => n.type === 'takt-influx-out');

describe('plant demo: maintenance results to InfluxDB', function () {
  this.timeout(20000);
  const before = process.env.INFLUX_URL;
  beforeEach(() => {
    process.env.INFLUX_URL = 'http://127.0.0.1:1';
  });
  afterEach(async () => {
    if (before === undefined) delete process.env.INFLUX_URL;
    else process.env.INFLUX_URL = before;
    await helper.unload();
  });

  it('sends InfluxDB only what the demo takt-influx-out can write', async () => {
    assert.ok(shipped?.func && influxOut, 'the demo has its "maintenance result" and takt-influx-out');
    await load(
      [functionNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 'f', z: 'tab', type: 'function', func: shipped.func, outputs: 2, wires: [['uns'], ['influx']] },
        { id: 'uns', z: 'tab', type: 'helper' },
        { id: 'influx', z: 'tab', type: 'helper' },
      ],
    );
    const toInflux: MessageIn[] = [];
    getNode('influx').on('input', ((m: MessageIn) => toInflux.push(m)) as never);
    const decided = (outcome: string) =>
      getNode('f').receive({
        topic: 'Acme/Plant1/Machining/Line1/CNC1/Maintenance',
        maintenance: { machine: 'CNC1', start: 120, end: 165, healthIndex: 3.4 },
        approval: { id: 'a1', outcome, by: 'operator', decisions: [{ user: 'operator' }] },
      });
    decided('approved');
    decided('rejected');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(toInflux.length, 2);
    const encoder = new MessageEncoder(
      defaultMapping({
        levels: parseLevels(influxOut.levels ?? ''),
        ...(influxOut.measurement ? { measurement: influxOut.measurement } : {}),
        field: influxOut.field ?? 'value',
        valueType: influxOut.valueType === 'number' ? 'number' : 'auto',
      }),
      'escape',
    );
    for (const m of toInflux) {
      const lines = encoder.encode(m, Date.now());
      // start, end and health index of the maintenance
      assert.equal(lines.length, 3, lines.join('\n'));
    }
  });
});
