/**
 * takt-say: text to speech, offline. Text in msg.payload (or a takt-ask reply's msg.assistant.answer) -> a WAV
 * buffer in msg.payload from espeak-ng; with "play" set, it is also played on the speaker (aplay or sox's
 * play) before the message leaves.
 */
import type { Node, NodeDef, NodeInitializer } from 'node-red';
import { TaktError } from '../core/errors';
import { errorStatus, status } from '../core/status';
import { run, say } from './voice';

interface SayDef extends NodeDef {
  voice?: string;
  speed?: string | number;
  play?: string;
}

const PLAYERS: Record<string, { bin: string; args: string[]; packages: string }> = {
  aplay: { bin: 'aplay', args: ['-q', '-'], packages: 'alsa-utils' },
  play: { bin: 'play', args: ['-q', '-t', 'wav', '-'], packages: 'sox' },
};

const init: NodeInitializer = (RED) => {
  function Say(this: Node, def: SayDef) {
    RED.nodes.createNode(this, def);
    const voice = def.voice?.trim() || undefined;
    const speed = Number(def.speed) > 0 ? Number(def.speed) : undefined;
    const player = def.play && def.play !== 'none' ? PLAYERS[def.play] : undefined;
    if (def.play && def.play !== 'none' && !player) {
      const err = new TaktError(
        'voice.badPlayer',
        `play must be none, aplay or play, not "${def.play}"`,
        'play',
      );
      this.status(errorStatus(err));
      this.error(err.message);
      this.on('input', (_m, _s, done) => done(err));
      return;
    }
    this.status(status.idle(voice ?? 'default voice'));

    this.on('input', (msg, send, done) => {
      const go = async () => {
        const m = msg as typeof msg & { assistant?: { answer?: unknown } };
        const text =
          typeof m.payload === 'string'
            ? m.payload
            : typeof m.assistant?.answer === 'string'
              ? m.assistant.answer
              : undefined;
        if (text === undefined)
          throw new TaktError('voice.badText', 'msg.payload must be the text to say', 'payload');
        this.status(status.busy('speaking'));
        const wav = await say(text, { voice, speed });
        if (player)
          await run(player.bin, player.args, { input: wav, timeoutMs: 120000, packages: player.packages });
        send({ ...msg, payload: wav, text });
        this.status(status.ready(`${(wav.length / 1024).toFixed(0)} kB`));
      };
      go().then(
        () => done(),
        (err: unknown) => {
          this.status(errorStatus(err));
          done(err as Error);
        },
      );
    });
  }
  RED.nodes.registerType('takt-say', Say);
};

export = init;
