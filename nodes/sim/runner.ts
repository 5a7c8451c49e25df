/**
 * Runs a PlantSimulator in real time (times a factor) and feeds its servers: the OPC UA server, the
 * Sparkplug B edge node, and a JSON-lines log: the ground truth of every fault, and on stop the value
 * changes the OPC UA server wrote per tag. Shared by the takt-sim node and the `takt-sim` command.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { EventEmitter } from 'node:events';
import { errorMessage, TaktError } from '../core/errors';
import { shotPng, type ShotTruth } from './camera';
import {
  type AdvanceResult,
  type CameraShot,
  type FaultEvent,
  type FaultRecord,
  PlantSimulator,
  type SimOptions,
} from './engine';
import type { PlantModel } from './model';
import { SimOpcuaServer, type SimServerOptions } from './opcua-server';
import { SparkplugEdgeNode, type SparkplugOptions } from './sparkplug';

export interface RunnerOptions extends SimOptions {
  /** Simulated seconds per wall-clock second, 1..3600. */
  timeFactor?: number;
  /** Wall-clock period of a tick. */
  tickMs?: number;
  opcua?: SimServerOptions;
  sparkplug?: SparkplugOptions;
  /**
   * Append every fault start and end as a JSON line to this file, and on stop the OPC UA server's change
   * counts (`{"event":"changeCounts",...}`).
   */
  groundTruthFile?: string;
  /**
   * Render and publish the inspection cameras' images (one PNG per finished part on a machine with a camera:
   * OPC UA ByteString, MQTT, and the 'image' event). Off by default: drawing images costs CPU.
   */
  camera?: boolean;
}

/** One camera image with its ground truth. */
export interface CameraImage {
  /** Topic of the camera: <enterprise>/<site>/<area>/<line>/<machine>/Camera. */
  topic: string;
  png: Uint8Array;
  truth: ShotTruth;
}

/** Camera images waiting to be drawn beyond this are dropped (counted in `cameraDropped`, with a warning). */
export const CAMERA_BACKLOG = 32;

export interface RunnerEvents {
  tick: [AdvanceResult];
  /** A camera image of a finished part (only with the `camera` option). */
  image: [CameraImage];
  /** A fault started or ended (ground truth). */
  fault: [FaultEvent];
  /** A server problem that does not stop the simulation (e.g. the MQTT broker went away). */
  warning: [Error];
}

export class SimRunner extends EventEmitter<RunnerEvents> {
  readonly sim: PlantSimulator;
  readonly opcua: SimOpcuaServer | undefined;
  readonly sparkplug: SparkplugEdgeNode | undefined;
  readonly timeFactor: number;
  private readonly tickMs: number;
  private readonly logFile: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private owedMs = 0;
  private lastWall = 0;
  private lastSecond = -1;
  private readonly camera: boolean;
  private readonly cameraTopics = new Map<string, string>();
  private cameraChain: Promise<void> = Promise.resolve();
  private cameraWaiting = 0;
  /** Camera images not drawn because the drawing fell CAMERA_BACKLOG images behind the simulation. */
  cameraDropped = 0;

  constructor(model: PlantModel, opts: RunnerOptions = {}) {
    super();
    const tf = opts.timeFactor ?? 1;
    if (!(tf >= 1 && tf <= 3600))
      throw new TaktError('sim.badTimeFactor', `time factor must be 1..3600, got ${tf}`, 'timeFactor');
    this.timeFactor = tf;
    this.tickMs = opts.tickMs ?? 100;
    this.sim = new PlantSimulator(model, opts);
    this.logFile = opts.groundTruthFile;
    this.camera = opts.camera === true;
    for (const c of this.sim.cameras()) this.cameraTopics.set(c.machine, c.topic);
    if (opts.opcua) {
      this.opcua = new SimOpcuaServer(this.sim, { ...opts.opcua, camera: this.camera });
      this.opcua.on('fault', (f) => this.record('start', f));
      this.opcua.on('cleared', (list) => list.forEach((f) => this.record('end', f)));
    }
    if (opts.sparkplug) {
      this.sparkplug = new SparkplugEdgeNode(this.sim, opts.sparkplug);
      this.sparkplug.on('error', (err) => this.emit('warning', err));
      // A failed first attempt rejects start() (warned there); an outage later is warned here.
      this.sparkplug.on('disconnected', (err) => this.emit('warning', err));
    }
  }

