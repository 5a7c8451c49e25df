/** takt-guard's engine as a library: `import { guard } from '@takt/node-red-mes'`. */
export * from './types';
export { checkEvent, createDetector, Detector } from './detector';
export {
  clientFamily,
  type FieldType,
  inspectPayload,
  type PayloadField,
  type PayloadKind,
  type PayloadShape,
} from './features';
export {
  type AedesLike,
  type Clock,
  EventQueue,
  externalEvent,
  externalFilters,
  type GuardSink,
  type OpcuaServerLike,
  type Tap,
  tapAedes,
  tapOpcuaServer,
} from './taps';
export {
  describeProposal,
  type Proposal,
  proposals,
  readEvents,
  RESPONSES,
  type ResponseAction,
} from './events';
/** The hardening audit (also `npx takt-audit`): `guard.audit.auditBox(facts)`, `guard.audit.formatReport(report)`. */
export * as audit from './audit';
