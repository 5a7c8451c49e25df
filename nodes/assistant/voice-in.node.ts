/**
 * takt-voice-in: speech to text, offline. A WAV buffer (or a file path) in msg.payload -> the words heard in
 * msg.payload (text for takt-ask), with msg.voice = { text, ms }. pocketsphinx decodes against a grammar
 * generated from the assistant's language data and the plant's names (see voice.ts); msg.topic 'plant' with a
 * plant in msg.payload rebuilds it.
 */
import type { Node, NodeDef, NodeInitializer } from 'node-red';
import { errorMessage, TaktError } from '../core/errors';
import { errorStatus, status } from '../core/status';
import { toPlant } from './plant';
import { DEFAULT_MODEL_DIR, Recognizer } from './voice';

interface VoiceInDef extends NodeDef {
  plant?: string;
  modelDir?: string;
  timeoutS?: string | number;
}

const init: NodeInitializer = (RED) => {
  function VoiceIn(this: Node, def: VoiceInDef) {
    RED.nodes.createNode(this, def);
    const modelDir = def.modelDir?.trim() || DEFAULT_MODEL_DIR;
    const timeoutMs = (Number(def.timeoutS) > 0 ? Number(def.timeoutS) : 20) * 1000;
    let rec: Recognizer;
    try {
      rec = new Recognizer(toPlant(def.plant ?? ''), { modelDir, timeoutMs });
    } catch (err) {
      this.status(errorStatus(err));
      this.error(errorMessage(err));
      this.on('input', (_m, _s, done) => done(err as Error));
      return;
    }
    this.status(status.idle(`${rec.grammar.words.length} words`));

    this.on('input', (msg, send, done) => {
      const run = async () => {
        if (msg.topic === 'plant') {
          const next = new Recognizer(toPlant(msg.payload), { modelDir, timeoutMs });
          rec.dispose();
          rec = next;
          this.status(status.idle(`${rec.grammar.words.length} words`));
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
        send({ ...msg, payload: t.text, voice: { text: t.text, ms: t.ms } });
        this.status(status.ready(t.text));
      };
      run().then(
        () => done(),
        (err: unknown) => {
          this.status(errorStatus(err));
          done(err as Error);
        },
      );
    });
    this.on('close', () => rec.dispose());
  }
  RED.nodes.registerType('takt-voice-in', VoiceIn);
};

export = init;
