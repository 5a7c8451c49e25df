/**
 * Every example flow under examples/ (found at run time), deployed into a real Node-RED runtime started the way
 * `npm start` starts it (flows/settings.js), with the simulator running at its example's speed (several examples
 * per runtime, each on its own tab). The test presses the inject buttons the example's comment tells a person to
 * press (and approves through the admin API where a person approves in the dashboard), runs every example for at
 * least 15 simulated minutes, then checks that the named debug nodes received messages, that no node reported
 * an error, and that no node ended with a red status (unless red is the example's point, e.g. SPC out of control).
 *
 * Conventions the examples follow (examples/README.md):
 * - Ports and server URLs are tab environment variables (`${OPCUA_PORT}`, `${OPCUA_URL}`, `${MQTT_URL}`,
 *   `${INFLUX_URL}`). The test gives every `*_PORT` a free port (rewriting the URLs that use it), so examples
 *   never fight over ports, and points `${INFLUX_URL}` at CI's VictoriaMetrics or InfluxDB 1.x.
 * - MQTT examples use the runtime's broker: CI's Mosquitto when MQTT_URL is set, else the embedded one.
 * - What to press and what to expect is in PLANS below, keyed by the file's path under examples/. A file
 *   with no entry (e.g. one added later) gets the default plan: press its inject buttons top to bottom and
 *   expect every debug node that is not fed by a Catch node to receive at least one message.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { canConnect, freePort, waitUntil } from '../helpers/net';
import { ROOT } from '../helpers/paths';
import { commsListener, getJson, type NodeSet, type Runtime, startTaktRuntime } from '../helpers/runtime';

const EXAMPLES = join(ROOT, 'examples');
/*
 * Bounds on waiting for a condition, sized for a loaded two-core machine (the full suite beside benches, load
 * average above 20): a passing run never waits them out, so they cost nothing when things are quick.
 */
/** One step's wait: a node turning green, an action waiting for approval, a debug node receiving. */
const STEP_TIMEOUT_MS = 120000;
/** Node-RED starting its flows: at start-up, and again after a deploy. */
const START_TIMEOUT_MS = 120000;
/** Every example runs at least this long (15 simulated minutes at 60x) before errors are counted. */
const MIN_RUN_MS = 15000;
/** How long an example may show a connecting (yellow ring) status before its buttons are pressed anyway. */
const SETTLE_MS = 15000;
const MAX_SIMS = 6;

interface Step {
  /** The name of an inject node to press. */
  press?: string;
  /**
   * The name of a takt-approve node: wait for an action to be waiting there, then approve it through the admin
   * API, as a person does in the dashboard's approvals inbox.
   */
  approve?: string;
  /** Nodes (by name) whose status must be green before the step acts (e.g. "trained" on takt-train). */
  green?: string[];
  /** Debug nodes (by name) that must receive a message (after `press`: a new one) before the next step. */
  until?: string[];
}

interface Plan {
  steps: Step[];
  /** Debug nodes (by name) that must have received at least one message by the end. */
  expect: string[];
  /** Nodes (by name, or by type when unnamed) whose red status is the example's point (SPC out of control, a refused bad input). */
  red?: string[];
}

