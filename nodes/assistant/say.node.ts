/**
 * takt-say: text to speech, offline. Text in msg.payload (or a takt-ask reply's msg.assistant.answer) -> a WAV
 * buffer in msg.payload from espeak-ng; with "play" set, it is also played on the speaker (aplay or sox's
 * play) before the message leaves.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { status } from '../core/status';
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
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const play = cfg.choice('play', ['none', 'aplay', 'play'], 'none');
      return {
        voice: cfg.string('voice', '') || undefined,
        speed: cfg.optionalNumber('speed', { min: 1 }),
        player: play === 'none' ? undefined : PLAYERS[play],
      };
    });
    if (!set) return;
    const { voice, speed, player } = set;
    this.status(status.idle(voice ?? 'default voice'));

    onInput<NodeMessageInFlow & { assistant?: { answer?: unknown } }>(this, async (m, send) => {
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
      send({ ...m, payload: wav, text });
      this.status(status.ready(`${(wav.length / 1024).toFixed(0)} kB`));
    });
  }
  RED.nodes.registerType('takt-say', Say);
};

export = init;
