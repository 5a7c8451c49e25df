/**
 * The tree ensemble as an ONNX-ML graph (domain `ai.onnx.ml`, TreeEnsembleRegressor / TreeEnsembleClassifier,
 * opset 3) that onnxruntime runs, and back: the TypeScript predictor reads its trees from the same file.
 * Node covers travel in `nodes_hitrates` (ignored by onnxruntime, needed by TreeSHAP). Built and read with the
 * core ONNX module (core/onnx.ts).
 *
 * Inputs `features` float [N, d]. Regression: output `value` [N, 1]. Classification: `label` int64 [N] and
 * `probabilities` float [N, K] (K = 2 for two classes).
 */
import {
  ElemType,
  encodeModel,
  floatsAttr as floats,
  intAttr as int,
  intsAttr as ints,
  OPSET,
  op,
  readOnnx,
  stringAttr as str,
  stringsAttr as strs,
  tensorInfo,
} from '../core/onnx';
import type { onnx } from 'onnx-proto';
import { TaktError } from '../core/errors';
import type { Ensemble, Tree } from './trees';

const ML = 'ai.onnx.ml';

/** Encodes the ensemble; `metadata` goes into metadata_props. */
export function ensembleToOnnx(e: Ensemble, d: number, metadata: Record<string, string>): Uint8Array {
  const tree = { treeids: [] as number[], nodeids: [] as number[], featureids: [] as number[] };
  const values: number[] = [];
  const modes: string[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const hit: number[] = [];
  const tgt = {
    treeids: [] as number[],
    nodeids: [] as number[],
    ids: [] as number[],
    weights: [] as number[],
  };
  e.trees.forEach((t, ti) => {
    for (let i = 0; i < t.feature.length; i++) {
      const leaf = t.feature[i] < 0;
      tree.treeids.push(ti);
      tree.nodeids.push(i);
      tree.featureids.push(leaf ? 0 : t.feature[i]);
      values.push(leaf ? 0 : t.threshold[i]);
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      trueIds.push(leaf ? 0 : t.left[i]);
      falseIds.push(leaf ? 0 : t.right[i]);
      hit.push(t.cover[i]);
      if (leaf) {
        tgt.treeids.push(ti);
        tgt.nodeids.push(i);
        // Two classes: all weights on class 0 with one base value; onnxruntime then gives [1 - p, p], p = sigmoid.
        tgt.ids.push(e.link === 'softmax' ? ti % e.outputs : 0);
        tgt.weights.push(t.value[i]);
      }
    }
  });
  const common = [
    ints('nodes_treeids', tree.treeids),
    ints('nodes_nodeids', tree.nodeids),
    ints('nodes_featureids', tree.featureids),
    floats('nodes_values', values),
    strs('nodes_modes', modes),
    ints('nodes_truenodeids', trueIds),
    ints('nodes_falsenodeids', falseIds),
    floats('nodes_hitrates', hit),
  ];
  let node: onnx.INodeProto;
  let outputs: onnx.IValueInfoProto[];
  const F = ElemType.FLOAT;
  if (e.link === 'identity') {
    node = op(
      'TreeEnsembleRegressor',
      ['features'],
      ['value'],
      [
        ...common,
        ints('target_treeids', tgt.treeids),
        ints('target_nodeids', tgt.nodeids),
        ints('target_ids', tgt.ids),
        floats('target_weights', tgt.weights),
        int('n_targets', 1),
        floats('base_values', e.base),
        str('aggregate_function', 'SUM'),
        str('post_transform', 'NONE'),
      ],
      { name: 'trees', domain: ML },
    );
    outputs = [tensorInfo('value', F, ['N', 1])];
  } else {
    const K = e.link === 'softmax' ? e.outputs : 2;
    node = op(
      'TreeEnsembleClassifier',
      ['features'],
      ['label', 'probabilities'],
      [
        ...common,
        ints('class_treeids', tgt.treeids),
        ints('class_nodeids', tgt.nodeids),
        ints('class_ids', tgt.ids),
        floats('class_weights', tgt.weights),
        ints(
          'classlabels_int64s',
          Array.from({ length: K }, (_, k) => k),
        ),
        floats('base_values', e.base),
        str('post_transform', e.link === 'logistic' ? 'LOGISTIC' : 'SOFTMAX'),
      ],
      { name: 'trees', domain: ML },
    );
    outputs = [tensorInfo('label', ElemType.INT64, ['N']), tensorInfo('probabilities', F, ['N', K])];
  }
  return encodeModel(
    {
      name: 'takt_gbt',
      doc: 'Takt quality prediction: gradient-boosted trees',
      nodes: [node],
      initializers: [],
      inputs: [tensorInfo('features', F, ['N', d])],
      outputs,
      metadata,
      opsets: [
        { domain: '', version: OPSET },
        { domain: ML, version: 3 },
      ],
    },
    (err) => new TaktError('learn.badGraph', `onnx: ${err}`, 'model'),
  );
}

export interface DecodedModel {
  ensemble: Ensemble;
  features: number;
  metadata: Record<string, string>;
}

/** Reads the trees and metadata back from a file written by ensembleToOnnx. */
export function onnxToEnsemble(bytes: Uint8Array): DecodedModel {
  const m = readOnnx(
    bytes,
    (reason) => new TaktError('learn.notOnnx', `not an ONNX model (${reason})`, 'model'),
  );
  const node = m.findNode((type, domain) => type.startsWith('TreeEnsemble') && domain === ML);
  if (!node)
    throw new TaktError('learn.notOnnx', 'not a Takt tree-ensemble model (no TreeEnsemble node)', 'model');
  const at = node.attributes;
  const I = (k: string): number[] => at.ints(k);
  const Fl = (k: string): number[] => at.floats(k);
  const S = (k: string): string => at.string(k);
  const classifier = node.opType === 'TreeEnsembleClassifier';
  const p = classifier ? 'class' : 'target';
  const treeIds = I('nodes_treeids');
  const nodeIds = I('nodes_nodeids');
  const feat = I('nodes_featureids');
  const thr = Fl('nodes_values');
  const modes = at.strings('nodes_modes');
  const tIds = I('nodes_truenodeids');
  const fIds = I('nodes_falsenodeids');
  const hit = Fl('nodes_hitrates');
  if (hit.length !== treeIds.length)
    throw new TaktError('learn.notOnnx', 'tree model without node covers (nodes_hitrates)', 'model');
  const trees: Tree[] = [];
  for (let q = 0; q < treeIds.length; q++) {
    const ti = treeIds[q];
    const i = nodeIds[q];
    const t = (trees[ti] ??= { feature: [], threshold: [], left: [], right: [], value: [], cover: [] });
    const leaf = modes[q] === 'LEAF';
    if (!leaf && modes[q] !== 'BRANCH_LEQ')
      throw new TaktError('learn.notOnnx', `unsupported node mode ${modes[q]}`, 'model');
    t.feature[i] = leaf ? -1 : feat[q];
    t.threshold[i] = leaf ? 0 : thr[q];
    t.left[i] = leaf ? -1 : tIds[q];
    t.right[i] = leaf ? -1 : fIds[q];
    t.value[i] = 0;
    t.cover[i] = hit[q];
  }
  const lt = I(`${p}_treeids`);
  const ln = I(`${p}_nodeids`);
  const lw = Fl(`${p}_weights`);
  for (let q = 0; q < lt.length; q++) trees[lt[q]].value[ln[q]] += lw[q];
  const baseValues = Fl('base_values');
  const post = S('post_transform');
  const link: Ensemble['link'] = !classifier ? 'identity' : post === 'LOGISTIC' ? 'logistic' : 'softmax';
  const outputs = link === 'softmax' ? baseValues.length : 1;
  const base = baseValues;
  const dim = m.inputs[0]?.shape?.[1];
  return {
    ensemble: { outputs, base, trees, link },
    features: typeof dim === 'number' ? dim : 0,
    metadata: m.metadata,
  };
}
