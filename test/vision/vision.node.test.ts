import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import sharp from 'sharp';
import { encodePng, sniffFormat } from '../../nodes/vision/image';
import { CARD_KEY, train } from '../../nodes/vision/model';
import type { ModelRegistry } from '../../nodes/models/registry';
import { renderPart } from '../../nodes/sim/synth';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { ROOT } from '../helpers/paths';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const visionNode = require('../../nodes/vision/vision.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const trainNode = require('../../nodes/vision/vision-train.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const modelNode = require('../../nodes/models/model.node');

interface Judged {
  vision: {
    score: number;
    threshold: number;
    verdict: string;
    defects: unknown[];
    heatmap?: Buffer;
    model: string;
    dropped: number;
    kind?: string;
    label?: string;
    probabilities?: Record<string, number>;
    map?: { width: number; height: number };
    stats?: { brightness: number; contrast: number; focus: number };
  };
}
interface Caught {
  error: { message: string };
}

describe('takt-vision node', function () {
  this.timeout(120_000);
  const size = 128;
  let dir: string;
  let modelPath: string;
  let good: Buffer;
  let bad: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'takt-vision-node-'));
    const goods = await Promise.all(
      Array.from({ length: 20 }, (_, i) => encodePng(renderPart('casting', 200 + i, { size }))),
    );
    const m = await train(goods, { size, grid: 16, bankSize: 512 });
    modelPath = join(dir, 'casting.onnx');
    writeFileSync(modelPath, m.onnx);
    good = Buffer.from(await encodePng(renderPart('casting', 300, { size })));
    bad = Buffer.from(await encodePng(renderPart('casting', 301, { size, defect: 'missing', severity: 1 })));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await helper.unload();
  });

  const flow = (extra: object = {}) => [
    { id: 'tab', type: 'tab' },
    {
      id: 'v',
      z: 'tab',
      type: 'takt-vision',
      model: modelPath,
      queue: 4,
      doubt: 0.1,
      ...extra,
      wires: [['out']],
    },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: ['v'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];

  it('judges parts: ok for a good one, ng with a box and a heat map for a missing hole', async () => {
    await load([visionNode, catchNode], flow());
    await nextStatus('v', (s) => s.fill === 'green', 20000);
    const out = nextMessages<Judged>('out', 2, 20000);
    getNode('v').receive({ payload: good });
    getNode('v').receive({ payload: bad });
    const [g, b] = await out;
    assert.equal(g.vision.verdict, 'ok');
    assert.equal(b.vision.verdict, 'ng');
    assert.ok(b.vision.score > b.vision.threshold);
    assert.ok(b.vision.defects.length >= 1);
    assert.equal(sniffFormat(b.vision.heatmap!), 'png');
    assert.equal(b.vision.model, modelPath);
  });

  it('reports corrupt bytes with a red status and keeps judging', async () => {
    await load([visionNode, catchNode], flow());
    await nextStatus('v', (s) => s.fill === 'green', 20000);
    const caught = nextMessages<Caught>('caught', 2, 20000);
    const red = nextStatus('v', (s) => s.fill === 'red', 20000);
    getNode('v').receive({ payload: good.subarray(0, 200) });
    getNode('v').receive({ payload: Buffer.from('not an image at all') });
    const [e1, e2] = await caught;
    assert.match(e1.error.message, /truncated or corrupt/);
    assert.match(e2.error.message, /not PNG, JPEG, BMP or TIFF/);
    await red;
    const out = nextMessages<Judged>('out', 1, 20000);
    getNode('v').receive({ payload: good });
    assert.equal((await out)[0]!.vision.verdict, 'ok');
  });

  it('refuses images when its queue is full and counts every one it drops', async () => {
    await load([visionNode, catchNode], flow({ queue: 1 }));
    await nextStatus('v', (s) => s.fill === 'green', 20000);
    const out = nextMessages<Judged>('out', 2, 20000);
    const caught = nextMessages<Caught>('caught', 4, 20000);
    for (let i = 0; i < 6; i++) getNode('v').receive({ payload: good });
    const errors = await caught;
    assert.match(errors[3]!.error.message, /image dropped: 1 images already wait .*\(4 dropped so far\)/);
    const judged = await out;
    assert.equal(judged.length, 2);
    // Counted where they are dropped, and told with the next part judged.
    assert.equal(judged[1]!.vision.dropped, 4);
  });

  it('refuses an image above its pixel limit before decoding it, and keeps judging', async () => {
    await load([visionNode, catchNode], flow({ maxMegapixels: 0.01 }));
    await nextStatus('v', (s) => s.fill === 'green', 20000);
    const caught = nextMessages<Caught>('caught', 1, 20000);
    const red = nextStatus('v', (s) => s.fill === 'red', 20000);
    getNode('v').receive({ payload: good }); // 128x128 = 16384 pixels > 10000
    assert.match((await caught)[0]!.error.message, /128x128 = 16384 pixels, above the limit of 10000/);
    await red;
    const small = Buffer.from(await encodePng(renderPart('casting', 302, { size: 96 })));
    const out = nextMessages<Judged>('out', 1, 20000);
    getNode('v').receive({ payload: small });
    assert.ok((await out)[0]!.vision.score >= 0);
  });

  it('refuses a model whose input shape does not match its card, and keeps the model it has', async () => {
    const m = onnx.ModelProto.decode(readFileSync(modelPath));
    const prop = m.metadataProps.find((p) => p.key === CARD_KEY)!;
    prop.value = JSON.stringify({ ...JSON.parse(prop.value!), size: 64 });
    const wrong = join(dir, 'wrong-shape.onnx');
    writeFileSync(wrong, onnx.ModelProto.encode(m).finish());
    await load([visionNode, catchNode], flow());
    await nextStatus('v', (s) => s.fill === 'green', 20000);
    const caught = nextMessages<Caught>('caught', 1, 20000);
    getNode('v').receive({ model: wrong });
    assert.match(
      (await caught)[0]!.error.message,
      /model input is \[1,1,128,128\] but its card says \[1,1,64,64\]/,
    );
    const out = nextMessages<Judged>('out', 1, 20000);
    getNode('v').receive({ payload: good });
    assert.equal((await out)[0]!.vision.model, modelPath);
  });

  it('keeps its model when msg.model names a file that cannot be loaded', async () => {
    await load([visionNode, catchNode], flow());
    await nextStatus('v', (s) => s.fill === 'green', 20000);
    const caught = nextMessages<Caught>('caught', 1, 20000);
    getNode('v').receive({ model: join(dir, 'missing.onnx') });
    assert.match((await caught)[0]!.error.message, /cannot read model/);
    const out = nextMessages<Judged>('out', 1, 20000);
    getNode('v').receive({ payload: good });
    assert.equal((await out)[0]!.vision.model, modelPath);
  });

  it('runs a classifier and an anomalib-style model made with PyTorch, with their labels, maps and boxes', async () => {
    const fixtures = join(ROOT, 'test', 'fixtures', 'vision');
    const img = (n: string) => readFileSync(join(fixtures, 'images', n));
    await load([visionNode, catchNode], flow({ model: join(fixtures, 'classifier.onnx') }));
    await nextStatus('v', (s) => s.fill === 'green', 20000);
    let out = nextMessages<Judged>('out', 2, 20000);
    getNode('v').receive({ payload: img('c-good.png') });
    getNode('v').receive({ payload: img('c-scratch.png') });
    const [g, s] = await out;
    assert.equal(g.vision.kind, 'classifier');
    assert.equal(g.vision.label, 'good');
    assert.equal(g.vision.verdict, 'ok');
    assert.equal(s.vision.label, 'scratch');
    assert.equal(s.vision.verdict, 'ng');
    assert.deepEqual(Object.keys(s.vision.probabilities!), ['good', 'scratch', 'spot', 'stain']);
    assert.deepEqual(s.vision.defects, []);
    const ready = nextStatus('v', (st) => st.fill === 'green', 20000);
    getNode('v').receive({ model: join(fixtures, 'anomalib-out', 'model.onnx') });
    await ready;
    out = nextMessages<Judged>('out', 1, 20000);
    getNode('v').receive({ payload: img('spot-rgb.png') });
    const [a] = await out;
    assert.equal(a!.vision.kind, 'anomalib');
    assert.equal(a!.vision.verdict, 'ng');
    assert.equal(a!.vision.label, undefined);
    assert.equal(a!.vision.map!.width, 64);
    assert.ok(a!.vision.defects.length >= 1);
    assert.equal(sniffFormat(a!.vision.heatmap!), 'png');
  });

  it('warns of image drift when the lens gets dirty, in the shape takt-drift sends', async () => {
    const model = join(ROOT, 'test', 'fixtures', 'vision', 'anomalib-in', 'model.onnx');
    await load([visionNode, catchNode], flow({ model, queue: 200, driftWindow: 10 }));
    await nextStatus('v', (st) => st.fill === 'green', 20000);
    const png = (seed: number) => encodePng(renderPart('casting', seed, { size: 64 }));
    const goods = await Promise.all(Array.from({ length: 110 }, (_, i) => png(600 + i)));
    const blurred = await Promise.all(
      Array.from({ length: 30 }, async (_, i) =>
        sharp(await png(800 + i))
          .blur(1.5)
          .png()
          .toBuffer(),
      ),
    );
    type Drifted = Judged & {
      drift?: { drift: boolean; moved: string[]; warnings: string[]; basis: string };
    };
    const out = nextMessages<Drifted>('out', 140, 60000);
    const yellow = nextStatus('v', (st) => st.fill === 'yellow' && /drift focus/.test(st.text ?? ''), 60000);
    for (const g of goods) getNode('v').receive({ payload: Buffer.from(g) });
    for (const b of blurred) getNode('v').receive({ payload: b });
    const msgs = await out;
    // The first 100 images are the reference (the fixture has no training statistics); the rest are judged.
    assert.equal(msgs.slice(0, 100).filter((m) => m.drift).length, 0);
    const before = msgs.slice(100, 110).filter((m) => m.drift);
    assert.ok(before.every((m) => !m.drift!.drift));
    const after = msgs.slice(110).filter((m) => m.drift?.drift);
    assert.ok(after.length >= 1, 'no drift reported on blurred images');
    assert.ok(after[0]!.drift!.moved.includes('focus'));
    assert.equal(after[0]!.drift!.basis, 'first images');
    assert.match(after[0]!.drift!.warnings.join(' '), /blurrier/);
    assert.equal(typeof msgs[0]!.vision.stats!.focus, 'number');
    await yellow;
  });

  it('refuses a bad queue setting with a red status', async () => {
    await load([visionNode, catchNode], flow({ queue: -3 }));
    const caught = nextMessages<Caught>('caught', 1, 20000);
    getNode('v').receive({ payload: good });
    assert.match((await caught)[0]!.error.message, /queue: -3 must be at least 0/);
  });
});

