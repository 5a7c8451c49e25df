/**
 * takt-vision-train: collects images of good parts from the flow (or reads a folder), trains a vision
 * anomaly model in a worker thread and writes <userDir>/takt/models/<name>.onnx plus its JSON card. The
 * output carries the model path in msg.payload and msg.model (wire it to takt-vision to swap models) and
 * the card in msg.card. msg.action "train" trains now, "reset" drops the images collected. An image that
 * arrives while a model is being trained is refused with an error, never silently dropped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { disable, onClose, onInput } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { sniffFormat } from './image';
import { startVisionTraining } from './train-job';

interface TrainNodeDef extends NodeDef {
  modelName?: string;
  count?: string | number;
  folder?: string;
  size?: string | number;
  falseRejectRate?: string | number;
  timeLimit?: string | number;
}

type Msg = NodeMessageInFlow & { action?: unknown; model?: unknown; card?: unknown };

function num(v: unknown, dflt: number, field: string, ok: (n: number) => boolean): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || !ok(n))
    throw new TaktError('vision.badConfig', `${field}: ${String(v)} is not allowed`, field);
  return n;
}

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
    let count: number;
    let options: { size: number; falseRejectRate: number; timeLimitMs: number };
    try {
      count = num(def.count, 200, 'count', (n) => Number.isInteger(n) && n >= 10 && n <= 5000);
      options = {
        size: num(def.size, 256, 'size', (n) => Number.isInteger(n) && n >= 64 && n <= 1024 && n % 64 === 0),
        falseRejectRate: num(def.falseRejectRate, 0.01, 'falseRejectRate', (n) => n > 0 && n < 0.5),
        timeLimitMs: 1000 * num(def.timeLimit, 120, 'timeLimit', (n) => n >= 5 && n <= 3600),
      };
    } catch (err) {
      return disable(this, err);
    }
    const name = def.modelName || `vision-${this.id.replace(/[^A-Za-z0-9]/g, '')}`;
    let images: Uint8Array[] = [];
    let job: ReturnType<typeof startVisionTraining> | undefined;
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
      job.promise.then(
        (r) => {
          job = undefined;
          shown.now(status.ready(`trained ${r.card.training.images}`));
          send({ ...msg, payload: r.model, model: r.model, card: r.card });
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
        if (job)
          throw new TaktError(
            'vision.busy',
            'a model is being trained: this message was not used, send it again later',
            'payload',
          );
        const action = command(msg);
        if (action === 'reset') {
          images = [];
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
