#!/usr/bin/env node
/**
 * takt-audit: the hardening audit of a Takt box from a shell (README, "Hardening audit").
 *   npx takt-audit --settings flows/settings.js [--json] [--url http://127.0.0.1:1880] [--mqtt URL] ...
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auditBox, formatReport } from './audit';
import { type FlowNode, gatherFacts } from './audit-probe';

const HELP = `takt-audit: checks a Takt (Node-RED) box against IEC 62443-3-3

  --settings FILE   the runtime's settings.js (it is loaded as Node-RED loads it); default: none
  --user-dir DIR    the runtime's user directory (default: the settings' userDir)
  --flows FILE      the flow file (default: the settings' flowFile in the user directory)
  --url URL         the running runtime, for the admin API and dashboard requests
                    (default: from uiHost/uiPort); --no-http skips them
  --mqtt URL        another MQTT broker to probe (repeatable)
  --opcua URL       another OPC UA server to probe (repeatable)
  --key FILE        a key file outside the user directory to check (repeatable; TAKT_HTTPS_KEY is added)
  --timeout MS      per probe (default 3000)
  --json            print the report as JSON
  --help

Exit status: 0 when nothing is critical or high, 2 otherwise, 1 on a usage error.
Probes connect without credentials and disconnect; nothing on the box is changed.
Loading flows/settings.js of this repository with TAKT_AUDIT=1 (set here) starts no embedded broker.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      settings: { type: 'string' },
      'user-dir': { type: 'string' },
      flows: { type: 'string' },
      url: { type: 'string' },
      'no-http': { type: 'boolean' },
      mqtt: { type: 'string', multiple: true },
      opcua: { type: 'string', multiple: true },
      key: { type: 'string', multiple: true },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  process.env.TAKT_AUDIT = '1';
  // stdout carries the report only: what settings files and libraries print goes to stderr.
  console.log = (...args: unknown[]) => console.error(...args);
  let settings: Record<string, unknown> = {};
  if (values.settings) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    settings = { ...(require(resolve(values.settings)) as Record<string, unknown>) };
  }
  const userDir = values['user-dir'] ?? (typeof settings.userDir === 'string' ? settings.userDir : undefined);
  const flowFile =
    values.flows ??
    (typeof settings.flowFile === 'string'
      ? isAbsolute(settings.flowFile) || !userDir
        ? settings.flowFile
        : join(userDir, settings.flowFile)
      : undefined);
  let flows: FlowNode[] = [];
  if (flowFile) {
    try {
      flows = JSON.parse(readFileSync(flowFile, 'utf8')) as FlowNode[];
    } catch (err) {
      console.error(`takt-audit: cannot read the flows ${flowFile}: ${(err as Error).message}`);
    }
  }
  const timeoutMs = values.timeout ? Number(values.timeout) : 3000;
  if (!(timeoutMs > 0)) {
    console.error('takt-audit: --timeout must be a positive number of ms');
    return 1;
  }
  const keyFiles = [
    ...(values.key ?? []),
    ...(process.env.TAKT_HTTPS_KEY ? [process.env.TAKT_HTTPS_KEY] : []),
  ];
  const facts = await gatherFacts({
    settings,
    ...(userDir ? { userDir } : {}),
    flows,
    url: values['no-http'] ? false : (values.url ?? (values.settings ? undefined : false)),
    mqtt: values.mqtt ?? [],
    opcua: values.opcua ?? [],
    keyFiles,
    timeoutMs,
  });
  const report = auditBox(facts);
  process.stdout.write(`${values.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
  return report.pass ? 0 : 2;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`takt-audit: ${(err as Error).message}`);
    process.exit(1);
  },
);
