/** Human-in-the-loop approvals and the tamper-evident audit log: `import { approve } from '@takt/node-red-mes'`. */
export * from './approvals';
export * from '../core/audit';
export * from '../core/identity';
