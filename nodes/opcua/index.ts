/**
 * The OPC UA client engine as a library: `import { opcua } from '@takt/node-red-mes'`. A pooled session
 * with reconnection (OpcuaConnection), item lists (NodeIds and browse paths) resolved on a session,
 * subscriptions and one-shot reads as Takt samples, value decoding, and writes and method calls with
 * DataType coercion. No Node-RED import: the takt-opcua-* nodes are adaptors over these.
 */
export {
  OpcuaConnection,
  SECURITY_MODES,
  SECURITY_POLICIES,
  checkEndpointOptions,
  derCertificate,
  describeError,
  type ConnectionEvents,
  type ConnectionState,
  type EndpointAuth,
  type EndpointOptions,
  type SecurityModeName,
  type SecurityPolicyName,
} from './connection';
export { decodeDataValue, decodeVariant, type Decoded, type Json } from './decode';
export {
  browseLevel,
  enumNames,
  parseItems,
  resolveItems,
  type BrowseEntry,
  type ItemSpec,
  type ResolvedItem,
} from './items';
export {
  OpcuaSubscriber,
  topicFor,
  type OpcuaSample,
  type SubscribeOptions,
  type SubscriberEvents,
} from './subscriber';
export { callMethod, coerce, writeItems, type CallResult, type WriteResult } from './write';
