/**
 * The plant demo's "score and health" function (flows/plant-demo.json), run as shipped in a Node-RED
 * function node: the two dashboard charts get at most one point per machine every 2 s of wall time,
 * carrying the highest score and health since the last point, so ten scores a second per machine (600x) do not make
 * the chart widget copy its history ten times a second; each machine is limited on its own.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths';
import { getNode, helper, load } from '../helpers/nodered';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const functionNode = require('@node-red/nodes/core/function/10-function.js');

interface FlowNode {
  id: string;
  type: string;
  name?: string;
  func?: string;
  outputs?: number;
}

const shipped = (JSON.parse(readFileSync(join(ROOT, 'flows', 'plant-demo.json'), 'utf8')) as FlowNode[]).find(
  (n) => n.type === 'function' && n.name === 'score and health',
);

describe('plant demo: anomaly scores to the dashboard charts', function () {
  this.timeout(20000);
  afterEach(async () => {
    await helper.unload();
  });

  it('sends each machine at most one chart point every 2 s, with the highest score since the last', async () => {
    assert.ok(shipped?.func, 'the demo has its "score and health" function');
    await load(
      [functionNode],
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'f',
          z: 'tab',
          type: 'function',
          func: shipped.func,
          outputs: 2,
          wires: [['score'], ['health']],
        },
        { id: 'score', z: 'tab', type: 'helper' },
        { id: 'health', z: 'tab', type: 'helper' },
      ],
    );
    const scores: { topic: string; payload: number }[] = [];
    const healths: { topic: string; payload: number }[] = [];
    getNode('score').on('input', ((m: { topic: string; payload: number }) => scores.push(m)) as never);
    getNode('health').on('input', ((m: { topic: string; payload: number }) => healths.push(m)) as never);
    const f = getNode('f');
    // score / threshold = ratio; the chart shows log2(1 + ratio).
    const send = (machine: string, ratio: number, health = 0.5) =>
      f.receive({
        machine,
        anomaly: { model: 'm', score: ratio, threshold: 1, alarm: ratio > 1, healthIndex: health },
      });
    const settle = () => new Promise((r) => setTimeout(r, 150));

    send('CNC1', 0);
    send('Press1', 1);
    for (let i = 1; i <= 7; i++) send('CNC1', i); // a spike to 7 within the same 2 s
    send('CNC1', 0.5);
    await settle();
    assert.deepEqual(
      scores.map((m) => [m.topic, m.payload]),
      [
        ['CNC1', 0],
        ['Press1', 1],
      ],
      'one point per machine in the first 2 s',
    );
    assert.equal(healths.length, 2);

    await new Promise((r) => setTimeout(r, 2000));
    send('CNC1', 0.1, 0.25);
    await settle();
    // The next point carries the spike (log2(1 + 7) = 3), not the last score, and the highest health since the
    // last point (0.5 during the spike, not the later 0.25).
    assert.deepEqual([scores.at(-1)?.topic, scores.at(-1)?.payload], ['CNC1', 3]);
    assert.equal(healths.at(-1)?.payload, Number(Math.log2(1.5).toFixed(3)));
    assert.equal(scores.length, 3);
  });
});
