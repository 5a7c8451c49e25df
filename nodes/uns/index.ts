/** Unified-namespace writer engine: `import { uns } from '@takt/node-red-mes'`. */
export * from './uns';