/** What a person does with each example (its comment node says the same), and what they should see. */
const PLANS: Record<string, Plan> = {
  'anomaly/01 - Train and score a pump model.json': {
    steps: [
      { until: ['model card'] },
      { press: 'normal row', until: ['anomaly'] },
      { press: 'valve closing', until: ['anomaly'] },
    ],
    expect: ['model card', 'anomaly'],
    // The last press is the closing valve: an alarm on the scoring node is the example's point.
    red: ['pump health'],
  },
  'assistant/02 - Speak to the line.json': {
    steps: [{ press: 'say a command', until: ['heard', 'reply'] }],
    expect: ['heard', 'reply'],
  },
  'assistant/03 - Chat on the dashboard.json': {
    steps: [{ press: 'ask: OEE of the press', until: ['reply'] }],
    expect: ['reply'],
  },
  // The test runtime has no admin password: the open editor is a high finding, so the node is red on purpose.
  'audit/01 - Hardening audit of this box.json': {
    steps: [{ until: ['audit report', 'findings to fix'] }],
    expect: ['audit report', 'findings to fix'],
    red: ['hardening audit'],
  },
  'guard/01 - Watch the broker for attacks.json': {
    steps: [
      { press: 'recorded normal traffic', until: [] },
      { press: 'brute force', until: ['alerts', 'proposals'] },
    ],
    expect: ['alerts', 'proposals'],
    // the alert is the example's point
    red: ['guard on events'],
  },
  'learn/01 - Predict bore diameter.json': {
    steps: [
      { until: ['model card'] },
      { press: 'new part', until: ['prediction'] },
      { until: ['drift report'] },
      { press: 'status', until: ['lifecycle results and audit'] },
    ],
    expect: ['model card', 'prediction', 'drift report', 'lifecycle results and audit'],
  },
  'learn/02 - Tune feed and speed.json': {
    steps: [{ until: ['written setpoints'] }, { approve: 'tune approval', until: ['approved setpoints'] }],
    expect: ['written setpoints', 'approved setpoints'],
  },
  'approve/01 - Approve a setpoint change.json': {
    steps: [
      { press: 'propose offset' },
      { press: 'list waiting', until: ['waiting'] },
      { press: 'approve the first waiting (ana)', until: ['approved'] },
      { press: 'propose offset' },
      { press: 'reject the first waiting (ben)', until: ['rejected or expired'] },
    ],
    expect: ['waiting', 'approved', 'rejected or expired'],
  },
  'energy/01 - Load shifting under TOU prices.json': {
    steps: [
      { press: 'day-ahead problem', until: ['plan'] },
      { press: 'new prices', until: ['plan'] },
      { press: 'bad prices', until: ['errors'] },
    ],
    expect: ['plan', 'errors'],
    red: ['takt-energy'],
  },
  'energy/02 - Live demand limiter.json': {
    steps: [{ until: ['plant demand', 'for approval'] }],
    expect: ['plant demand', 'for approval'],
  },
  'flagship/01 - Prescriptive maintenance loop.json': {
    steps: [
      { green: ['train CNC1'], press: 'bearing fault CNC1' },
      { approve: 'maintenance approval', until: ['decisions'] },
    ],
    expect: ['decisions'],
    red: ['CNC1 health'],
  },
  'flagship/02 - Control chart widget.json': {
    steps: [{ press: 'tool wear on CNC1', until: ['alarms'] }],
    expect: ['alarms'],
    red: ['bore diameter', 'takt-ui-control-chart'],
  },
  'forecast/01 - Monthly demand forecast.json': {
    steps: [
      { press: 'forecast', until: ['forecast'] },
      { press: 'backtest', until: ['forecast'] },
      { press: 'bad input', until: ['errors'] },
    ],
    expect: ['forecast', 'errors'],
    red: ['takt-forecast'],
  },
  'forecast/02 - Inventory orders for approval.json': {
    steps: [
      { press: 'stock from ERP' },
      { press: 'daily demand history', until: ['orders for approval'] },
    ],
    expect: ['orders for approval'],
  },
  'influx/01 - Write samples and SPC results.json': {
    steps: [{ until: ['written'] }],
    expect: ['written'],
  },
  'influx/02 - Query history as CSV.json': {
    steps: [{ until: ['written'] }, { press: 'last hour', until: ['CSV chunk'] }],
    expect: ['written', 'CSV chunk'],
  },
  'fleet/01 - A singleton job on one box.json': {
    steps: [{ until: ['who holds it', 'runs on this box'] }],
    expect: ['who holds it', 'runs on this box'],
  },
  'mqtt/01 - Sparkplug B from the simulator.json': {
    steps: [{ until: ['sample', 'batch'] }],
    expect: ['sample', 'batch'],
  },
  // The whole loop takes minutes of plant time at the example's 60x (test/models runs it at full speed):
  // here it loads, records rows and answers a status request with no node error.
  'models/01 - Drift, retrain and approve.json': {
    steps: [{ press: 'status', until: ['lifecycle results and audit'] }],
    expect: ['lifecycle results and audit'],
  },
  'oee/01 - OEE per shift from the simulator.json': {
    steps: [{ until: ['live OEE', 'shift records'] }],
    expect: ['live OEE', 'shift records'],
  },
  'opcua/01 - Read and write the simulator over OPC UA.json': {
    steps: [
      { until: ['sample', 'batch'] },
      { press: 'read once', until: ['batch'] },
      { press: 'offset -0.005 mm', until: ['results'] },
      { press: 'inject tool wear', until: ['results'] },
    ],
    expect: ['sample', 'batch', 'results'],
  },
  "prep/01 - Align the simulator's tags into feature rows.json": {
    steps: [{ until: ['feature rows'] }],
    expect: ['feature rows'],
  },
  'prep/02 - Windows for vibration, SPC subgroups and training sets.json': {
    steps: [{ until: ['vibration frame', 'subgroup (to takt-spc)', 'training matrix'] }],
    expect: ['vibration frame', 'subgroup (to takt-spc)', 'training matrix'],
  },
  'prep/03 - Clean feature rows for the anomaly model.json': {
    steps: [{ until: ['model card', 'anomaly score'] }, { press: 'bearing fault CNC1', until: ['anomaly score'] }],
    expect: ['model card', 'anomaly score'],
    red: ['line health'],
  },
  'sample/01 - Plain values to samples.json': {
    steps: [
      { press: 'plain number', until: ['sample'] },
      { press: 'JSON object', until: ['sample'] },
      { press: 'batch', until: ['sample'] },
      { press: 'bad value', until: ['error'] },
    ],
    expect: ['sample', 'error'],
    red: ['takt-sample'],
  },
  'sample/02 - JSON over MQTT to samples.json': {
    steps: [
      { press: 'oven temperature (JSON)', until: ['sample'] },
      { press: 'oven door (plain number)', until: ['sample'] },
    ],
    expect: ['sample'],
  },
  'schedule/01 - Replan on breakdown and rush order.json': {
    steps: [
      { press: 'plan', until: ['plan KPIs and stability', 'dispatch lists'] },
      { press: 'P-100 op 0 finished', until: ['plan KPIs and stability'] },
      { press: 'breakdown Mill', until: ['plan KPIs and stability'] },
      { press: 'rush order', until: ['plan KPIs and stability'] },
      { press: 'Mill repaired', until: ['plan KPIs and stability'] },
      { press: 'cancel P-104', until: ['plan KPIs and stability'] },
      { press: 'bad event', until: ['errors'] },
    ],
    expect: ['plan KPIs and stability', 'dispatch lists', 'errors'],
    red: ['takt-schedule'],
  },
  'sim/01 - Plant simulator with fault injection.json': {
    steps: [
      { until: ['samples'] },
      { press: 'tool wear CNC1', until: ['ground truth'] },
      { press: 'breakdown Press1', until: ['ground truth'] },
      { press: 'clear all faults', until: ['ground truth'] },
    ],
    expect: ['samples', 'ground truth'],
  },
  "vision/01 - Learn and inspect the camera's labels.json": {
    steps: [
      { until: ['model card'] },
      { until: ['judged part'] },
      { press: 'surface defects on Packer1', until: ['judged part'] },
    ],
    expect: ['model card', 'judged part'],
    // Defective labels judged ng (and a good one now and then judged doubt) are the example's point.
    red: ['inspect label'],
  },
  'spc/01 - X-bar chart with alarms and capability.json': {
    steps: [{ until: ['alarms', 'adjustment proposals (approve before writing)'] }],
    expect: ['alarms', 'adjustment proposals (approve before writing)'],
    red: ['bore diameter'],
  },
  'spc/02 - Pattern recognition with a neural network.json': {
    steps: [{ until: ['recognised pattern', 'alarms'] }],
    expect: ['recognised pattern', 'alarms'],
    red: ['fill weight'],
  },
  'uns/01 - Publish the line to a unified namespace.json': {
    steps: [{ until: ['UNS topics'] }],
    expect: ['UNS topics'],
  },
  'uns/02 - OPC UA with SignAndEncrypt to a unified namespace.json': {
    steps: [{ until: ['samples from OPC UA', 'UNS topics'] }],
    expect: ['samples from OPC UA', 'UNS topics'],
  },
  'vibration/01 - Bearing features and ISO zone.json': {
    steps: [
      { press: 'healthy waveform', until: ['features'] },
      { press: 'bearing fault waveform', until: ['features'] },
    ],
    expect: ['features'],
  },
  'vibration/02 - Catch a bearing fault with a health trend.json': {
    steps: [
      { until: ['model card', 'health trend'] },
      { press: 'bearing fault CNC1', until: ['bearing alarm'] },
    ],
    expect: ['model card', 'health trend', 'bearing alarm'],
    red: ['CNC1 bearing health'],
  },
};

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  x?: number;
  y?: number;
  wires?: string[][];
  once?: boolean;
  repeat?: string;
  url?: string;
  api?: string;
  env?: { name: string; value: string; type: string }[];
  [key: string]: unknown;
}

