import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLEND, englishIntentModel, type LangData, parse, type Plant } from '../../nodes/assistant';
import demoPlant from '../../nodes/assistant/demo-plant.json';
import {
  classify,
  featuresOf,
  predictProba,
  trainIntentModel,
  type IntentModel,
} from '../../nodes/assistant/intent-model';
import {
  batchExamples,
  classTokens,
  evaluate,
  FRESH_HOLDOUTS,
  LAMBDA_GRID,
  trainingFiles,
} from '../../nodes/assistant/intent-train';
import { readGold } from '../../bench/lib/assistant-eval';

const ROOT = join(__dirname, '..', '..', '..');
const plant = demoPlant as Plant;
const now = Date.UTC(2026, 2, 4, 10, 30);

describe('assistant intent classifier', () => {
  describe('features', () => {
    it('words, word pairs with start and end marks, and character trigrams of plain words', () => {
      assert.deepEqual(featuresOf(['stop', '{machine}']).sort(), [
        'b:<s> stop',
        'b:stop {machine}',
        'b:{machine} </s>',
        'c:^st',
        'c:op$',
        'c:sto',
        'c:top',
        'w:stop',
        'w:{machine}',
      ]);
      // each feature once
      assert.deepEqual(
        featuresOf(['on', 'on']).filter((f) => f === 'w:on'),
        ['w:on'],
      );
    });
    it("the parser's normalisation: plant names, orders, numbers, units and times become class tokens", () => {
      // a typo is fixed first ("temprature"); "oven temperature" is a parameter's name
      assert.deepEqual(classTokens('set the Oven temprature to 185 degrees', plant, now), [
        'set',
        '{parameter}',
        'to',
        '{number}',
        '{unit}',
      ]);
      assert.deepEqual(classTokens('is ORD-105 done yet?', plant, now), [
        'is',
        '{order}',
        'done',
        'yet',
        '?',
      ]);
      assert.deepEqual(classTokens('oee of press 1 since 6', plant, now), [
        'oee',
        'of',
        '{machine}',
        '{time}',
      ]);
      // a machine this plant does not have is "{unknown}"
      assert.deepEqual(classTokens('stop welder 3', plant, now), ['stop', '{unknown}']);
    });
  });

  describe('engine', () => {
    // two features, two classes: logits a = 1 + 0.5 (bias), b = -1 + 0 -> p(a) = 1 / (1 + e^-2.5)
    const tiny: IntentModel = {
      version: 1,
      lambda: 0,
      classes: ['a', 'b'],
      features: ['w:x', 'w:y'],
      weights: [1, -1, 0, 2, 0.5, 0],
    };
    it('predicts the softmax of the summed weights plus the bias', () => {
      const p = predictProba(tiny, ['w:x', 'w:unseen']);
      assert.ok(Math.abs(p[0] - 1 / (1 + Math.exp(-2.5))) < 1e-12);
      assert.ok(Math.abs(p[0] + p[1] - 1) < 1e-12);
      assert.deepEqual(classify(tiny, ['w:y']).label, 'b');
      // nothing known: the bias alone
      assert.ok(Math.abs(predictProba(tiny, [])[0] - 1 / (1 + Math.exp(-0.5))) < 1e-12);
    });
    const data = [
      ...['stop', 'halt', 'kill'].map((w) => ({ features: featuresOf([w, '{machine}']), label: 'stop' })),
      ...['start', 'run', 'launch'].map((w) => ({ features: featuresOf([w, '{machine}']), label: 'start' })),
      ...['weather', 'joke', 'lunch'].map((w) => ({
        features: featuresOf(['what', w]),
        label: 'out_of_scope',
      })),
    ];
    it('learns a separable toy set, deterministically, and L2 shrinks the weights', () => {
      const m = trainIntentModel(data, { lambda: 1e-3, minCount: 1, epochs: 30 });
      assert.deepEqual(m.classes, ['out_of_scope', 'start', 'stop']);
      assert.equal(evaluate(m, data).accuracy, 1);
      assert.deepEqual(trainIntentModel(data, { lambda: 1e-3, minCount: 1, epochs: 30 }), m);
      const strong = trainIntentModel(data, { lambda: 0.3, minCount: 1, epochs: 30 });
      const norm = (x: IntentModel) => x.weights.slice(0, -3).reduce((s, w) => s + w * w, 0);
      assert.ok(norm(strong) < norm(m) / 4, `${norm(strong)} vs ${norm(m)}`);
      // a feature seen fewer than minCount times is not in the model
      assert.ok(!trainIntentModel(data, { lambda: 1e-3, epochs: 5 }).features.includes('w:halt'));
    });
  });

  describe('the committed model (nodes/assistant/lang/en-intent.json)', () => {
    it('is what scripts/train-intent.mjs fits on the committed batches (no hand edits)', function () {
      this.timeout(300000);
      const dir = join(ROOT, 'test', 'assistant');
      const files = trainingFiles(readdirSync(dir));
      assert.ok(files.length >= 25 && !files.some((f) => FRESH_HOLDOUTS.includes(f)), files.join());
      const batches = files.map((f) => ({ name: f, ...readGold(join(dir, f)) }));
      const committed = JSON.parse(
        readFileSync(join(ROOT, 'nodes', 'assistant', 'lang', 'en-intent.json'), 'utf8'),
      ) as IntentModel;
      assert.ok(LAMBDA_GRID.includes(committed.lambda));
      const fitted = trainIntentModel(batchExamples(batches, plant).flat(), { lambda: committed.lambda });
      assert.deepEqual(fitted, committed);
      assert.deepEqual(englishIntentModel, committed);
    });
  });

  describe('combined with the parser (parse.ts BLEND)', () => {
    const q = (text: string, o: object = {}) =>
      parse(text, { plant, now, intentModel: englishIntentModel, ...o });
    it('the classifier overrules a weak parser pick (fails with the parser alone)', () => {
      assert.equal(q('bring the press back up', { intentModel: null }).intent, 'status');
      assert.deepEqual(q('bring the press back up').intent, 'start_machine');
      assert.deepEqual(q('bring the press back up').slots, { machine: 'Press1' });
      assert.equal(q('what is the cure oven up to', { intentModel: null }).intent, 'out_of_scope');
      assert.deepEqual(q('what is the cure oven up to').slots, { machine: 'Oven1' });
      assert.equal(q('what is the cure oven up to').intent, 'status');
    });
    it('on by default for the English data; weight 0 is the parser alone; a pick the parser is sure of stands', () => {
      for (const text of ['bring the press back up', 'what is the oee of line 1 today', 'tell me a joke'])
        assert.deepEqual(parse(text, { plant, now }), q(text));
      // another language's data brings its own classifier or none: the English one is not applied to it
      const de = JSON.parse(
        readFileSync(join(ROOT, 'test', 'assistant', 'lang-de.json'), 'utf8'),
      ) as LangData;
      for (const text of ['starte die Presse', 'wie ist die OEE der Presse heute'])
        assert.deepEqual(
          parse(text, { plant, now, lang: de }),
          parse(text, { plant, now, lang: de, intentModel: null }),
        );
      for (const text of ['bring the press back up', 'what is the oee of line 1 today', 'tell me a joke']) {
        assert.deepEqual(q(text, { blend: { weight: 0, cap: 1 } }), q(text, { intentModel: null }));
      }
      // the classifier alone reads "do not rush" as out of scope; the parser is sure of the clause structure
      assert.equal(
        q("don't rush ORD-104, rush ORD-101", { blend: { weight: 1, cap: 2 } }).intent,
        'out_of_scope',
      );
      assert.deepEqual(q("don't rush ORD-104, rush ORD-101"), {
        ...q("don't rush ORD-104, rush ORD-101", { intentModel: null }),
      });
      assert.ok(BLEND.weight > 0 && BLEND.weight < 1 && BLEND.cap <= 1);
    });
    it('a negated command stays out of scope, slots come from the parser', () => {
      assert.equal(q("don't stop the press").intent, 'out_of_scope');
      assert.equal(q("don't stop the press", { blend: { weight: 1, cap: 2 } }).intent, 'out_of_scope');
      assert.deepEqual(q('set the oven to 180, no, 185').slots, {
        machine: 'Oven1',
        parameter: 'Temperature',
        value: 185,
      });
    });
  });
});
