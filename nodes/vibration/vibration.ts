/**
 * takt-vibration: condition-monitoring features of a vibration waveform. A thin adaptor around
 * `features` (features.ts): a payload array is one waveform; single numbers (or short chunks) are buffered
 * into windows of the configured size. msg.payload becomes the flat feature record (ready for takt-anomaly);
 * msg.sampleRateHz and msg.rpm override the configuration for one message.
 */
import type { Node, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { errorStatus, status, throttledStatus } from '../core/status';
import { WaveformBuffer } from './buffer';
import { toFeatureOptions, type VibrationNodeDef } from './config';
import { features, type FeatureOptions } from './features';

type Msg = NodeMessageInFlow & { sampleRateHz?: unknown; rpm?: unknown; vibration?: unknown };

const init: NodeInitializer = (RED) => {
  function VibrationNode(this: Node, def: VibrationNodeDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    let base: FeatureOptions & { windowSize: number };
    let buffer: WaveformBuffer;
    try {
      base = toFeatureOptions(def);
      buffer = new WaveformBuffer(base.windowSize);
    } catch (err) {
      this.error((err as Error).message);
      this.status(errorStatus(err));
      this.on('input', (_msg, _send, done) => done(err as Error));
      return;
    }
    this.status(status.idle(RED._('vibration.status.waiting')));

    this.on('input', (msg: Msg, send, done) => {
      try {
        const o: FeatureOptions = { ...base };
        if (msg.sampleRateHz !== undefined) o.sampleRateHz = Number(msg.sampleRateHz);
        if (msg.rpm !== undefined) o.rpm = Number(msg.rpm);
        const p = msg.payload;
        let windows: ArrayLike<number>[];
        if (Array.isArray(p) && p.length >= base.windowSize) windows = [p as number[]];
        else if (typeof p === 'number' || Array.isArray(p)) windows = buffer.push(p as number | number[]);
        else
          throw new TaktError(
            'vibration.badPayload',
            'payload: expected a number or an array of numbers (a waveform)',
            'payload',
          );
        if (windows.length === 0) {
          shown.update(() =>
            status.busy(RED._('vibration.status.buffering', { n: buffer.buffered, of: buffer.size })),
          );
          done();
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
        done();
      } catch (err) {
        shown.now(errorStatus(err));
        done(err as Error);
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      shown.dispose();
      buffer.reset();
      done();
    });
  }
  RED.nodes.registerType('takt-vibration', VibrationNode);
};

export = init;
