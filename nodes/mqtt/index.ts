/** MQTT and Sparkplug B as a library: `import { mqtt } from '@takt/node-red-mes'`. */
export * from './decoder';
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
