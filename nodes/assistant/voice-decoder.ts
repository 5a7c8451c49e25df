/**
 * A pocketsphinx decoder kept running: one `pocketsphinx_batch` process per search (language model or
 * grammar), started once with its model, dictionary and grammar, then fed one utterance at a time. The
 * control file is a named pipe (mkfifo) that we hold open, so the decoder reads the next utterance's name
 * when we write it and waits otherwise (Node's stdin pipes are sockets, which pocketsphinx cannot open as a
 * file). Loading the acoustic model and compiling a grammar (the sentence-pattern grammar's
 * lextree takes seconds) happen once per plant, not once per command.
 *
 * Per utterance pocketsphinx writes to its log (stderr, unbuffered) the best hypothesis as
 * "words (uttid score)", then the n-best file `<uttid>.hyp` ("words score" per line), then "uttid done ---".
 * The decoder waits for that last line. Utterances are decoded one after another; a decode that takes longer
 * than the timeout kills the process, which starts again for the next utterance.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TaktError } from '../core/errors';

export interface DecoderOptions {
  /** The decoder binary (pocketsphinx_batch). */
  bin: string;
  /** Search arguments (-lm/-jsgf, -dict, -hmm, beams). */
  args: string[];
  /** A directory of its own for the utterances' audio and n-best files. */
  dir: string;
  /** How many hypotheses to list (0: only the best). */
  nbest: number;
  timeoutMs: number;
  /**
   * Extra time for the first utterance of a new process, which waits for the model to load and the grammar to
   * compile (seconds; tens of seconds for a large grammar on a loaded machine). Default 120 s.
   */
  startupMs?: number;
  /** The Debian packages that ship the binary (named in the error when it is missing). */
  packages: string;
}

/** A hypothesis with the decoder's score (log acoustic + language score; higher is better). */
export interface Scored {
  text: string;
  score: number;
}
export interface Decoded {
  /** The best hypothesis ('' when nothing was heard). */
  best: Scored;
  /** The n-best hypotheses, best first, without repeats. */
  alternatives: Scored[];
  /** Wall time of this decode (waiting in the queue not counted). */
  ms: number;
}

type Child = ChildProcessByStdio<null, null, Readable>;
interface Pending {
  uttid: string;
  t0: number;
  best?: Scored;
  resolve: (d: Decoded) => void;
  reject: (e: Error) => void;
}

/** Every decoder process alive, killed when Node exits (a recognizer nobody disposed). */
const alive = new Set<Child>();
let exitHook = false;

export class Decoder {
  private child?: Child;
  /** Our end of the control pipe (open read-write, so neither side blocks on open and it never reaches EOF). */
  private ctl?: number;
  private pending?: Pending;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private lastError = '';
  private lineBuf = '';
  private disposed = false;
  /** Whether the current process has decoded an utterance (it has loaded its model). */
  private ready = false;
  /** How many decoder processes this decoder has started (one, unless a process died or timed out). */
  starts = 0;

  constructor(private readonly opts: DecoderOptions) {
    mkdirSync(opts.dir, { recursive: true });
  }

  /** Starts the process now (it loads the model and compiles the grammar while nothing waits). */
  warm(): void {
    if (!this.child && !this.disposed) this.start();
  }

