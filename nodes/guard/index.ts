/** takt-guard's engine as a library: `import { guard } from '@takt/node-red-mes'`. */
export * from './types';
export { checkEvent, createDetector, Detector } from './detector';
export { inspectPayload, type PayloadKind, type PayloadShape } from './features';
