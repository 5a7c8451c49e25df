/**
 * takt-vibration: condition-monitoring features of a vibration waveform. A thin adaptor around
 * `features` (features.ts): a payload array is one waveform; single numbers (or short chunks) are buffered
 * into windows of the configured size. msg.payload becomes the flat feature record (ready for takt-anomaly);
 * msg.sampleRateHz and msg.rpm override the configuration for one message.
 */
import type { Node, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { readSamples, type ValueReader } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { WaveformBuffer } from './buffer';
import { toFeatureOptions, type VibrationNodeDef } from './config';
import { features, type FeatureOptions } from './features';

type Msg = NodeMessageInFlow & {
  ts?: unknown;
  quality?: unknown;
  sampleRateHz?: unknown;
  rpm?: unknown;
  vibration?: unknown;
};

/** A sample value of this node: one number or a waveform (its samples are checked by the buffer). */
const waveValue: ValueReader<number | number[]> = (v, field) => {
  if (typeof v === 'number' || Array.isArray(v)) return v as number | number[];
  throw new TaktError(
    'vibration.badPayload',
    `${field}: expected a number or an array of numbers (a waveform)`,
    field,
  );
};

const init: NodeInitializer = (RED) => {
  function VibrationNode(this: Node, def: VibrationNodeDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const base = toFeatureOptions(def);
      return { base, buffer: new WaveformBuffer(base.windowSize) };
    });
    if (!set) return;
    const { base, buffer } = set;
    const shown = throttledStatus((s) => this.status(s));
    let skipped = 0;
    this.status(status.idle(RED._('vibration.status.waiting')));

    onInput<Msg>(
      this,
      (msg, send) => {
        const o: FeatureOptions = { ...base };
        if (msg.sampleRateHz !== undefined) o.sampleRateHz = Number(msg.sampleRateHz);
        if (msg.rpm !== undefined) o.rpm = Number(msg.rpm);
        // The sample contract (core/message): a single sample or waveform, or a batch of them, every
        // element checked. A bad-quality one is not analysed, and the partial window is dropped with it
        // (a window must be a contiguous stretch of signal).
        const windows: ArrayLike<number>[] = [];
        for (const s of readSamples(msg, { now: Date.now(), value: waveValue })) {
          const p = s.value;
          if (s.quality === 'bad') {
            skipped++;
            buffer.reset();
          } else if (Array.isArray(p) && p.length >= base.windowSize) windows.push(p);
          else windows.push(...buffer.push(p));
        }
        if (windows.length === 0) {
          shown.update(() =>
            skipped > 0 && buffer.buffered === 0
              ? status.warning(RED._('vibration.status.skipped', { count: skipped }))
              : status.busy(RED._('vibration.status.buffering', { n: buffer.buffered, of: buffer.size })),
          );
          return;
        }
        for (const w of windows) {
          const f = features(w, o);
          send({
            ...msg,
            payload: f,
            vibration: { samples: w.length, sampleRateHz: o.sampleRateHz, zone: f.zone },
          });
          shown.update(() =>
            (f.zone === 'A' || f.zone === 'B'
              ? status.ready
              : f.zone === 'C'
                ? status.warning
                : status.error)(`${f.velocityRmsMmS.toFixed(2)} mm/s ${f.zone}`),
          );
        }
      },
      shown,
    );

    onClose(
      this,
      () => shown.dispose(),
      () => buffer.reset(),
    );
  }
  RED.nodes.registerType('takt-vibration', VibrationNode);
};

export = init;