describe('takt-vision-train node', function () {
  this.timeout(180_000);
  const size = 128;
  let userDir: string;
  let goods: Buffer[];

  before(async () => {
    goods = await Promise.all(
      Array.from({ length: 12 }, async (_, i) =>
        Buffer.from(await encodePng(renderPart('washer', 400 + i, { size }))),
      ),
    );
  });
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-vision-train-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  const flow = (extra: object = {}) => [
    { id: 'tab', type: 'tab' },
    {
      id: 't',
      z: 'tab',
      type: 'takt-vision-train',
      modelName: 'washer',
      count: 12,
      size,
      ...extra,
      wires: [['v', 'trained']],
    },
    { id: 'v', z: 'tab', type: 'takt-vision', wires: [['out']] },
    { id: 'trained', z: 'tab', type: 'helper' },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: ['t', 'v'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];

  it('trains in a worker on the images it collected, writes the model and card, and takt-vision loads it', async () => {
    await load([visionNode, trainNode, catchNode], flow());
    const trained = nextMessages<{ payload: string; card: { training: { images: number } } }>(
      'trained',
      1,
      150000,
    );
    const caught = nextMessages<Caught>('caught', 2, 150000);
    getNode('t').receive({ payload: Buffer.from('not an image') });
    for (const g of goods) getNode('t').receive({ payload: g });
    // Arrives while the model is being trained: refused with an error, not dropped silently.
    getNode('t').receive({ payload: goods[0] });
    const [m] = await trained;
    assert.equal(m.payload, join(userDir, 'takt', 'models', 'washer.onnx'));
    assert.ok(existsSync(m.payload));
    assert.equal(
      JSON.parse(readFileSync(join(userDir, 'takt', 'models', 'washer.json'), 'utf8')).training.images,
      12,
    );
    assert.equal(m.card.training.images, 12);
    const [e1, e2] = await caught;
    assert.match(e1.error.message, /payload must be PNG/);
    assert.match(e2.error.message, /being trained/);
    await nextStatus('v', (s) => s.fill === 'green', 20000);
    const out = nextMessages<Judged>('out', 1, 20000);
    getNode('v').receive({ payload: goods[1] });
    assert.equal((await out)[0]!.vision.model, m.payload);
  });

  it('registers each model in takt-model; takt-vision serves the champion, and the older one after a rollback', async () => {
    const registryFlow = [
      { id: 'tab', type: 'tab' },
      { id: 'm', type: 'takt-model', model: 'washer', path: '', pollMs: 0 },
      {
        id: 't',
        z: 'tab',
        type: 'takt-vision-train',
        modelName: 'washer',
        count: 12,
        size,
        modelRef: 'm',
        wires: [['trained']],
      },
      { id: 'v', z: 'tab', type: 'takt-vision', modelRef: 'm', wires: [['out']] },
      { id: 'trained', z: 'tab', type: 'helper' },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'c', z: 'tab', type: 'catch', scope: ['t', 'v'], uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
    await load([modelNode, visionNode, trainNode, catchNode], registryFlow);
    const registry = (getNode('m') as unknown as { registry: ModelRegistry }).registry;
    type Trained = { version: number; card: { threshold: number } };
    const judged = async () => {
      const out = nextMessages<Judged & { vision: { version?: number } }>('out', 1, 20000);
      getNode('v').receive({ payload: goods[1] });
      return (await out)[0]!.vision;
    };
    const servedAs = (v: number) =>
      nextStatus('v', (st) => st.fill === 'green' && st.text === `model v${v}`, 30000);

    let trained = nextMessages<Trained>('trained', 1, 150000);
    let serving = servedAs(1);
    for (const g of goods) getNode('t').receive({ payload: g });
    const [first] = await trained;
    assert.equal(first!.version, 1);
    await serving;
    const v1 = await judged();
    assert.equal(v1.version, 1);
    assert.equal(v1.threshold, first!.card.threshold);
    const card1 = registry.card(1);
    assert.equal(card1.domain, 'vision');
    assert.deepEqual(card1.image, { channels: 1, height: size, width: size });

    // A second model: registered, not served until promoted.
    trained = nextMessages<Trained>('trained', 1, 150000);
    for (const g of goods.slice().reverse()) getNode('t').receive({ payload: g });
    const [second] = await trained;
    assert.equal(second!.version, 2);
    assert.equal(registry.champion()!.version, 1);
    assert.equal((await judged()).version, 1);
    serving = servedAs(2);
    await registry.promote(2, 'ana', 'the second set');
    await serving;
    const v2 = await judged();
    assert.equal(v2.version, 2);
    assert.equal(v2.threshold, second!.card.threshold);

    serving = servedAs(1);
    await registry.rollback(undefined, { who: 'ana', why: 'back to the first' });
    await serving;
    assert.equal((await judged()).version, 1);
    assert.deepEqual(
      registry.audit().map((e) => `${e.action} ${e.from}->${e.to}`),
      ['register null->1', 'promote null->1', 'register 1->2', 'promote 1->2', 'rollback 2->1'],
    );

    // A version whose file changed is refused by its hash; v1 keeps judging.
    writeFileSync(registry.path(2), Buffer.concat([readFileSync(registry.path(2)), Buffer.from([0])]));
    await assert.rejects(registry.promote(2, 'ana', 'again'), /SHA-256/);
    assert.equal((await judged()).version, 1);
  });

  it("with after 'stop', trains once and counts the images it no longer uses until reset", async () => {
    await load([visionNode, trainNode, catchNode], flow({ after: 'stop', count: 10 }));
    const trained = nextMessages<{ card: { training: { images: number } } }>('trained', 1, 150000);
    for (const g of goods) getNode('t').receive({ payload: g }); // 12: training starts at the 10th
    assert.equal((await trained)[0]!.card.training.images, 10);
    const counted = nextStatus('t', (s) => /trained, 3 unused/.test(s.text ?? ''), 20000);
    getNode('t').receive({ payload: goods[0] });
    await counted;
    const collecting = nextStatus('t', (s) => s.text === '1/10 images', 20000);
    getNode('t').receive({ action: 'reset' });
    getNode('t').receive({ payload: goods[0] });
    await collecting;
  });

  it('trains on a folder of images when told to', async () => {
    const folder = join(userDir, 'good');
    mkdirSync(folder);
    goods.forEach((g, i) => writeFileSync(join(folder, `part-${i}.png`), g));
    writeFileSync(join(folder, 'notes.txt'), 'not an image');
    await load([visionNode, trainNode, catchNode], flow({ folder: 'good', count: 500 }));
    const trained = nextMessages<{ card: { training: { images: number } } }>('trained', 1, 150000);
    getNode('t').receive({ action: 'train' });
    assert.equal((await trained)[0]!.card.training.images, 12);
  });
});
