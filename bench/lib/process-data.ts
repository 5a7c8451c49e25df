/**
 * Seeded synthetic process data for quality prediction (a stand-in until the simulator has a process
 * response): rows in time order from a machining/moulding-like process with 20 features — setpoints, ambient
 * conditions, material lot, tool wear that drifts and resets at tool changes, sensor noise channels — and a
 * quality characteristic with non-linear effects, interactions, a wear drift, lot offsets and noise.
 */
import { Rng } from '../../nodes/core/random';

export const PROCESS_FEATURES = [
  'temp',
  'pressure',
  'speed',
  'feed',
  'coolant',
  'ambient',
  'humidity',
  'wear',
  'lot',
  'hardness',
  'vibration',
  'spindleLoad',
  'moldTemp',
  'holdTime',
  'viscosity',
  'noise1',
  'noise2',
  'noise3',
  'noise4',
  'noise5',
];

export interface ProcessData {
  X: number[][];
  y: number[];
  features: string[];
}

/** n rows of 20 features and the quality characteristic (deviation from nominal, µm). */
export function processData(n: number, seed: number): ProcessData {
  const rng = new Rng(seed, 17);
  const lotOffset = Array.from({ length: 12 }, () => rng.normal() * 1.5);
  const lotHardness = Array.from({ length: 12 }, () => 200 + rng.normal() * 15);
  const X: number[][] = [];
  const y: number[] = [];
  let wear = 0;
  let lot = 0;
  let ambient = 22;
  for (let i = 0; i < n; i++) {
    wear += rng.exponential(1 / 2000);
    if (rng.next() < 1 / 1500) wear = 0; // tool change
    if (rng.next() < 1 / 4000) lot = rng.int(0, 11);
    ambient += 0.01 * rng.normal() + 0.001 * (22 - ambient);
    const temp = 210 + 8 * rng.normal();
    const pressure = 80 + 10 * rng.uniform(-1, 1);
    const speed = 1200 + 200 * rng.uniform(-1, 1);
    const feed = 0.2 + 0.05 * rng.uniform(-1, 1);
    const coolant = 18 + 2 * rng.normal() + 0.3 * (ambient - 22);
    const humidity = 45 + 10 * rng.uniform(-1, 1);
    const hardness = lotHardness[lot] + 3 * rng.normal();
    const vibration = 0.5 + 0.8 * wear + 0.0004 * (speed - 1200) + 0.1 * rng.normal();
    const spindleLoad = 30 + 40 * feed * (speed / 1200) + 0.05 * (hardness - 200) + 2 * rng.normal();
    const moldTemp = 60 + 0.3 * (temp - 210) + 2 * rng.normal();
    const holdTime = 5 + 1.5 * rng.uniform(-1, 1);
    const viscosity = 300 - 4 * (temp - 210) + 20 * rng.normal();
    const noise = Array.from({ length: 5 }, () => rng.normal());
    const t = (temp - 210) / 8;
    const p = (pressure - 80) / 10;
    const s = (speed - 1200) / 200;
    const f = (feed - 0.2) / 0.05;
    const q =
      2 * Math.tanh(1.5 * t) + // saturating temperature effect
      1.2 * p * s + // interaction
      (f > 0.3 ? 1.5 * (f - 0.3) ** 2 : 0) + // threshold effect of feed
      3 * wear * wear + // drift with tool wear
      0.8 * wear * s + // wear matters more at speed
      lotOffset[lot] +
      0.04 * (hardness - 200) +
      0.3 * Math.sin((ambient - 22) * 2) +
      (holdTime < 4 ? 1 : 0) * (moldTemp < 58 ? 1.5 : 0.3) +
      0.02 * (humidity - 45) * (coolant - 18) +
      0.5 * rng.normal(); // measurement + unexplained noise
    X.push([
      temp,
      pressure,
      speed,
      feed,
      coolant,
      ambient,
      humidity,
      wear,
      lot,
      hardness,
      vibration,
      spindleLoad,
      moldTemp,
      holdTime,
      viscosity,
      ...noise,
    ]);
    y.push(q);
  }
  return { X, y, features: [...PROCESS_FEATURES] };
}
