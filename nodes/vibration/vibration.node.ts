/**
 * takt-vibration: condition-monitoring features of a vibration waveform. A thin adaptor around
 * `features` (features.ts): a payload array is one waveform; single numbers (or short chunks) are buffered
 * into windows of the configured size. msg.payload becomes the flat feature record (ready for takt-anomaly);
 * msg.sampleRateHz and msg.rpm override the configuration for one message. A message whose windows hold at
 * least *Worker from* samples is computed in the shared worker thread (offload.ts), so the runtime's event
 * loop stays free; messages then wait in arrival order, at most MAX_WAITING_JOBS (core/jobs.ts): one more is
 * refused with "busy" and counted (status, msg.vibration.dropped).
 */
import type { Node, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { SerialJobs } from '../core/jobs';
import { readSamples, type ValueReader } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { WaveformBuffer } from './buffer';
import { toFeatureOptions, type VibrationNodeDef } from './config';
import { features, type FeatureOptions, type VibrationFeatures } from './features';
import { acquireFeatureWorker, featuresInWorker, WORKER_MIN_SAMPLES } from './offload';

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
      const workerFrom = configReader(def, { code: 'vibration.badConfig' }).number('workerSamples', {
        min: 0,
        integer: true,
        default: WORKER_MIN_SAMPLES,
      });
      return { base, workerFrom, buffer: new WaveformBuffer(base.windowSize) };
    });
    if (!set) return;
    const { base, workerFrom, buffer } = set;
    const jobs = new SerialJobs();
    const kept = acquireFeatureWorker();
    const shown = throttledStatus((s) => this.status(s));
    let skipped = 0;
    this.status(status.idle(RED._('vibration.status.waiting')));

    onInput<Msg>(
      this,
      (msg, send, done) => {
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
        const emit = (fs: VibrationFeatures[]) =>
          fs.forEach((f, i) => {
            const dropped = jobs.dropped;
            send({
              ...msg,
              payload: f,
              vibration: { samples: windows[i].length, sampleRateHz: o.sampleRateHz, zone: f.zone, dropped },
            });
            shown.update(() =>
              (f.zone === 'A' || f.zone === 'B'
                ? status.ready
                : f.zone === 'C'
                  ? status.warning
                  : status.error)(
                `${f.velocityRmsMmS.toFixed(2)} mm/s ${f.zone}${dropped ? ` drop ${dropped}` : ''}`,
              ),
            );
          });
        let samples = 0;
        for (const w of windows) samples += w.length;
        const offload = samples >= workerFrom;
        // Small blocks are computed at once while nothing waits; otherwise in turn, so messages stay in order.
        if (!offload && jobs.idle) {
          emit(windows.map((w) => features(w, o)));
          return;
        }
        jobs.run(async () => {
          emit(
            offload ? await featuresInWorker(kept.worker, windows, o) : windows.map((w) => features(w, o)),
          );
        }, done);
        return 'later';
      },
      shown,
    );

    onClose(
      this,
      () => shown.dispose(),
      () => buffer.reset(),
      () => jobs.close(),
      () => kept.release(),
    );
  }
  RED.nodes.registerType('takt-vibration', VibrationNode);
};

export = init;
