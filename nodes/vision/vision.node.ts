/**
 * takt-vision: judges one part per image with a vision model (trained by the vision engine, an anomalib-style
 * export or a classifier: inspector.ts) and sends msg.vision = { score, threshold, verdict: 'ok' | 'ng' |
 * 'doubt', label and probabilities (classifiers), map, defects, heatmap, warnings, model, kind, dropped }. msg.payload is encoded image bytes (PNG, JPEG, BMP, TIFF) or a raw frame { width, height,
 * channels, data }. msg.model (a path) loads another model. Images wait in a bounded queue; one that finds
 * the queue full is refused with an error (caught by a catch node) and counted in the status and in
 * msg.vision.dropped of the next part judged.
 */
import { isAbsolute, join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { SerialJobs } from '../core/jobs';
import { errorStatus, status, throttledStatus } from '../core/status';
import { modelSource } from '../models/source';
import { Inspector, type LoadOptions } from './inspector';
import { verdict } from './model';
import { ImageDrift } from './stats';

interface VisionNodeDef extends NodeDef {
  model?: string;
  /** A takt-model config node: serve its champion (verified by hash), swap on promotion and rollback. */
  modelRef?: string;
  queue?: string | number;
  doubt?: string | number;
  heatmap?: boolean;
  /** Largest image accepted, in megapixels. */
  maxMegapixels?: string | number;
  /** Follow brightness, contrast and focus against the training images (default true). */
  drift?: boolean;
  /** Images in the drift window. */
  driftWindow?: string | number;
}

type Msg = NodeMessageInFlow & { model?: unknown; vision?: unknown; drift?: unknown };

const init: NodeInitializer = (RED) => {
  function VisionNode(this: Node, def: VisionNodeDef) {
    RED.nodes.createNode(this, def);
    const cfg = setUp(this, () => {
      const c = configReader(def);
      return {
        // One image at a time, at most *Queue* waiting behind it; one more is refused (the camera outran the
        // model) and counted where it is dropped.
        jobs: new SerialJobs(
          c.number('queue', { default: 4, integer: true, min: 0, max: 1000 }),
          (j) =>
            new TaktError(
              'vision.queueFull',
              `image dropped: ${j.maxWaiting} images already wait for inspection (${j.dropped} dropped so far)`,
              'payload',
            ),
        ),
        band: c.number('doubt', { default: 0.1, min: 0, max: 0.99 }),
        maxPixels: Math.round(1e6 * c.number('maxMegapixels', { default: 40, min: 0.01, max: 500 })),
        heatmap: c.boolean('heatmap', true),
        drift: c.boolean('drift', true),
        driftWindow: c.number('driftWindow', { default: 50, integer: true, min: 10, max: 10000 }),
        source: def.modelRef ? modelSource((id) => RED.nodes.getNode(id), def.modelRef) : undefined,
      };
    });
    if (!cfg) return;
    const { jobs, band, maxPixels } = cfg;
    const shown = throttledStatus((s) => this.status(s));
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const resolve = (p: string) => (isAbsolute(p) ? p : join(userDir, 'takt', 'models', p));
    let inspector: Inspector | undefined;
    /** Image drift of the model being served (its reference: the training images, or the first images). */
    let drift: ImageDrift | undefined;
    let drifting = false;
    let modelPath = def.model ? resolve(def.model) : '';
    /** The registry version served (with a takt-model node). */
    let modelVersion: number | undefined;
    /** The model being loaded: images that arrive meanwhile wait for it (in the queue). */
    let loading: Promise<void> | undefined;
    const load = (path: string, opts: LoadOptions = {}, version?: number): Promise<void> => {
      shown.now(status.connecting('loading model'));
      const p = Inspector.load(path, opts).then(async (next) => {
        const old = inspector;
        inspector = next;
        modelVersion = version;
        drift = cfg.drift ? new ImageDrift(next.imageReference, { window: cfg.driftWindow }) : undefined;
        drifting = false;
        modelPath = path;
        shown.now(status.ready(version === undefined ? 'model ready' : `model v${version}`));
        await old?.close();
      });
      const settled = p.then(
        () => undefined,
        () => undefined,
      );
      loading = settled;
      void settled.then(() => {
        if (loading === settled) loading = undefined;
      });
      return p;
    };
    let unfollow: (() => void) | undefined;
    if (cfg.source)
      unfollow = cfg.source.server.on((e) => {
        if (e.type === 'error') {
          this.error(`model not loaded: ${e.error.message}`);
          return void shown.now(errorStatus(e.error));
        }
        if (e.card.domain !== 'vision') {
          const err = new TaktError(
            'vision.notVision',
            `${e.card.name} v${e.version} is not a vision model (it takes features)`,
            'modelRef',
          );
          this.error(err.message);
          return void shown.now(errorStatus(err));
        }
        load(e.path, { sha256: e.card.sha256 }, e.version).catch((err: unknown) => {
          this.error(`model v${e.version} not loaded: ${(err as Error).message}`);
          shown.now(errorStatus(err));
        });
      });
    else if (modelPath)
      load(modelPath).catch((err: unknown) => {
        this.error(`model not loaded: ${(err as Error).message}`);
        shown.now(status.error('no model'));
      });
    else shown.now(status.idle('no model'));

    onInput<Msg>(
      this,
      (msg, send, done) => {
        if (typeof msg.model === 'string' && msg.model !== '') return load(resolve(msg.model));
        jobs.run(async () => {
          await loading;
          const insp = inspector;
          if (!insp)
            throw new TaktError(
              'vision.noModel',
              'no model loaded: set the model or send msg.model',
              'model',
            );
          const r = await insp.inspect(msg.payload as Uint8Array, { heatmap: cfg.heatmap, maxPixels });
          const v = verdict(r.score, r.threshold, band);
          const report = drift?.push(r.stats);
          if (report) {
            msg.drift = report;
            if (report.drift && !drifting) this.warn(`image drift: ${report.warnings.join('; ')}`);
            drifting = report.drift;
          }
          msg.vision = {
            score: r.score,
            threshold: r.threshold,
            verdict: v,
            ...(r.label !== undefined ? { label: r.label, probabilities: r.probabilities } : {}),
            map: r.map,
            defects: r.defects,
            image: r.image,
            heatmap: r.heatmap
              ? Buffer.from(r.heatmap.buffer, r.heatmap.byteOffset, r.heatmap.byteLength)
              : undefined,
            warnings: r.warnings,
            stats: r.stats,
            model: modelPath,
            ...(modelVersion !== undefined ? { version: modelVersion } : {}),
            kind: r.kind,
            dropped: jobs.dropped,
          };
          for (const w of r.warnings) this.warn(w);
          const text = `${v} ${r.score.toFixed(2)}${jobs.dropped ? ` drop ${jobs.dropped}` : ''}`;
          const moved = drifting ? (drift?.report?.moved ?? []) : [];
          shown.update(() =>
            moved.length
              ? status.warning(`drift ${moved[0]}`)
              : v === 'ng'
                ? status.error(text)
                : v === 'doubt'
                  ? status.warning(text)
                  : status.ready(text),
          );
          send(msg);
        }, done);
        return 'later';
      },
      shown,
    );

    onClose(
      this,
      () => unfollow?.(),
      () => shown.dispose(),
      // The image being judged finishes; those waiting are not judged any more.
      () => jobs.close(),
      async () => {
        const insp = inspector;
        inspector = undefined;
        await insp?.close();
      },
    );
  }
  RED.nodes.registerType('takt-vision', VisionNode);
};

export = init;
