/** The plant simulator as a library: `import { sim } from '@takt/node-red-mes'`. */
export { bearingFrequencies, type BearingFrequencies } from '../core/bearing';
export * from './engine';
export * from './model';
export * from './process';
export { SampleTracker } from './samples';
export { SimRunner, type RunnerOptions } from './runner';
export {
  SimOpcuaServer,
  SIM_SECURITY_POLICIES,
  type SimServerOptions,
  type SimSecurityPolicy,
} from './opcua-server';
export { SparkplugEdgeNode, type SparkplugOptions } from './sparkplug';
export {
  renderPart,
  productSet,
  PRODUCT_KINDS,
  DEFECT_KINDS,
  type ProductKind,
  type DefectKind,
  type RawImage,
  type SynthPart,
  type PartOptions,
  type ProductSet,
} from './synth';
