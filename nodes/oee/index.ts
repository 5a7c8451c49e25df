/** OEE engine: `import { oee } from '@takt/node-red-mes'`. */
export * from './oee';