  /** Decodes a 16 kHz mono 16-bit WAV with the plain 44-byte header; utterances queue one after another. */
  decode(wav: Buffer): Promise<Decoded> {
    const next = this.queue.then(() => this.one(wav));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Stops the process and removes the working files. */
  dispose(): void {
    this.disposed = true;
    this.stop();
    this.pending?.reject(new TaktError('voice.closed', 'the recognizer was closed'));
    this.pending = undefined;
    rmSync(this.opts.dir, { recursive: true, force: true });
  }

  private start(): Child {
    const o = this.opts;
    const fifo = join(o.dir, 'ctl');
    rmSync(fifo, { force: true });
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status !== 0)
      throw new TaktError('voice.failed', `mkfifo ${fifo} failed: ${String(made.stderr ?? made.error)}`);
    this.ctl = openSync(fifo, constants.O_RDWR);
    const args = ['-ctl', fifo, '-cepdir', o.dir, '-cepext', '.wav', '-adcin', 'yes', '-adchdr', '44'];
    if (o.nbest > 0) args.push('-nbest', String(o.nbest), '-nbestdir', o.dir);
    const child = spawn(o.bin, [...args, ...o.args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.ready = false;
    this.starts++;
    this.lineBuf = '';
    alive.add(child);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const c of alive) c.kill('SIGKILL');
      });
    }
    // an idle decoder does not keep Node running; a pending decode's timer does
    child.unref();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => this.onLog(d));
    child.on('error', (e: NodeJS.ErrnoException) =>
      this.fail(
        child,
        e.code === 'ENOENT'
          ? new TaktError(
              'voice.missingBinary',
              `${o.bin} not found: install the Debian package(s) ${o.packages}`,
            )
          : e,
      ),
    );
    child.on('close', (code) =>
      this.fail(
        child,
        new TaktError(
          'voice.failed',
          `${o.bin} exited with ${code}${this.lastError ? `: ${this.lastError}` : ''}`,
        ),
      ),
    );
    return child;
  }

  private stop(): void {
    const c = this.child;
    this.child = undefined;
    this.closeCtl();
    if (c) {
      alive.delete(c);
      c.kill('SIGKILL');
    }
  }

  private closeCtl(): void {
    if (this.ctl !== undefined) closeSync(this.ctl);
    this.ctl = undefined;
  }

  /** The process ended or failed: the waiting utterance fails, the next one starts a new process. */
  private fail(child: Child, e: Error): void {
    alive.delete(child);
    if (this.child !== child) return;
    this.child = undefined;
    this.closeCtl();
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  private onLog(chunk: string): void {
    this.lineBuf += chunk;
    let nl: number;
    while ((nl = this.lineBuf.indexOf('\n')) >= 0) {
      const line = this.lineBuf.slice(0, nl);
      this.lineBuf = this.lineBuf.slice(nl + 1);
      if (/^(ERROR|FATAL)/.test(line)) this.lastError = line.slice(0, 300);
      const p = this.pending;
      if (!p) continue;
      const hyp = new RegExp(`^(.*)\\(${p.uttid} (-?\\d+)\\)$`).exec(line);
      if (hyp) p.best = { text: hyp[1].trim(), score: Number(hyp[2]) };
      else if (line.startsWith(`${p.uttid} done `)) {
        this.pending = undefined;
        this.ready = true;
        p.resolve({
          best: p.best ?? { text: '', score: 0 },
          alternatives: this.readNbest(p.uttid),
          ms: Date.now() - p.t0,
        });
      }
    }
  }

  /** "words score" per line -> hypotheses without repeats (the first, best score kept). */
  private readNbest(uttid: string): Scored[] {
    const file = join(this.opts.dir, `${uttid}.hyp`);
    if (!existsSync(file)) return [];
    const seen = new Set<string>();
    const out: Scored[] = [];
    for (const l of readFileSync(file, 'utf8').split('\n')) {
      const m = /^(.*?)\s*(-?\d+)\s*$/.exec(l);
      const text = (m ? m[1] : l).trim();
      if (!text || seen.has(text)) continue;
      seen.add(text);
      out.push({ text, score: m ? Number(m[2]) : 0 });
    }
    return out;
  }

  private async one(wav: Buffer): Promise<Decoded> {
    if (this.disposed) throw new TaktError('voice.closed', 'the recognizer was closed');
    const uttid = `u${++this.seq}`;
    const audio = join(this.opts.dir, `${uttid}.wav`);
    writeFileSync(audio, wav);
    const child = this.child ?? this.start();
    const limit = this.opts.timeoutMs + (this.ready ? 0 : (this.opts.startupMs ?? 120_000));
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<Decoded>((resolve, reject) => {
        this.pending = { uttid, t0: Date.now(), resolve, reject };
        timer = setTimeout(() => {
          this.fail(child, new TaktError('voice.timeout', `${this.opts.bin} took longer than ${limit} ms`));
          child.kill('SIGKILL');
        }, limit);
        writeSync(this.ctl as number, `${uttid}\n`);
      });
    } finally {
      clearTimeout(timer);
      rmSync(audio, { force: true });
      rmSync(join(this.opts.dir, `${uttid}.hyp`), { force: true });
    }
  }
}