interface Example {
  file: string;
  nodes: FlowNode[];
  plan: Plan;
  /** Environment variable names the flow reads from the process (`${NAME}` not declared on its tab). */
  processEnv: string[];
  /** Why it cannot run here (a missing server outside CI). */
  skip?: string;
}

interface DebugData {
  id: string;
  name?: string;
  msg?: unknown;
  level?: number;
}

interface Outcome {
  missing: string[];
  errors: string[];
  red: string[];
  stepFailure?: string;
  /** Warnings the example's nodes logged and their last statuses (shown when it fails). */
  warnings: string[];
  statuses: string[];
}

const isCi = () => process.env.CI === 'true' || process.env.CI === '1';

function listExamples(dir = EXAMPLES): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) return listExamples(full);
      return name.endsWith('.json') ? [relative(EXAMPLES, full)] : [];
    })
    .sort();
}

const byName = (nodes: FlowNode[], type: string, name: string) =>
  nodes.filter((n) => n.type === type && (n.name ?? '') === name);

/** The plan for a file without an entry: press every button top to bottom, expect every debug node. */
function defaultPlan(nodes: FlowNode[]): Plan {
  const fedByCatch = new Set(
    nodes.filter((n) => n.type === 'catch' || n.type === 'status').flatMap((n) => (n.wires ?? []).flat()),
  );
  const debugs = nodes.filter((n) => n.type === 'debug' && n.active !== false && !fedByCatch.has(n.id));
  const buttons = nodes
    .filter((n) => n.type === 'inject' && !n.once && !n.repeat)
    .sort((a, b) => (a.y ?? 0) - (b.y ?? 0) || (a.x ?? 0) - (b.x ?? 0));
  return {
    steps: [{}, ...buttons.map((b) => ({ press: b.name ?? '' }))],
    expect: debugs.map((d) => d.name ?? ''),
  };
}

