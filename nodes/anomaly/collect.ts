/**
 * Collects training rows from a flow for takt-train: records keyed by feature name (the first record fixes the
 * names when none are configured: its numeric fields, in order), rows of the prep nodes (their `features`), or
 * arrays in feature order. No Node-RED import.
 */
import { TaktError } from '../core/errors';
import { rowFeatures } from '../core/sample';

export class RowCollector {
  features: string[];
  private data: number[] = [];
  private count = 0;

  constructor(features: string[] = []) {
    this.features = [...features];
  }

  get rows(): number {
    return this.count;
  }

  push(payload: unknown): void {
    const rows =
      Array.isArray(payload) && payload.length > 0 && typeof payload[0] === 'object' ? payload : [payload];
    for (const r of rows) this.pushRow(r);
  }

  private pushRow(r: unknown): void {
    if (Array.isArray(r)) {
      if (this.features.length === 0) this.features = r.map((_, i) => `f${i}`);
      if (r.length !== this.features.length)
        throw new TaktError(
          'anomaly.featureCount',
          `payload: ${r.length} values, expected ${this.features.length} (${this.features.join(', ')})`,
          'payload',
        );
      this.add(r.map((v, i) => [this.features[i], v]));
      return;
    }
    if (r === null || typeof r !== 'object')
      throw new TaktError(
        'anomaly.badPayload',
        'payload: expected a record of named features or an array of numbers',
        'payload',
      );
    const rec = rowFeatures(r as Record<string, unknown>);
    if (this.features.length === 0)
      this.features = Object.keys(rec).filter((k) => typeof rec[k] === 'number');
    this.add(this.features.map((f) => [f, rec[f]]));
  }

  private add(pairs: [string, unknown][]): void {
    const bad = pairs.filter(([, v]) => typeof v !== 'number' || !Number.isFinite(v)).map(([k]) => k);
    if (bad.length)
      throw new TaktError('anomaly.missing', `payload: missing or not a number: ${bad.join(', ')}`, bad[0]);
    for (const [, v] of pairs) this.data.push(v as number);
    this.count++;
  }

  /** The collected rows as a row-major matrix; clears the collector. */
  take(): { X: Float64Array; n: number; features: string[] } {
    const out = { X: Float64Array.from(this.data), n: this.count, features: [...this.features] };
    this.data = [];
    this.count = 0;
    return out;
  }

  reset(): void {
    this.data = [];
    this.count = 0;
  }
}
