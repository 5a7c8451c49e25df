/**
 * takt-vision-train: collects images of good parts from the flow (or reads a folder), trains a vision
 * anomaly model in a worker thread and writes <userDir>/takt/models/<name>.onnx plus its JSON card. The
 * output carries the model path in msg.payload and msg.model (wire it to takt-vision to swap models) and
 * the card in msg.card. msg.action "train" trains now, "reset" drops the images collected (and starts
 * collecting again). After a model is trained the node either collects the next set (`after: 'collect'`; an
 * image that arrives while a model is being trained is refused with an error, never silently dropped) or
 * stops (`after: 'stop'`: later images are not used, and counted in the status, until "reset").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { modelSource } from '../models/source';
import { sniffFormat } from './image';
import { startVisionTraining } from './train-job';

interface TrainNodeDef extends NodeDef {
  modelName?: string;
  count?: string | number;
  folder?: string;
  size?: string | number;
  falseRejectRate?: string | number;
  timeLimit?: string | number;
  after?: 'collect' | 'stop';
  /** A takt-model config node: each trained model is registered there as a new version. */
  modelRef?: string;
}

type Msg = NodeMessageInFlow & { action?: unknown; model?: unknown; card?: unknown; version?: unknown };

/** The images of a folder (PNG, JPEG, BMP, TIFF by content), in name order. */
function readFolder(dir: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!/\.(png|jpe?g|bmp|tiff?)$/i.test(f)) continue;
    const b = new Uint8Array(readFileSync(join(dir, f)));
    if (sniffFormat(b)) out.push(b);
  }
  return out;
}

const init: NodeInitializer = (RED) => {
  function VisionTrainNode(this: Node, def: TrainNodeDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const cfg = setUp(this, () => {
      const c = configReader(def);
      const size = c.number('size', { default: 256, integer: true, min: 64, max: 1024 });
      if (size % 64 !== 0)
        throw new TaktError('config.badChoice', `size: ${size} is not a multiple of 64`, 'size');
      return {
        count: c.number('count', { default: 200, integer: true, min: 10, max: 5000 }),
        stopAfter: c.choice('after', ['collect', 'stop'], 'collect') === 'stop',
        source: def.modelRef ? modelSource((id) => RED.nodes.getNode(id), def.modelRef) : undefined,
        options: {
          size,
          falseRejectRate: c.number('falseRejectRate', {
            default: 0.01,
            min: 0,
            exclusiveMin: true,
            max: 0.49,
          }),
          timeLimitMs: 1000 * c.number('timeLimit', { default: 120, min: 5, max: 3600 }),
        },
      };
    });
    if (!cfg) return;
    const { count, options, stopAfter } = cfg;
    const name = def.modelName || `vision-${this.id.replace(/[^A-Za-z0-9]/g, '')}`;
    let images: Uint8Array[] = [];
    let job: ReturnType<typeof startVisionTraining> | undefined;
    /** With `after: 'stop'`: a model is trained and images are no longer collected; how many were not used. */
    let stopped = false;
    let unused = 0;
    const collecting = () => status.idle(`${images.length}/${count} images`);
    this.status(collecting());

    const train = (msg: Msg, send: (m: Msg) => void, done: (err?: Error) => void) => {
      let data = images;
      if (data.length === 0 && def.folder) {
        const dir = isAbsolute(def.folder) ? def.folder : join(userDir, def.folder);
        try {
          data = readFolder(dir);
        } catch (err) {
          throw new TaktError('vision.noFolder', `folder ${dir}: ${(err as Error).message}`, 'folder');
        }
      }
      images = [];
      shown.now(status.busy('training 0%'));
      job = startVisionTraining({ images: data, options, dir: join(userDir, 'takt', 'models'), name }, (f) =>
        shown.update(() => status.busy(`training ${Math.round(100 * f)}%`)),
      );
      job.promise
        .then(async (r) => {
          if (!cfg.source) return { r, version: undefined };
          // A new version in the registry (champion only when it is the first of its name).
          const { card } = await cfg.source.registry.register(
            {
              onnx: new Uint8Array(readFileSync(r.model)),
              domain: 'vision',
              threshold: r.card.threshold,
              kind: r.card.method,
              training: { rows: r.card.training.images },
            },
            { who: `takt-vision-train ${this.id}`, why: `trained on ${r.card.training.images} good images` },
          );
          return { r, version: card.version };
        })
        .then(
          ({ r, version }) => {
            job = undefined;
            stopped = stopAfter;
            shown.now(
              status.ready(
                `trained ${r.card.training.images}${version === undefined ? '' : `, v${version}`}`,
              ),
            );
            send({
              ...msg,
              payload: r.model,
              model: r.model,
              card: r.card,
              ...(version !== undefined ? { version } : {}),
            });
            done();
          },
          (err: unknown) => {
            job = undefined;
            done(err as Error); // onInput's done: red status too
          },
        );
    };

    const command = commandReader({ actions: ['train', 'reset'], code: 'vision.badAction' }, (t) =>
      this.warn(t),
    );
    onInput<Msg>(
      this,
      (msg, send, done) => {
        const action = command(msg);
        if (stopAfter && action === undefined && (stopped || job)) {
          // Done collecting: the image is not used, by configuration, and counted.
          unused++;
          shown.update(() => status.ready(`${job ? 'training' : 'trained'}, ${unused} unused`));
          return;
        }
        if (job)
          throw new TaktError(
            'vision.busy',
            'a model is being trained: this message was not used, send it again later',
            'payload',
          );
        if (action === 'reset') {
          images = [];
          stopped = false;
          unused = 0;
          shown.now(collecting());
          return;
        }
        if (action !== 'train') {
          const p = msg.payload;
          if (!(p instanceof Uint8Array) || sniffFormat(p) === null)
            throw new TaktError('vision.badImage', 'payload must be PNG, JPEG, BMP or TIFF bytes', 'payload');
          images.push(new Uint8Array(p));
          if (images.length < count) {
            shown.update(collecting);
            return;
          }
        }
        train(msg, send, done);
        return 'later';
      },
      shown,
    );
    onClose(
      this,
      () => job?.cancel(),
      () => shown.dispose(),
    );
  }
  RED.nodes.registerType('takt-vision-train', VisionTrainNode);
};

export = init;