/** Reads an example, gives its tab-declared ports free ports and points its Influx URL at the test server. */
async function prepare(file: string): Promise<Example> {
  const nodes = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as FlowNode[];
  let tab = nodes.find((n) => n.type === 'tab');
  if (!tab) {
    tab = { id: `tab-${file}`, type: 'tab', label: file };
    nodes.push(tab);
  }
  // As the editor's import does: flow nodes saved without a tab go on the current one (config nodes, which
  // have no position or wires, stay global).
  for (const n of nodes) if (n !== tab && n.z === undefined && (n.wires || n.x !== undefined)) n.z = tab.id;
  const env = (tab.env ??= []);
  for (const v of env.filter((e) => /_PORT$/.test(e.name))) {
    const port = String(await freePort());
    for (const other of env)
      if (other !== v && typeof other.value === 'string')
        other.value = other.value.replace(`:${v.value}/`, `:${port}/`);
    v.value = port;
    v.type = 'num';
  }
  const example: Example = {
    file,
    nodes,
    plan: PLANS[file] ?? defaultPlan(nodes),
    processEnv: [],
  };
  // Influx examples need a server: VictoriaMetrics for the v2 API, InfluxDB 1.x for v1 (.ci/run starts both);
  // not when every node using it is disabled (an optional part of the flow).
  const used = (id: string) => nodes.some((n) => n.server === id && n.d !== true);
  for (const server of nodes.filter((n) => n.type === 'takt-influx-server' && used(n.id))) {
    const envVar = server.api === 'v1' ? 'INFLUX_V1_URL' : 'INFLUX_V2_URL';
    const url = process.env[envVar];
    const u = url ? new URL(url) : undefined;
    if (!u || !(await canConnect(u.hostname, Number(u.port || 80), 2000))) {
      example.skip = `${envVar} ${url ? `(${url}) is not reachable` : 'is not set'}`;
      continue;
    }
    const ref = /^\$\{(\w+)\}$/.exec(server.url ?? '')?.[1];
    const declared = ref && env.find((e) => e.name === ref);
    if (declared) Object.assign(declared, { value: url, type: 'str' });
    else server.url = url;
  }
  const declared = new Set(env.map((e) => e.name));
  const refs = JSON.stringify(nodes).match(/"\$\{\w+\}"/g) ?? [];
  example.processEnv = [...new Set(refs.map((r) => r.slice(3, -2)))].filter((n) => !declared.has(n));
  return example;
}

