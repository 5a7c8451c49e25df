/**
 * takt-vision: judges one part per image with a vision model (trained by the vision engine) and sends
 * msg.vision = { score, threshold, verdict: 'ok' | 'ng' | 'doubt', defects, heatmap, warnings, model }.
 * msg.payload is encoded image bytes (PNG, JPEG, BMP, TIFF) or a raw frame { width, height, channels,
 * data }. msg.model (a path) loads another model. Images wait in a bounded queue; one that finds the queue
 * full is refused with an error (caught by a catch node) and counted in the status.
 */
import { isAbsolute, join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError, errorMessage } from '../core/errors';
import { errorStatus, status, throttledStatus } from '../core/status';
import { Inspector, verdict } from './model';
import { BoundedQueue } from './queue';

interface VisionNodeDef extends NodeDef {
  model?: string;
  queue?: string | number;
  doubt?: string | number;
  heatmap?: boolean;
}

type Msg = NodeMessageInFlow & { model?: unknown; vision?: unknown };

function numberOr(v: unknown, dflt: number, field: string, ok: (n: number) => boolean): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || !ok(n))
    throw new TaktError('vision.badConfig', `${field}: ${String(v)} is not allowed`, field);
  return n;
}

const init: NodeInitializer = (RED) => {
  function VisionNode(this: Node, def: VisionNodeDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const resolve = (p: string) => (isAbsolute(p) ? p : join(userDir, 'takt', 'models', p));
    let queue: BoundedQueue;
    let band: number;
    try {
      queue = new BoundedQueue(
        numberOr(def.queue, 4, 'queue', (n) => Number.isInteger(n) && n >= 0 && n <= 1000),
      );
      band = numberOr(def.doubt, 0.1, 'doubt', (n) => n >= 0 && n < 1);
    } catch (err) {
      this.error(errorMessage(err));
      this.status(errorStatus(err));
      this.on('input', (_msg, _send, done) => done(err as Error));
      return;
    }
    let inspector: Inspector | undefined;
    let modelPath = def.model ? resolve(def.model) : '';
    const load = async (path: string) => {
      shown.now(status.connecting('loading model'));
      const next = await Inspector.load(path);
      const old = inspector;
      inspector = next;
      modelPath = path;
      shown.now(status.ready('model ready'));
      await old?.close();
    };
    if (modelPath)
      load(modelPath).catch((err: unknown) => {
        this.error(`model not loaded: ${errorMessage(err)}`);
        shown.now(errorStatus(err));
      });
    else shown.now(status.idle('no model'));

    this.on('input', (msg: Msg, send, done) => {
      if (typeof msg.model === 'string' && msg.model !== '') {
        load(resolve(msg.model)).then(
          () => done(),
          (err: unknown) => {
            shown.now(errorStatus(err));
            done(err as Error);
          },
        );
        return;
      }
      const accepted = queue.push(async () => {
        const insp = inspector;
        if (!insp) {
          shown.now(status.error('no model'));
          done(new TaktError('vision.noModel', 'no model loaded: set the model or send msg.model'));
          return;
        }
        try {
          const r = await insp.inspect(msg.payload as Uint8Array, { heatmap: def.heatmap !== false });
          const v = verdict(r.score, r.threshold, band);
          msg.vision = {
            score: r.score,
            threshold: r.threshold,
            verdict: v,
            defects: r.defects,
            heatmap: r.heatmap
              ? Buffer.from(r.heatmap.buffer, r.heatmap.byteOffset, r.heatmap.byteLength)
              : undefined,
            warnings: r.warnings,
            model: modelPath,
          };
          for (const w of r.warnings) this.warn(w);
          const text = `${v} ${r.score.toFixed(2)}${queue.dropped ? ` drop ${queue.dropped}` : ''}`;
          shown.update(() =>
            v === 'ng' ? status.error(text) : v === 'doubt' ? status.warning(text) : status.ready(text),
          );
          send(msg);
          done();
        } catch (err) {
          shown.now(errorStatus(err));
          done(err as Error);
        }
      });
      if (!accepted) {
        shown.now(status.error(`queue full, ${queue.dropped} dropped`));
        done(
          new TaktError(
            'vision.queueFull',
            `image dropped: ${queue.capacity} images already wait for inspection (${queue.dropped} dropped so far)`,
            'payload',
          ),
        );
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      shown.dispose();
      const insp = inspector;
      inspector = undefined;
      (insp ? insp.close() : Promise.resolve()).then(
        () => done(),
        () => done(),
      );
    });
  }
  RED.nodes.registerType('takt-vision', VisionNode);
};

export = init;
