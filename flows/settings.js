// Takt headless edge runtime: Node-RED settings for `npm start` and for edge boxes.
// Everything a site changes comes from the environment (see flows/README.md and the README's table):
//   PORT, TAKT_HOST, TAKT_USER_DIR, TAKT_FLOW_FILE, TAKT_ADMIN_USER, TAKT_ADMIN_PASSWORD,
//   TAKT_HTTP_USER, TAKT_HTTP_PASSWORD, TAKT_CREDENTIAL_SECRET, TAKT_HTTPS_KEY, TAKT_HTTPS_CERT,
//   TAKT_LOG_LEVEL, TAKT_DISABLE_EDITOR, MQTT_URL, TAKT_MQTT_PORT, TAKT_OPCUA_PORT, TAKT_SIM_TIME_FACTOR,
//   TAKT_SIM_SEED, TAKT_SIM_FAULTS_PER_DAY
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const env = process.env;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

function fail(message) {
  // Settings errors must stop start-up with a clear line, not a stack trace deep in Node-RED.
  console.error(`takt settings: ${message}`);
  process.exit(1);
}

/** A bcrypt hash from the environment, as Node-RED's adminAuth and httpNodeAuth expect. */
function bcryptHash(name) {
  const value = env[name];
  if (!value) return undefined;
  if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(value)) {
    fail(`${name} must be a bcrypt hash (make one with: npm run hash-pw), not a plain password`);
  }
  return value;
}

function readFile(name) {
  try {
    return fs.readFileSync(env[name]);
  } catch (err) {
    return fail(`${name}: cannot read ${env[name]} (${err.code || err.message})`);
  }
}

const port = env.PORT === undefined || env.PORT === '' ? 1880 : Number(env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`PORT must be a port number, got "${env.PORT}"`);

const logLevel = (env.TAKT_LOG_LEVEL || 'info').toLowerCase();
if (!LOG_LEVELS.includes(logLevel)) fail(`TAKT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

const adminUser = env.TAKT_ADMIN_USER || 'admin';
const adminHash = bcryptHash('TAKT_ADMIN_PASSWORD');
// HTTP endpoints of flows (http in, dashboards): their own user if set, else the admin user when set.
const httpHash = bcryptHash('TAKT_HTTP_PASSWORD') || adminHash;
const httpUser = env.TAKT_HTTP_PASSWORD ? env.TAKT_HTTP_USER || 'operator' : adminUser;

let https;
if (env.TAKT_HTTPS_KEY || env.TAKT_HTTPS_CERT) {
  if (!env.TAKT_HTTPS_KEY || !env.TAKT_HTTPS_CERT)
    fail('set both TAKT_HTTPS_KEY and TAKT_HTTPS_CERT, or neither');
  https = { key: readFile('TAKT_HTTPS_KEY'), cert: readFile('TAKT_HTTPS_CERT') };
}

// The plant demo's simulator: OPC UA port, speed, random seed and random faults per simulated day, used as
// ${TAKT_OPCUA_PORT}, ${TAKT_SIM_TIME_FACTOR}, ${TAKT_SIM_SEED} and ${TAKT_SIM_FAULTS_PER_DAY} in
// flows/plant-demo.json (Node-RED substitutes environment variables in node properties).
env.TAKT_OPCUA_PORT = env.TAKT_OPCUA_PORT || '4840';
env.TAKT_SIM_TIME_FACTOR = env.TAKT_SIM_TIME_FACTOR || '60';
env.TAKT_SIM_SEED = env.TAKT_SIM_SEED || '1';
env.TAKT_SIM_FAULTS_PER_DAY = env.TAKT_SIM_FAULTS_PER_DAY || '6';

// An embedded MQTT broker (aedes) on 127.0.0.1 unless MQTT_URL names a real one, so the demo needs no
// external service. Flows reach it as ${MQTT_URL}.
if (!env.MQTT_URL) {
  const mqttPort =
    env.TAKT_MQTT_PORT === undefined || env.TAKT_MQTT_PORT === '' ? 1883 : Number(env.TAKT_MQTT_PORT);
  if (!Number.isInteger(mqttPort) || mqttPort < 1 || mqttPort > 65535)
    fail('TAKT_MQTT_PORT must be a port number');
  env.MQTT_URL = `mqtt://127.0.0.1:${mqttPort}`;
  // takt-audit loads these settings to read them (TAKT_AUDIT=1): no broker then.
  if (!env.TAKT_AUDIT) startEmbeddedBroker(mqttPort);
}

