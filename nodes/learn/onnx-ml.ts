/**
 * The tree ensemble as an ONNX-ML graph (domain `ai.onnx.ml`, TreeEnsembleRegressor / TreeEnsembleClassifier,
 * opset 3) that onnxruntime runs, and back: the TypeScript predictor reads its trees from the same file.
 * Node covers travel in `nodes_hitrates` (ignored by onnxruntime, needed by TreeSHAP). Kept in one module so the
 * graph can move onto the core ONNX builder later.
 *
 * Inputs `features` float [N, d]. Regression: output `value` [N, 1]. Classification: `label` int64 [N] and
 * `probabilities` float [N, K] (K = 2 for two classes).
 */
import { onnx } from 'onnx-proto';
import { TaktError } from '../core/errors';
import type { Ensemble, Tree } from './trees';

const ML = 'ai.onnx.ml';
const A = onnx.AttributeProto.AttributeType;

const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: A.INTS, ints: v });
const floats = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: A.FLOATS, floats: v });
const str = (name: string, s: string): onnx.IAttributeProto => ({
  name,
  type: A.STRING,
  s: Buffer.from(s),
});
const strs = (name: string, v: string[]): onnx.IAttributeProto => ({
  name,
  type: A.STRINGS,
  strings: v.map((s) => Buffer.from(s)),
});
const int = (name: string, i: number): onnx.IAttributeProto => ({ name, type: A.INT, i });

function tensorInfo(name: string, elemType: number, dims: (number | 'N')[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (d === 'N' ? { dimParam: 'N' } : { dimValue: d })) },
      },
    },
  };
}

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
  const F = onnx.TensorProto.DataType.FLOAT;
  if (e.link === 'identity') {
    node = {
      name: 'trees',
      opType: 'TreeEnsembleRegressor',
      domain: ML,
      input: ['features'],
      output: ['value'],
      attribute: [
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
    };
    outputs = [tensorInfo('value', F, ['N', 1])];
  } else {
    const K = e.link === 'softmax' ? e.outputs : 2;
    node = {
      name: 'trees',
      opType: 'TreeEnsembleClassifier',
      domain: ML,
      input: ['features'],
      output: ['label', 'probabilities'],
      attribute: [
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
    };
    outputs = [
      tensorInfo('label', onnx.TensorProto.DataType.INT64, ['N']),
      tensorInfo('probabilities', F, ['N', K]),
    ];
  }
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [
      { domain: '', version: 17 },
      { domain: ML, version: 3 },
    ],
    producerName: 'takt',
    producerVersion: '1',
    domain: 'org.takt',
    modelVersion: 1,
    docString: 'Takt quality prediction: gradient-boosted trees',
    graph: {
      name: 'takt_gbt',
      node: [node],
      input: [tensorInfo('features', F, ['N', d])],
      output: outputs,
    },
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new TaktError('learn.badGraph', `onnx: ${err}`, 'model');
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export interface DecodedModel {
  ensemble: Ensemble;
  features: number;
  metadata: Record<string, string>;
}

/** Reads the trees and metadata back from a file written by ensembleToOnnx. */
export function onnxToEnsemble(bytes: Uint8Array): DecodedModel {
  let m: onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new TaktError('learn.notOnnx', `not an ONNX model (${(err as Error).message})`, 'model');
  }
  const node = (m.graph?.node ?? []).find((n) => n.opType?.startsWith('TreeEnsemble') && n.domain === ML);
  if (!node)
    throw new TaktError('learn.notOnnx', 'not a Takt tree-ensemble model (no TreeEnsemble node)', 'model');
  const at = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  const I = (k: string): number[] => (at.get(k)?.ints ?? []).map((v) => Number(v));
  const Fl = (k: string): number[] => [...(at.get(k)?.floats ?? [])];
  const S = (k: string): string => Buffer.from(at.get(k)?.s ?? new Uint8Array()).toString();
  const classifier = node.opType === 'TreeEnsembleClassifier';
  const p = classifier ? 'class' : 'target';
  const treeIds = I('nodes_treeids');
  const nodeIds = I('nodes_nodeids');
  const feat = I('nodes_featureids');
  const thr = Fl('nodes_values');
  const modes = (at.get('nodes_modes')?.strings ?? []).map((s) => Buffer.from(s).toString());
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
  const dim = m.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.[1]?.dimValue;
  const metadata: Record<string, string> = {};
  for (const kv of m.metadataProps ?? []) if (kv.key) metadata[kv.key] = kv.value ?? '';
  return { ensemble: { outputs, base, trees, link }, features: Number(dim ?? 0), metadata };
}