/**
 * Examples that can share one runtime: no common node id, no common process-level port variable, and at most
 * MAX_SIMS simulators (a margin: one event loop serves every simulator of its runtime, and a stall there delays
 * every example in it).
 */
function batches(examples: Example[]): Example[][] {
  const out: { ids: Set<string>; ports: Set<string>; sims: number; items: Example[] }[] = [];
  for (const ex of examples) {
    const ports = ex.processEnv.filter((n) => /PORT/.test(n));
    const sims = ex.nodes.filter((n) => n.type === 'takt-sim').length;
    let b = out.find(
      (c) =>
        !ex.nodes.some((n) => c.ids.has(n.id)) &&
        !ports.some((p) => c.ports.has(p)) &&
        (c.sims + sims <= MAX_SIMS || c.items.length === 0),
    );
    if (!b) out.push((b = { ids: new Set(), ports: new Set(), sims: 0, items: [] }));
    ex.nodes.forEach((n) => b.ids.add(n.id));
    ports.forEach((p) => b.ports.add(p));
    b.sims += sims;
    b.items.push(ex);
  }
  return out.map((b) => b.items);
}

/**
 * The longest one batch can take when every wait runs to its bound: the runtime starting, the deploy starting,
 * the examples settling, the steps of its longest plan (each of its waits), the minimum run, and stopping. The
 * suite's hook allows the sum over the batches, so a slow stage fails with its own message ("timed out ...
 * waiting for ...") rather than mocha's hook timeout, which said nothing about which example was stuck.
 */
function batchBudgetMs(batch: Example[]): number {
  const waits = (ex: Example) =>
    ex.plan.steps.reduce((n, st) => n + (st.green?.length ?? 0) + (st.approve !== undefined ? 1 : 0) + 1, 0);
  const steps = Math.max(0, ...batch.map(waits));
  return 2 * START_TIMEOUT_MS + SETTLE_MS + steps * STEP_TIMEOUT_MS + MIN_RUN_MS + 30000;
}

/** Starts a runtime as `npm start` would, with no flows yet (examples are deployed into it). */
async function startEmpty(userDir: string): Promise<Runtime> {
  const flowFile = join(userDir, 'flows.json');
  writeFileSync(flowFile, '[]');
  return startTaktRuntime({
    userDir,
    flowFile,
    // CI's Mosquitto when .ci/run exported it; otherwise settings.js starts the embedded broker.
    env: { MQTT_URL: process.env.MQTT_URL ?? '' },
    startTimeoutMs: START_TIMEOUT_MS,
  });
}