function startEmbeddedBroker(mqttPort) {
  import('aedes')
    .then(async ({ Aedes }) => {
      const broker = await Aedes.createBroker();
      // takt-guard's "embedded broker" source watches it (the pack's own registry, plain JS: no build)
      require('../nodes/core/tap-registry.js').publishTapSource({
        name: 'embedded-mqtt',
        kind: 'aedes',
        target: broker,
      });
      const server = require('node:net').createServer(broker.handle);
      server.on('error', (err) => {
        const why =
          err.code === 'EADDRINUSE'
            ? 'the port is in use by another program (another broker, or another npm start)'
            : err.message;
        // Loud: the demo's flows now talk to whatever listens on that port, or to nothing.
        const bar = '!'.repeat(100);
        console.warn(
          `${bar}\ntakt: the embedded MQTT broker did NOT start on 127.0.0.1:${mqttPort}: ${why}.\n` +
            `takt: the flows' MQTT nodes connect to mqtt://127.0.0.1:${mqttPort} anyway. To fix: stop that program,\n` +
            `takt: or start with TAKT_MQTT_PORT=<free port> (another embedded broker port),\n` +
            `takt: or with MQTT_URL=mqtt://host:port (use that broker, no embedded one).\n${bar}`,
        );
        broker.close();
      });
      server.listen(mqttPort, '127.0.0.1', () =>
        console.log(`takt: embedded MQTT broker on mqtt://127.0.0.1:${mqttPort}`),
      );
      const stop = () => server.close() && broker.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((err) => console.warn(`takt: no embedded MQTT broker (${err.message}); set MQTT_URL to a broker`));
}

const noEditor = env.TAKT_DISABLE_EDITOR === '1' || env.TAKT_DISABLE_EDITOR === 'true';

const userDir = env.TAKT_USER_DIR || path.join(root, '.takt');
// The demo runs from a copy in the user directory (made on first start, replaced by npm run demo:reset), so a
// Deploy in the editor never writes over the repository's flows/plant-demo.json.
const flowFile = env.TAKT_FLOW_FILE || require('./demo-copy.js').demoCopy(userDir);

module.exports = {
  uiHost: env.TAKT_HOST || '127.0.0.1',
  uiPort: port,
  https,
  requireHttps: Boolean(https),

  userDir,
  flowFile,
  flowFilePretty: true,
  // Loads this repository's own nodes (package.json "node-red" section) without publishing them.
  nodesDir: [root],

  // Without TAKT_CREDENTIAL_SECRET Node-RED makes a key and keeps it in the userDir (.config.runtime.json).
  credentialSecret: env.TAKT_CREDENTIAL_SECRET || undefined,

  adminAuth: adminHash
    ? {
        type: 'credentials',
        users: [{ username: adminUser, password: adminHash, permissions: '*' }],
      }
    : undefined,
  httpNodeAuth: httpHash ? { user: httpUser, pass: httpHash } : undefined,
  httpStaticAuth: httpHash ? { user: httpUser, pass: httpHash } : undefined,
  disableEditor: noEditor,
  // The editor serves nodes' resources/ folders; without it the dashboard widgets' browser code is
  // served from here, at the same address.
  httpStatic: noEditor
    ? [
        {
          path: path.join(root, 'resources'),
          root: `/resources/${require(path.join(root, 'package.json')).name}/`,
        },
      ]
    : undefined,

  // Node state that must survive restarts goes to the file store (flushed every 30 s and on stop);
  // the memory store stays available for scratch values: flow.get('x', 'memory').
  contextStorage: {
    default: { module: 'localfilesystem' },
    memory: { module: 'memory' },
  },

  logging: { console: { level: logLevel, metrics: false, audit: false } },
  // Edge boxes are often offline: no update checks, no tours.
  telemetry: { enabled: false },
  diagnostics: { enabled: true, ui: false },
  editorTheme: {
    projects: { enabled: false },
    tours: false,
    palette: { categories: ['takt', 'common', 'function', 'network', 'sequence', 'parser', 'storage'] },
    page: { title: 'Takt' },
    header: { title: 'Takt' },
  },
  exportGlobalContextKeys: false,
  functionExternalModules: false,
};
