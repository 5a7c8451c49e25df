/**
 * takt-sample: turns any message into the sample contract (../core/message.ts), or a batch of samples.
 * A thin adaptor: reading config and msg properties here, every rule in the core message reader.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import {
  COERCIONS,
  coercedValue,
  isSampleLike,
  looksLikeBatch,
  readSamples,
  type SampleMessage,
} from '../core/message';
import { status, throttledStatus } from '../core/status';

interface SampleNodeDef extends NodeDef {
  topicPrefix?: string;
  property?: string;
  tsProperty?: string;
  qualityProperty?: string;
  coerce?: string;
}

type Msg = NodeMessageInFlow & { ts?: unknown; quality?: unknown };

const init: NodeInitializer = (RED) => {
  function SampleNode(this: Node, def: SampleNodeDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def);
      return {
        property: cfg.string('property', 'payload'),
        tsProperty: cfg.string('tsProperty', 'ts'),
        qualityProperty: cfg.string('qualityProperty', 'quality'),
        value: coercedValue(cfg.choice('coerce', COERCIONS, 'auto')),
        topicPrefix: cfg.string('topicPrefix', ''),
      };
    });
    if (!set) return;
    const { property, tsProperty, qualityProperty, value, topicPrefix } = set;
    const shown = throttledStatus((s) => this.status(s));
    let count = 0;

    onInput<Msg>(
      this,
      (msg, send) => {
        const raw: unknown = RED.util.getMessageProperty(msg, property);
        const ts: unknown = RED.util.getMessageProperty(msg, tsProperty);
        const quality: unknown = RED.util.getMessageProperty(msg, qualityProperty);
        // A sample-like object in the property brings its own parts; the msg's fill in what it lacks.
        const batch = looksLikeBatch(raw);
        const own = !batch && isSampleLike(raw) ? raw : undefined;
        const m: SampleMessage = own
          ? {
              topic: own.topic ?? msg.topic,
              payload: own.value,
              ts: own.ts ?? ts,
              quality: own.quality ?? quality,
            }
          : { topic: msg.topic, payload: raw, ts, quality };
        const samples = readSamples(m, {
          now: Date.now(),
          value,
          topic: 'path',
          topicPrefix,
          field: 'payload',
          batch,
        });
        if (batch) msg.payload = samples;
        else {
          const s = samples[0];
          Object.assign(msg, { topic: s.topic, payload: s.value, ts: s.ts, quality: s.quality });
        }
        count += samples.length;
        shown.update(() => status.ready(RED._('sample.status.count', { count })));
        send(msg);
      },
      shown,
    );

    onClose(this, () => shown.dispose());
  }
  RED.nodes.registerType('takt-sample', SampleNode);
};

export = init;