/** The node types a runtime has (core, this pack's registered nodes, Dashboard 2), plus flow structure types. */
async function nodeTypes(rt: Runtime): Promise<Set<string>> {
  const sets = (await getJson<NodeSet[]>(`${rt.url}/nodes`)).body ?? [];
  return new Set(['tab', 'group', 'junction', ...sets.flatMap((s) => (s.enabled && !s.err ? s.types : []))]);
}

/** Deploys the examples (each on its own tab) and runs them all at once; resolves with what each one did. */
async function runBatch(rt: Runtime, examples: Example[]): Promise<Map<string, Outcome>> {
  // Listening before the deploy, so errors raised while the nodes start are seen too.
  const comms = commsListener(rt.url, '#');
  await comms.opened;
  const starts = () => rt.log().match(/Started flows/g)?.length ?? 0;
  const before = starts();
  const deployed = await fetch(`${rt.url}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(examples.flatMap((e) => e.nodes)),
  });
  if (!deployed.ok) throw new Error(`deploy answered ${deployed.status}: ${await deployed.text()}`);
  // The deploy answers before the nodes have started; the runtime logs when they have.
  await waitUntil(() => starts() > before, 'the examples to start', START_TIMEOUT_MS);
  const started = Date.now();
  // Messages per node id: a debug node counts when it writes to the sidebar or to its status.
  const seen = new Map<string, number>();
  const lastStatus = new Map<string, { fill?: string; shape?: string; text?: string }>();
  const errors: DebugData[] = [];
  const warnings: DebugData[] = [];
  let read = 0;
  const drain = () => {
    for (; read < comms.messages.length; read++) {
      const m = comms.messages[read];
      if (m.topic === 'debug') {
        const d = m.data as DebugData;
        if (d.level === 20) errors.push(d);
        else if (d.level === 30) warnings.push(d);
        else if (d.level === undefined) seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
      } else if (m.topic.startsWith('status/')) {
        const id = m.topic.slice('status/'.length);
        const st = m.data as { fill?: string; shape?: string; text?: string };
        lastStatus.set(id, st);
        // A status with no text is a node clearing its status (a debug node does at start), not news.
        if (st?.text) seen.set(`status:${id}`, (seen.get(`status:${id}`) ?? 0) + 1);
      }
    }
  };
  const count = (ids: string[]) => {
    drain();
    return ids.reduce((s, id) => s + (seen.get(id) ?? 0) + (seen.get(`status:${id}`) ?? 0), 0);
  };
  const debugIds = (ex: Example, name: string) => {
    const nodes = byName(ex.nodes, 'debug', name);
    if (!nodes.length) throw new Error(`no debug node named "${name}"`);
    if (nodes.some((n) => n.active === false)) throw new Error(`debug node "${name}" is switched off`);
    const ids = nodes.map((n) => n.id);
    return ids;
  };

  const approve = async (ex: Example, name: string) => {
    const [node] = byName(ex.nodes, 'takt-approve', name);
    if (!node) throw new Error(`no takt-approve node named "${name}"`);
    const api = `${rt.url}/takt-approve/${node.id}`;
    const [waiting] = await waitUntil(
      async () => {
        const list = (await (await fetch(`${api}/pending`)).json()) as { id: string }[];
        return list.length ? list : undefined;
      },
      `an action waiting at "${name}"`,
      STEP_TIMEOUT_MS,
      500,
    );
    const res = await fetch(`${api}/decide`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ approvalId: waiting.id, decision: 'approve', user: 'example test' }),
    });
    if (res.status !== 200) throw new Error(`approving at "${name}" answered ${res.status}: ${await res.text()}`);
  };

  const drive = async (ex: Example): Promise<string | undefined> => {
    try {
      // Let connections settle first (MQTT subscribers, OPC UA sessions), as a person waits for green.
      const connecting = () =>
        ex.nodes.some((n) => {
          const s = lastStatus.get(n.id);
          return s?.fill === 'yellow' && s.shape === 'ring';
        });
      await waitUntil(() => (drain(), !connecting()), 'connections', SETTLE_MS, 200).catch(() => undefined);
      for (const step of ex.plan.steps) {
        const watch = (step.until ?? []).map((name) => ({ name, ids: debugIds(ex, name) }));
        // After a button: a new message. Otherwise (deploy): any message so far (status-only debug nodes
        // update only when their text changes, so they may have spoken once, before this step).
        const acts = step.press !== undefined || step.approve !== undefined;
        const before = watch.map((w) => (acts ? count(w.ids) : 0));
        for (const name of step.green ?? []) {
          const ids = ex.nodes.filter((n) => n.name === name).map((n) => n.id);
          if (!ids.length) throw new Error(`no node named "${name}"`);
          await waitUntil(
            () => (drain(), ids.every((id) => lastStatus.get(id)?.fill === 'green')),
            `"${name}" to turn green`,
            STEP_TIMEOUT_MS,
            200,
          );
        }
        if (step.approve !== undefined) await approve(ex, step.approve);
        if (step.press !== undefined) {
          const [button] = byName(ex.nodes, 'inject', step.press);
          if (!button) throw new Error(`no inject node named "${step.press}"`);
          const res = await fetch(`${rt.url}/inject/${button.id}`, { method: 'POST' });
          if (res.status !== 200) throw new Error(`pressing "${step.press}" answered ${res.status}`);
        }
        await waitUntil(
          () => watch.every((w, i) => count(w.ids) > before[i]),
          `${watch.map((w) => `"${w.name}"`).join(', ')} after ${
            step.press ? `pressing "${step.press}"` : step.approve ? `approving at "${step.approve}"` : 'deploy'
          }`,
          STEP_TIMEOUT_MS,
          200,
        ).catch((err: Error) => {
          const got = watch.filter((w, i) => count(w.ids) > before[i]).map((w) => w.name);
          throw new Error(`${err.message} (got: ${got.join(', ') || 'none'})`);
        });
      }
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
  const failures = await Promise.all(examples.map(drive));
  const rest = MIN_RUN_MS - (Date.now() - started);
  if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  drain();
  comms.close();

  const outcomes = new Map<string, Outcome>();
  examples.forEach((ex, i) => {
    const ids = new Set(ex.nodes.map((n) => n.id));
    const nameOf = (id: string) => {
      const n = ex.nodes.find((x) => x.id === id);
      return `${n?.type} "${n?.name ?? ''}"`;
    };
    const redOk = new Set(ex.plan.red ?? []);
    outcomes.set(ex.file, {
      stepFailure: failures[i],
      missing: ex.plan.expect.filter((name) => count(debugIds(ex, name)) === 0),
      errors: [
        ...errors.filter((e) => ids.has(e.id)).map((e) => `${nameOf(e.id)}: ${String(e.msg)}`),
        ...logErrors(rt.log(), ex.nodes),
      ],
      warnings: warnings.filter((e) => ids.has(e.id)).map((e) => `${nameOf(e.id)}: ${String(e.msg)}`),
      statuses: [...lastStatus].filter(([id]) => ids.has(id)).map(([id, st]) => `${nameOf(id)}: ${st.text}`),
      red: [...lastStatus]
        .filter(([id, s]) => ids.has(id) && s.fill === 'red')
        .filter(([id]) => {
          const n = ex.nodes.find((x) => x.id === id);
          return !redOk.has(n?.name || n?.type || '');
        })
        .map(([id, s]) => `${nameOf(id)}: ${s.text}`),
    });
  });
  return outcomes;
}

/**
 * Errors in the runtime's log from the example's nodes, "[error] [type:name or id] text": the comms link opens
 * once the flows have started, so errors logged while they start reach only the log.
 */
function logErrors(log: string, nodes: FlowNode[]): string[] {
  const out: string[] = [];
  for (const m of log.matchAll(/\[error\] \[([\w-]+):([^\]]+)\] (.*)/g)) {
    const [, type, who, text] = m;
    if (nodes.some((n) => n.type === type && (n.id === who || n.name === who))) out.push(`${type} "${who}": ${text}`);
  }
  return out;
}

describe('example flows (examples/**/*.json in a runtime with the simulator)', function () {
  this.timeout(300000);
  // TAKT_EXAMPLES=<regular expression> runs only the examples whose path matches (when working on some).
  const only = new RegExp(process.env.TAKT_EXAMPLES ?? '');
  const files = listExamples().filter((f) => only.test(f));
  const outcomes = new Map<string, Outcome>();
  const skipped = new Map<string, string>();

  before(async function () {
    const examples = await Promise.all(files.map(prepare));
    for (const ex of examples.filter((e) => e.skip)) {
      if (isCi()) throw new Error(`CI=true and ${ex.file} cannot run: ${ex.skip} (.ci/run starts it)`);
      skipped.set(ex.file, ex.skip!);
    }
    let types: Set<string> | undefined;
    const runnable: Example[] = [];
    const groups = batches(examples.filter((e) => !e.skip));
    this.timeout(groups.reduce((ms, g) => ms + batchBudgetMs(g), 60000));
    for (const group of groups) {
      const userDir = mkdtempSync(join(tmpdir(), 'takt-examples-'));
      let rt: Runtime | undefined;
      try {
        rt = await startEmpty(userDir);
        if (!types) {
          // An example using a node type the pack does not register would stop the whole runtime waiting for
          // it: report it as that example's failure instead.
          types = await nodeTypes(rt);
          for (const ex of examples.filter((e) => !e.skip)) {
            const missing = [...new Set(ex.nodes.map((n) => n.type))].filter(
              (t) => !types!.has(t) && !t.startsWith('subflow:'),
            );
            if (!missing.length) runnable.push(ex);
            else
              outcomes.set(ex.file, {
                stepFailure: `uses node types this runtime does not have: ${missing.join(', ')} (package.json "node-red".nodes)`,
                missing: [],
                errors: [],
                red: [],
                warnings: [],
                statuses: [],
              });
          }
        }
        const run = group.filter((e) => runnable.includes(e));
        if (run.length) for (const [file, o] of await runBatch(rt, run)) outcomes.set(file, o);
      } finally {
        await rt?.stop();
        rmSync(userDir, { recursive: true, force: true });
      }
    }
  });

  it('finds the examples, one per use case of the README', function () {
    if (process.env.TAKT_EXAMPLES) this.skip();
    assert.ok(files.length >= 20, `${files.length} example files`);
    for (const file of Object.keys(PLANS)) assert.ok(files.includes(file), `${file} exists`);
  });

  for (const file of files) {
    it(file, function () {
      const why = skipped.get(file);
      if (why) {
        console.warn(`      skipped: ${why}`);
        this.skip();
      }
      const nodes = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as FlowNode[];
      assert.ok(
        nodes.some((n) => n.type === 'comment' && String(n.info ?? '').length > 0),
        'a comment node says what to look at',
      );
      const o = outcomes.get(file);
      assert.ok(o, 'ran');
      const warned =
        (o.errors.length ? `\nerrors:\n  ${[...new Set(o.errors)].join('\n  ')}` : '') +
        (o.warnings.length ? `\nwarnings:\n  ${[...new Set(o.warnings)].join('\n  ')}` : '') +
        `\nlast statuses:\n  ${o.statuses.join('\n  ')}`;
      assert.equal(o.stepFailure, undefined, `${o.stepFailure}${warned}`);
      assert.deepEqual(o.missing, [], `debug nodes that got nothing: ${o.missing.join(', ')}`);
      assert.deepEqual(o.errors, [], 'node errors');
      assert.deepEqual(o.red, [], 'nodes ending with a red status');
    });
  }
});
