/**
 * The tuning example's "part rows" function (examples/learn/02): the row for the tuner is sent when the next part
 * starts, with the context then. Sent at the end of the part instead, the first part after a tool change was
 * proposed for the worn tool and the warm machine (the counter and the temperature the last part ended with).
 * The function is run as Node-RED runs it: its source with `msg` and a `context` store.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths';

type Sample = { topic: string; ts: number; value: unknown };
type Row = { topic: string; ts: number; payload: Record<string, unknown> };
type Context = { get(k: string): unknown; set(k: string, v: unknown): void };
type Fn = (msg: { payload: Sample[] }, context: Context) => [Row[]] | null;

function partRows(): (msg: { payload: Sample[] }) => [Row[]] | null {
  const flow = JSON.parse(
    readFileSync(join(ROOT, 'examples', 'learn', '02 - Tune feed and speed.json'), 'utf8'),
  ) as { type: string; name?: string; func?: string }[];
  const node = flow.find((n) => n.type === 'function' && n.name === 'part rows');
  assert.ok(node?.func, 'the example has its "part rows" function');
  const fn = new Function('msg', 'context', node.func) as Fn;
  const store = new Map<string, unknown>();
  const context: Context = { get: (k: string) => store.get(k), set: (k: string, v: unknown) => void store.set(k, v) };
  return (msg) => fn(msg, context);
}

const tag = (name: string, value: unknown, ts = 0): Sample => ({
  topic: `Plant1/Site/Area/Line1/CNC1/${name}`,
  ts,
  value,
});

describe('example learn/02: part rows for takt-tune', () => {
  it('sends a part at once when the next part starts straight away', () => {
    const rows = partRows();
    const out = rows({
      payload: [tag('State', 'Running'), tag('ToolWear', 100), tag('Temperature', 38), tag('BoreDiameter', 25.01, 5)],
    });
    assert.ok(out);
    assert.equal(out[0].length, 1);
    assert.deepEqual(out[0][0], {
      topic: 'CNC1',
      ts: 5,
      payload: { ToolWear: 100, Temperature: 38, BoreDiameter: 25.01 },
    });
  });

  it('holds the last part through a tool change and sends it with the context the next part starts with', () => {
    const rows = partRows();
    rows({ payload: [tag('State', 'Running'), tag('ToolWear', 239), tag('Temperature', 38)] });
    // The last part of the tool's life finishes and the machine goes into setup in the same tick.
    assert.equal(rows({ payload: [tag('BoreDiameter', 25.02, 7), tag('ToolWear', 240), tag('State', 'Setup')] }), null);
    assert.equal(rows({ payload: [tag('ToolWear', 0), tag('Temperature', 33)] }), null);
    const out = rows({ payload: [tag('State', 'Running'), tag('Temperature', 32.8)] });
    assert.ok(out);
    assert.deepEqual(out[0], [
      { topic: 'CNC1', ts: 7, payload: { ToolWear: 0, Temperature: 32.8, BoreDiameter: 25.02 } },
    ]);
  });

  it('ignores other machines and tags', () => {
    const rows = partRows();
    const other = { topic: 'Plant1/Site/Area/Line1/Press1/Thickness', ts: 1, value: 2 };
    assert.equal(rows({ payload: [other, tag('Vibration', 3), tag('State', 'Running')] }), null);
  });
});
