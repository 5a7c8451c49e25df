/**
 * takt-voice-in: speech to text, offline. A WAV buffer (or a file path) in msg.payload -> the words heard in
 * msg.payload (text for takt-ask), with msg.voice = { text, best, alternatives, ms }. pocketsphinx decodes
 * against a domain language model built from the assistant's voice language data and the plant's names (see
 * voice.ts), and with `secondPass` also with a grammar of the same sentence patterns; msg.topic 'plant' with a
 * plant in msg.payload rebuilds them.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { status } from '../core/status';
import { toPlant } from './plant';
import { DEFAULT_MODEL_DIR, Recognizer } from './voice';

interface VoiceInDef extends NodeDef {
  plant?: string;
  modelDir?: string;
  timeoutS?: string | number;
  secondPass?: boolean;
}

const init: NodeInitializer = (RED) => {
  function VoiceIn(this: Node, def: VoiceInDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const modelDir = cfg.string('modelDir', DEFAULT_MODEL_DIR);
      const timeoutMs = cfg.duration('timeoutS', { unit: 's', default: 20, minMs: 1 });
      const opts = { modelDir, timeoutMs, secondPass: cfg.boolean('secondPass', false) };
      return { opts, rec: new Recognizer(toPlant(def.plant ?? ''), opts) };
    });
    if (!set) return;
    const { opts } = set;
    let rec = set.rec;
    this.status(status.idle(`${rec.model.words.length} words`));

    onInput<NodeMessageInFlow>(this, async (msg, send) => {
      if (msg.topic === 'plant') {
        const next = new Recognizer(toPlant(msg.payload), opts);
        rec.dispose();
        rec = next;
        this.status(status.idle(`${rec.model.words.length} words`));
        return;
      }
      const audio = msg.payload;
      if (!Buffer.isBuffer(audio) && !(typeof audio === 'string' && audio.trim()))
        throw new TaktError(
          'voice.badAudio',
          'msg.payload must be a WAV buffer or the path of a WAV file',
          'payload',
        );
      this.status(status.busy('listening'));
      const t = await rec.transcribe(Buffer.isBuffer(audio) ? audio : audio.trim());
      if (!t.text) {
        this.status(status.warning('nothing recognised'));
        return;
      }
      send({ ...msg, payload: t.text, voice: t });
      this.status(status.ready(t.text));
    });
    onClose(this, () => rec.dispose());
  }
  RED.nodes.registerType('takt-voice-in', VoiceIn);
};

export = init;
