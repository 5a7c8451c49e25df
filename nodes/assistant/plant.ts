/**
 * The plant an assistant node speaks about: JSON text (a node's config field), an object (a message with
 * topic "plant"), or the demo plant (demo-plant.json) when blank. No Node-RED import.
 */
import { TaktError } from '../core/errors';
import demoPlant from './demo-plant.json';
import type { Plant } from './types';

export function toPlant(value: unknown): Plant {
  let plant = value;
  if (value === undefined || value === null) return demoPlant as Plant;
  if (typeof value === 'string') {
    if (!value.trim()) return demoPlant as Plant;
    try {
      plant = JSON.parse(value);
    } catch {
      throw new TaktError(
        'assistant.badPlant',
        'plant must be JSON: { "machines": [{ "id": "CNC1", ... }], ... }',
        'plant',
      );
    }
  }
  const p = plant as Plant;
  if (!p || !Array.isArray(p.machines) || p.machines.some((m) => !m || typeof m.id !== 'string'))
    throw new TaktError(
      'assistant.badPlant',
      'plant needs machines: [{ id, name?, aliases?, parameters? }]',
      'plant',
    );
  return p;
}
