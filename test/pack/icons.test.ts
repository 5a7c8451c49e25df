/**
 * Palette icons: every node type an editor file registers (config nodes have none) names an icon that
 * exists in icons/ (the build copies that folder next to every node), each node family has its own icon,
 * and no two families share one. A new node type must be given a family here.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../helpers/paths';

/** The node families of the palette. */
const FAMILY: Record<string, string> = {
  'takt-sample': 'readers',
  'takt-sim': 'readers',
  'takt-opcua-in': 'readers',
  'takt-sparkplug-in': 'readers',
  'takt-influx-query': 'readers',
  'takt-influx-out': 'writers',
  'takt-uns-out': 'writers',
  'takt-opcua-write': 'writers',
  'takt-align': 'prep',
  'takt-window': 'prep',
  'takt-clean': 'prep',
  'takt-spc': 'spc',
  'takt-vibration': 'maintenance',
  'takt-anomaly': 'maintenance',
  'takt-train': 'maintenance',
  'takt-drift': 'maintenance',
  'takt-model-ops': 'maintenance',
  'takt-schedule': 'schedule',
  'takt-energy': 'energy',
  'takt-demand-limit': 'energy',
  'takt-forecast': 'forecast',
  'takt-inventory': 'forecast',
  'takt-oee': 'oee',
  'takt-approve': 'approve',
  'takt-ui-gantt': 'dashboard',
  'takt-ui-control-chart': 'dashboard',
  'takt-ui-approvals': 'dashboard',
  'takt-ui-inspection': 'dashboard',
  'takt-ui-assistant': 'dashboard',
  'takt-ask': 'assistant',
  'takt-voice-in': 'assistant',
  'takt-say': 'assistant',
  'takt-fleet-lease': 'fleet',
  'takt-vision': 'vision',
  'takt-vision-train': 'vision',
  'takt-predict-train': 'learn',
  'takt-predict': 'learn',
  'takt-tune': 'learn',
  'takt-audit': 'audit',
  'takt-guard': 'guard',
};

function editorFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return name === 'locales' ? [] : editorFiles(full);
    return name.endsWith('.html') ? [full] : [];
  });
}

interface Registration {
  type: string;
  file: string;
  config: boolean;
  icon: string | undefined;
}

/** Each registerType call of the editor files, with its category and icon. */
function registrations(): Registration[] {
  return editorFiles(join(ROOT, 'nodes')).flatMap((file) => {
    const parts = readFileSync(file, 'utf8')
      .split(/RED\.nodes\.registerType\(\s*/)
      .slice(1);
    return parts.map((part) => {
      const type = /^['"]([^'"]+)['"]/.exec(part)?.[1] ?? '';
      return {
        type,
        file: relative(ROOT, file),
        config: /^\s*category:\s*['"]config['"]/m.test(part),
        icon: /^\s*icon:\s*['"]([^'"]+)['"]/m.exec(part)?.[1],
      };
    });
  });
}

describe('palette icons', () => {
  const regs = registrations();
  const nodes = regs.filter((r) => !r.config);

  it('finds the registered node types of every editor file', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require(join(ROOT, 'package.json')) as { 'node-red': { nodes: Record<string, string> } };
    const found = new Set(regs.map((r) => r.type));
    for (const type of Object.keys(pkg['node-red'].nodes))
      assert.ok(found.has(type), `${type} (package.json) has no registerType in an editor file`);
    assert.ok(nodes.length >= 20, `only ${nodes.length} node types found`);
  });

  it('every node names an icon in icons/, a 40x60 SVG', () => {
    for (const r of nodes) {
      assert.ok(r.icon, `${r.type} (${r.file}) names no icon`);
      const path = join(ROOT, 'icons', r.icon);
      assert.ok(existsSync(path), `${r.type} (${r.file}): icons/${r.icon} does not exist`);
      const svg = readFileSync(path, 'utf8');
      assert.match(svg, /^<svg [^>]*viewBox="0 0 40 60"/, `icons/${r.icon} is not a 40x60 SVG`);
    }
  });

  it('each family has one icon of its own, shared with no other family', () => {
    const byFamily = new Map<string, Set<string>>();
    for (const r of nodes) {
      const family = FAMILY[r.type];
      assert.ok(family, `${r.type} (${r.file}) has no family in this test: add it to FAMILY`);
      byFamily.set(family, (byFamily.get(family) ?? new Set()).add(r.icon ?? ''));
    }
    const owner = new Map<string, string>();
    for (const [family, icons] of byFamily) {
      assert.equal(icons.size, 1, `family ${family} uses several icons: ${[...icons].join(', ')}`);
      const [icon] = [...icons] as [string];
      assert.ok(!owner.has(icon), `families ${owner.get(icon)} and ${family} share ${icon}`);
      owner.set(icon, family);
    }
    assert.ok(byFamily.size >= 12, `only ${byFamily.size} families`);
  });
});
