/**
 * The editor's text fields of the prep nodes that are more than one config value (the align node's
 * feature list). Samples and rows are read by the one message reader (core/message) and single config
 * fields by the adaptor helper (core/adaptor). No Node-RED import.
 */
import { configReader } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { AGGREGATIONS, type Aggregation, type FeatureSpec } from './aligner';

/**
 * The align node's feature list: one feature per line, `topic[, name[, aggregation[, maxAgeMs]]]`;
 * blank lines and lines starting with # are skipped.
 */
export function parseFeatureLines(text: string | undefined): FeatureSpec[] {
  const out: FeatureSpec[] = [];
  (text ?? '').split(/\r?\n/).forEach((line, i) => {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) return;
    const [topic, name, agg, age] = l.split(',').map((x) => x.trim());
    const spec: FeatureSpec = { topic };
    if (name) spec.name = name;
    if (agg) {
      const a = AGGREGATIONS.find((x) => x === agg);
      if (!a)
        throw new TaktError(
          'prep.badConfig',
          `features line ${i + 1}: "${agg}" is not an aggregation`,
          'features',
        );
      spec.agg = a as Aggregation;
    }
    if (age) {
      const field = `features line ${i + 1}`;
      spec.maxAgeMs = configReader({ [field]: age }, { code: 'prep.badConfig' }).optionalNumber(field);
    }
    out.push(spec);
  });
  return out;
}
