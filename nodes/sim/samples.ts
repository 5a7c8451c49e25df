/**
 * Turns what the simulator computed into Takt samples (../core/sample.ts): the tags that changed since
 * the last call, every finished part's measurement with its own timestamp, and each machine's vibration
 * waveform once per simulated second.
 */
import type { Sample } from '../core/sample';
import type { AdvanceResult, PlantSimulator, TagValue } from './engine';

export class SampleTracker {
  private readonly sim: PlantSimulator;
  private readonly last = new Map<string, TagValue>();
  private lastSecond = -1;
  private readonly waveTopics: { machine: string; topic: string }[];

  constructor(sim: PlantSimulator) {
    this.sim = sim;
    this.waveTopics = sim
      .tags()
      .filter((t) => t.type === 'DoubleArray')
      .map((t) => ({ machine: t.machine, topic: t.topic }));
  }

  /** Samples for one advance (pass its result so no part is lost between two calls). */
  collect(result?: AdvanceResult, withWaveforms = true): Sample[] {
    const out: Sample[] = [];
    const partTopics = new Set<string>();
    for (const p of result?.parts ?? []) {
      out.push({ topic: p.topic, value: p.value, ts: p.ts, quality: 'good' });
      partTopics.add(p.topic);
      this.last.set(p.topic, p.value);
    }
    for (const [topic, v] of this.sim.snapshot()) {
      if (partTopics.has(topic) || this.last.get(topic) === v.value) continue;
      this.last.set(topic, v.value);
      out.push({ topic, value: v.value as Sample['value'], ts: v.ts, quality: v.quality });
    }
    const second = Math.floor((this.sim.now - this.sim.startTime) / 1000);
    if (withWaveforms && second !== this.lastSecond) {
      this.lastSecond = second;
      for (const w of this.waveTopics)
        out.push({ topic: w.topic, value: this.sim.waveform(w.machine), ts: this.sim.now, quality: 'good' });
    }
    return out;
  }
}
