/** MQTT and Sparkplug B as a library: `import { mqtt } from '@takt/node-red-mes'`. */
export * from './decoder';
/** The Sparkplug B edge-node engine shared by the simulator and takt-uns-out. */
export * from './sparkplug-edge';
/** The edge node's MQTT session (NDEATH as will, bdSeq per session, clean NDEATH on stop), shared likewise. */
export { DEATH_ACK_MS, SparkplugSession } from './sparkplug-session';
export {
  MqttBrokerConnection,
  checkBrokerOptions,
  describeMqttError,
  topicMatches,
  type BrokerEvents,
  type BrokerOptions,
  type BrokerState,
  type BrokerTls,
  type MessageHandler,
} from './connection';