  /**
   * Starts the clock, then the servers. When a server cannot start (e.g. its port is in use) the promise
   * rejects but the simulation keeps running without it: the caller decides whether to `stop()`.
   */
  async start(): Promise<void> {
    if (this.logFile) mkdirSync(dirname(this.logFile), { recursive: true });
    this.lastWall = performance.now();
    this.timer ??= setInterval(() => this.tick(), this.tickMs);
    try {
      await this.opcua?.start();
      this.opcua?.publishWaveforms();
    } catch (err) {
      await this.opcua?.stop();
      throw err;
    } finally {
      // Sparkplug: the broker may come later; the connection keeps trying (through its list of brokers),
      // births follow each connection.
      this.sparkplug?.start().catch((err: Error) => this.emit('warning', err));
    }
  }

  /** Advances by the wall time since the last tick times the time factor. */
  private tick(): void {
    const now = performance.now();
    this.owedMs += (now - this.lastWall) * this.timeFactor;
    this.lastWall = now;
    const steps = Math.floor(this.owedMs / this.sim.stepMs);
    if (steps <= 0) return;
    this.owedMs -= steps * this.sim.stepMs;
    this.advance(steps * this.sim.stepMs);
  }

  /** Advances the simulation now by `ms` and publishes (also used by tests and the node's manual mode). */
  advance(ms: number): AdvanceResult {
    const r = this.sim.advance(ms);
    for (const f of r.faults) this.record(f.event, f.fault);
    this.opcua?.publish();
    const second = Math.floor((this.sim.now - this.sim.startTime) / 1000);
    if (second !== this.lastSecond) {
      this.lastSecond = second;
      this.opcua?.publishWaveforms();
    }
    this.sparkplug?.publish(r);
    if (this.camera) for (const p of r.parts) if (p.shot) this.photograph(p.shot);
    this.emit('tick', r);
    return r;
  }

  /** Resolves when every camera image queued so far has been drawn and published. */
  cameraIdle(): Promise<void> {
    return this.cameraChain;
  }

  /** Draws a shot after the ones before it (images leave in part order) and publishes it everywhere. */
  private photograph(shot: CameraShot): void {
    if (this.cameraWaiting >= CAMERA_BACKLOG) {
      this.cameraDropped++;
      this.emit(
        'warning',
        new TaktError(
          'sim.cameraBehind',
          `camera on ${shot.machine}: image of part ${shot.part} not drawn, ${CAMERA_BACKLOG} images wait (${this.cameraDropped} dropped; lower the time factor)`,
        ),
      );
      return;
    }
    this.cameraWaiting++;
    const topic = this.cameraTopics.get(shot.machine)!;
    this.cameraChain = this.cameraChain
      .then(() => shotPng(shot))
      .then(({ png, truth }) => {
        this.opcua?.publishImage(shot.machine, png, truth);
        this.sparkplug?.publishImage(topic, png, truth);
        this.emit('image', { topic, png, truth });
      })
      .catch((err: unknown) => {
        this.emit('warning', new Error(`camera on ${shot.machine}: ${errorMessage(err)}`));
      })
      .finally(() => {
        this.cameraWaiting--;
      });
  }

  inject(
    machine: string,
    kind: string,
    severity: number,
    source: FaultRecord['source'] = 'message',
  ): FaultRecord {
    const f = this.sim.inject(machine, kind, severity, source);
    this.record('start', f);
    this.opcua?.publish();
    return f;
  }

  clear(machine?: string): FaultRecord[] {
    const ended = this.sim.clear(machine);
    for (const f of ended) this.record('end', f);
    this.opcua?.publish();
    return ended;
  }

  private record(event: 'start' | 'end', fault: FaultRecord): void {
    this.log({ event, ...fault });
    this.emit('fault', { event, fault });
  }

  private log(line: object): void {
    if (!this.logFile) return;
    try {
      appendFileSync(this.logFile, `${JSON.stringify(line)}\n`);
    } catch (err) {
      this.emit('warning', err as Error);
    }
  }

  async stop(): Promise<void> {
    const wasRunning = this.timer !== undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([this.opcua?.stop(), this.sparkplug?.stop()]);
    // The servers are down: these counts are final for this run.
    if (wasRunning && this.opcua) {
      this.log({
        event: 'changeCounts',
        at: new Date().toISOString(),
        simTime: this.sim.now,
        total: this.opcua.changes.total(),
        tags: this.opcua.changes.snapshot(),
      });
    }
  }
}
