/**
 * takt-sample: turns any message into the sample contract (../core/sample.ts), or a batch of samples.
 * A thin adaptor: reading config and msg properties here, every rule in the core sample engine.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { COERCIONS, type Coercion, isBatch, isSampleLike, toBatch, toSample } from '../core/sample';
import { errorStatus, status, throttledStatus } from '../core/status';

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
    const property = def.property || 'payload';
    const tsProperty = def.tsProperty || 'ts';
    const qualityProperty = def.qualityProperty || 'quality';
    const coerce: Coercion = COERCIONS.includes(def.coerce as Coercion) ? (def.coerce as Coercion) : 'auto';
    const topicPrefix = (def.topicPrefix ?? '').trim();
    const shown = throttledStatus((s) => this.status(s));
    let count = 0;

    this.on('input', (msg: Msg, send, done) => {
      try {
        const opts = { topicPrefix, coerce, now: Date.now() };
        const raw: unknown = RED.util.getMessageProperty(msg, property);
        const ts: unknown = RED.util.getMessageProperty(msg, tsProperty);
        const quality: unknown = RED.util.getMessageProperty(msg, qualityProperty);
        if (isBatch(raw)) {
          const batch = toBatch(raw, msg.topic, opts);
          msg.payload = batch;
          count += batch.length;
        } else {
          const own = isSampleLike(raw) ? raw : { value: raw };
          const s = toSample(
            {
              topic: own.topic ?? msg.topic,
              value: own.value,
              ts: own.ts ?? ts,
              quality: own.quality ?? quality,
            },
            opts,
          );
          Object.assign(msg, { topic: s.topic, payload: s.value, ts: s.ts, quality: s.quality });
          count++;
        }
        shown.update(() => status.ready(RED._('sample.status.count', { count })));
        send(msg);
        done();
      } catch (err) {
        shown.now(errorStatus(err));
        done(err as Error);
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      shown.dispose();
      done();
    });
  }
  RED.nodes.registerType('takt-sample', SampleNode);
};

export = init;
