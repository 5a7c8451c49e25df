/**
 * The hardening audit of a Takt box: pure checks over what was gathered about it (the Node-RED settings
 * object, file modes, endpoint probes, the model registry; nodes/guard/audit-probe.ts gathers them). Every
 * finding names the IEC 62443-3-3 foundational requirement (FR1-FR7) and system requirement (SR) it
 * concerns, a severity and the fix. No I/O and no Node-RED here: the CLI (`takt-audit`), the takt-audit node
 * and its admin endpoint all call `auditBox`.
 */
import { isRecord } from '../core/message';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export type FoundationalRequirement = 'FR1' | 'FR2' | 'FR3' | 'FR4' | 'FR5' | 'FR6' | 'FR7';

/** The IEC 62443-3-3 requirements the audit refers to (FR, SR number and title). */
export const IEC_62443_3_3 = {
  'SR 1.1': { fr: 'FR1', title: 'Human user identification and authentication' },
  'SR 1.2': { fr: 'FR1', title: 'Software process and device identification and authentication' },
  'SR 1.5': { fr: 'FR1', title: 'Authenticator management' },
  'SR 1.7': { fr: 'FR1', title: 'Strength of password-based authentication' },
  'SR 1.8': { fr: 'FR1', title: 'Public key infrastructure certificates' },
  'SR 1.9': { fr: 'FR1', title: 'Strength of public key authentication' },
  'SR 1.13': { fr: 'FR1', title: 'Access via untrusted networks' },
  'SR 2.1': { fr: 'FR2', title: 'Authorization enforcement' },
  'SR 3.1': { fr: 'FR3', title: 'Communication integrity' },
  'SR 3.4': { fr: 'FR3', title: 'Software and information integrity' },
  'SR 4.1': { fr: 'FR4', title: 'Information confidentiality' },
  'SR 5.1': { fr: 'FR5', title: 'Network segmentation' },
  'SR 7.7': { fr: 'FR7', title: 'Least functionality' },
} as const satisfies Record<string, { fr: FoundationalRequirement; title: string }>;
export type SystemRequirement = keyof typeof IEC_62443_3_3;

export interface Finding {
  /** Stable id of the check, e.g. "admin.noAuth". */
  check: string;
  severity: Severity;
  /** The foundational requirement and system requirement concerned. */
  fr: FoundationalRequirement;
  sr: SystemRequirement;
  /** The SR's title in IEC 62443-3-3. */
  requirement: string;
  /** Further SRs the finding touches. */
  related?: SystemRequirement[];
  /** What is wrong, in one line. */
  title: string;
  /** What was seen (the setting, file, endpoint or model). */
  subject: string;
  /** How to fix it. */
  fix: string;
}

export interface AuditReport {
  tool: 'takt-audit';
  /** Epoch ms of the audit. */
  at: number;
  /** Findings, most severe first. */
  findings: Finding[];
  counts: Record<Severity, number>;
  /** No critical and no high finding. */
  pass: boolean;
  /** Checks that could not be run, and why (e.g. an endpoint that did not answer). */
  skipped: string[];
}

/** A file or folder the audit looked at: its role decides what its mode may be. */
export interface FileFact {
  path: string;
  /** userDir: the runtime's folder; secret: credentials, keys, the generated credential key. */
  role: 'userDir' | 'secret';
  /** The permission bits (st_mode & 0o777). */
  mode: number;
}

/** A request to an HTTP endpoint of the box without credentials. */
export interface HttpProbe {
  url: string;
  kind: 'admin' | 'dashboard';
  /** The status answered, or null when nothing answered. */
  status: number | null;
}

export type ProbeOutcome = 'accepted' | 'refused' | 'unreachable';

/** An MQTT broker the box uses, and what an anonymous connect got. */
export interface MqttProbe {
  url: string;
  /** Where the broker was named (flow config node, MQTT_URL, command line). */
  source: string;
  tls: boolean;
  anonymous: ProbeOutcome;
  /** The broker runs on this box (a loopback URL) and answered an anonymous connect on this address too. */
  beyondLoopback?: { address: string; anonymous: ProbeOutcome };
}

/** An OPC UA server's endpoints as GetEndpoints describes them. */
export interface OpcuaProbe {
  url: string;
  source: string;
  reachable: boolean;
  /** Security modes offered: None, Sign, SignAndEncrypt. */
  modes: string[];
  /** The server accepts anonymous user tokens. */
  anonymous: boolean;
  error?: string;
}

/** An OPC UA client connection configured in the flows (takt-opcua-endpoint). */
export interface OpcuaClientFact {
  name: string;
  url: string;
  securityMode: string;
  trustOnFirstUse: boolean;
}

/** A password from the settings that matched a default or weak one (found by the probe). */
export interface WeakPassword {
  where: 'adminAuth' | 'httpNodeAuth' | 'httpStaticAuth';
  user: string;
}

/** A registered model version whose file was hashed. */
export interface ModelFact {
  model: string;
  version: number;
  file: string;
  /** SHA-256 on the card. */
  expected: string;
  /** SHA-256 of the file, or null when it cannot be read. */
  actual: string | null;
}

export interface BoxFacts {
  /** The Node-RED settings object (settings.js, or RED.settings inside a runtime). */
  settings: Record<string, unknown>;
  files?: FileFact[];
  http?: HttpProbe[];
  mqtt?: MqttProbe[];
  opcua?: OpcuaProbe[];
  opcuaClients?: OpcuaClientFact[];
  weakPasswords?: WeakPassword[];
  models?: ModelFact[];
  /** Checks the probe could not run. */
  skipped?: string[];
}

type Obj = Record<string, unknown>;

/** Whether a host name or address is this machine's loopback. */
export function isLoopback(host: string | undefined): boolean {
  if (!host) return false;
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || h === '::ffff:127.0.0.1';
}

/** The host of a URL, or undefined. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

function finding(
  check: string,
  severity: Severity,
  sr: SystemRequirement,
  title: string,
  subject: string,
  fix: string,
  related?: SystemRequirement[],
): Finding {
  const req = IEC_62443_3_3[sr];
  return {
    check,
    severity,
    fr: req.fr,
    sr,
    requirement: req.title,
    ...(related?.length ? { related } : {}),
    title,
    subject,
    fix,
  };
}

/** How a password is stored in the settings. */
export function passwordKind(pass: unknown): { kind: 'bcrypt' | 'md5' | 'plain' | 'none'; cost?: number } {
  if (typeof pass !== 'string' || !pass) return { kind: 'none' };
  const m = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(pass);
  if (m) return { kind: 'bcrypt', cost: Number(m[1]) };
  if (/^[0-9a-f]{32}$/i.test(pass)) return { kind: 'md5' };
  return { kind: 'plain' };
}

/** The users and stored passwords of adminAuth, httpNodeAuth and httpStaticAuth. */
export function settingsPasswords(
  settings: Obj,
): { where: WeakPassword['where']; user: string; pass: unknown }[] {
  const out: { where: WeakPassword['where']; user: string; pass: unknown }[] = [];
  const admin = settings.adminAuth;
  if (isRecord(admin) && Array.isArray(admin.users))
    for (const u of admin.users)
      if (isRecord(u)) out.push({ where: 'adminAuth', user: String(u.username ?? ''), pass: u.password });
  for (const where of ['httpNodeAuth', 'httpStaticAuth'] as const) {
    const a = settings[where];
    if (isRecord(a)) out.push({ where, user: String(a.user ?? ''), pass: a.pass });
  }
  return out;
}

function settingsChecks(s: Obj, out: Finding[]): void {
  const host = typeof s.uiHost === 'string' && s.uiHost ? s.uiHost : undefined;
  const local = isLoopback(host);
  const where = host
    ? `uiHost ${host}, port ${String(s.uiPort ?? 1880)}`
    : `all interfaces (no uiHost), port ${String(s.uiPort ?? 1880)}`;
  const editor = s.httpAdminRoot !== false;
  const admin = s.adminAuth;

  if (editor && !admin)
    out.push(
      finding(
        'admin.noAuth',
        local ? 'high' : 'critical',
        'SR 1.1',
        'The editor and admin API need no password: anyone who reaches them can deploy code',
        `adminAuth is not set; listening on ${where}`,
        'Set adminAuth with bcrypt-hashed passwords (Takt: TAKT_ADMIN_PASSWORD from npm run hash-pw), or httpAdminRoot: false on a box that is not edited in place',
        ['SR 2.1'],
      ),
    );
  else if (editor && isRecord(admin) && isRecord(admin.default) && admin.default.permissions === '*')
    out.push(
      finding(
        'admin.anonymousWrite',
        local ? 'high' : 'critical',
        'SR 2.1',
        'adminAuth gives anonymous visitors full permissions',
        'adminAuth.default.permissions is "*"',
        'Remove adminAuth.default, or give it "read" at most',
        ['SR 1.1'],
      ),
    );

  if (!local && !s.https)
    out.push(
      finding(
        'http.plainBeyondLoopback',
        'high',
        'SR 4.1',
        'The runtime listens beyond loopback without HTTPS: passwords, tokens and data cross the network in clear',
        `https is not set; listening on ${where}`,
        'Set https with a key and certificate (Takt: TAKT_HTTPS_KEY and TAKT_HTTPS_CERT) and requireHttps: true, or listen on 127.0.0.1 behind a TLS proxy',
        ['SR 3.1', 'SR 1.13'],
      ),
    );
  else if (s.https && s.requireHttps !== true)
    out.push(
      finding(
        'http.noRequireHttps',
        'low',
        'SR 3.1',
        'HTTPS is on but plain HTTP requests are not redirected',
        'requireHttps is not true',
        'Set requireHttps: true',
      ),
    );

  if (s.credentialSecret === false)
    out.push(
      finding(
        'credentials.clear',
        'high',
        'SR 4.1',
        'Flow credentials (broker and OPC UA passwords, keys) are stored unencrypted',
        'credentialSecret is false',
        'Set credentialSecret to a long random value kept outside the userDir (Takt: TAKT_CREDENTIAL_SECRET, e.g. openssl rand -hex 32)',
        ['SR 1.5'],
      ),
    );
  else if (typeof s.credentialSecret !== 'string' || !s.credentialSecret)
    out.push(
      finding(
        'credentials.noSecret',
        'medium',
        'SR 4.1',
        'No credential secret: Node-RED generates one and keeps it in the userDir, beside the credentials it encrypts',
        'credentialSecret is not set (the key is in .config.runtime.json)',
        'Set credentialSecret from the environment (Takt: TAKT_CREDENTIAL_SECRET) and keep it out of the userDir and its backups',
        ['SR 1.5'],
      ),
    );

  if (s.httpNodeRoot !== false && !s.httpNodeAuth && !s.httpNodeMiddleware)
    out.push(
      finding(
        'http.noNodeAuth',
        local ? 'medium' : 'high',
        'SR 1.1',
        'HTTP endpoints of flows and the dashboard need no login',
        `httpNodeAuth is not set; listening on ${where}`,
        'Set httpNodeAuth (Takt: TAKT_HTTP_PASSWORD, or TAKT_ADMIN_PASSWORD covers it) or a login middleware, and a Dashboard 2 user plugin for per-person dashboard identities',
        ['SR 2.1'],
      ),
    );

  for (const p of settingsPasswords(s)) {
    const k = passwordKind(p.pass);
    const subject = `${p.where} user "${p.user}"`;
    if (k.kind === 'plain' || k.kind === 'md5')
      out.push(
        finding(
          'password.notHashed',
          'high',
          'SR 1.7',
          k.kind === 'md5'
            ? 'A password is stored as an unsalted MD5 hash, which is cracked in seconds'
            : 'A password is stored in clear in the settings',
          subject,
          'Store a bcrypt hash (npm run hash-pw) instead',
          ['SR 1.5'],
        ),
      );
    else if (k.kind === 'bcrypt' && (k.cost ?? 0) < 10)
      out.push(
        finding(
          'password.lowCost',
          'low',
          'SR 1.7',
          `The bcrypt cost ${k.cost} is below 10: guessing is cheap`,
          subject,
          'Hash again with cost 10 or more (npm run hash-pw)',
        ),
      );
  }

  if (s.functionExternalModules === true)
    out.push(
      finding(
        'runtime.externalModules',
        'low',
        'SR 7.7',
        'Function nodes may install and load any npm module',
        'functionExternalModules is true',
        'Set functionExternalModules: false unless a flow needs it',
      ),
    );
}

function fileChecks(files: FileFact[], out: Finding[]): void {
  for (const f of files) {
    const mode = `mode ${(f.mode & 0o777).toString(8).padStart(3, '0')}`;
    if (f.role === 'userDir' && f.mode & 0o007)
      out.push(
        finding(
          'files.userDirOpen',
          'medium',
          'SR 4.1',
          'The user directory is open to every user of the machine (flows, context, state, audit logs)',
          `${f.path} (${mode})`,
          `chmod 700 ${f.path} (owned by the service user)`,
          ['SR 2.1'],
        ),
      );
    if (f.role === 'secret' && f.mode & 0o044)
      out.push(
        finding(
          'files.secretReadable',
          f.mode & 0o004 ? 'high' : 'medium',
          'SR 1.5',
          `A credentials or key file is readable by ${f.mode & 0o004 ? 'every user of the machine' : 'its group'}`,
          `${f.path} (${mode})`,
          `chmod 600 ${f.path}`,
          ['SR 4.1'],
        ),
      );
  }
}

function httpChecks(probes: HttpProbe[], out: Finding[]): void {
  for (const p of probes) {
    if (p.status === null || p.status < 200 || p.status >= 300) continue;
    const local = isLoopback(hostOf(p.url));
    out.push(
      p.kind === 'admin'
        ? finding(
            'http.adminOpen',
            local ? 'high' : 'critical',
            'SR 1.1',
            'The running admin API answered without credentials',
            `GET ${p.url} -> ${p.status}`,
            'Set adminAuth (TAKT_ADMIN_PASSWORD) and restart',
            ['SR 2.1'],
          )
        : finding(
            'http.dashboardOpen',
            local ? 'medium' : 'high',
            'SR 1.1',
            'The running dashboard answered without a login',
            `GET ${p.url} -> ${p.status}`,
            'Set httpNodeAuth (TAKT_HTTP_PASSWORD or TAKT_ADMIN_PASSWORD) and restart',
            ['SR 2.1'],
          ),
    );
  }
}

function mqttChecks(probes: MqttProbe[], out: Finding[]): void {
  for (const p of probes) {
    const local = isLoopback(hostOf(p.url));
    const subject = `${p.url} (${p.source})`;
    if (!p.tls && !local)
      out.push(
        finding(
          'mqtt.noTls',
          'high',
          'SR 4.1',
          'MQTT to another machine without TLS: credentials and plant data cross the network in clear',
          subject,
          'Use mqtts:// (port 8883) with the broker certificate checked (rejectUnauthorized on)',
          ['SR 3.1'],
        ),
      );
    if (p.anonymous === 'accepted')
      out.push(
        finding(
          'mqtt.anonymous',
          local ? 'medium' : 'high',
          'SR 1.2',
          'The MQTT broker accepts clients without authentication: any process can publish to the plant topics',
          subject,
          'Turn anonymous access off (mosquitto: allow_anonymous false with a password_file; aedes: an authenticate hook) and give each client its own user and ACL',
          ['SR 2.1'],
        ),
      );
    if (p.beyondLoopback?.anonymous === 'accepted')
      out.push(
        finding(
          'mqtt.anonymousBeyondLoopback',
          'high',
          'SR 5.1',
          'An anonymous broker on this box also listens beyond loopback: the plant network can reach it without credentials',
          `${p.url} also answers on ${p.beyondLoopback.address}`,
          "Bind the broker to 127.0.0.1 (the demo's embedded broker does), or require authentication and TLS on its network listener",
          ['SR 1.2'],
        ),
      );
  }
}

function opcuaChecks(probes: OpcuaProbe[], clients: OpcuaClientFact[], out: Finding[]): void {
  for (const p of probes) {
    if (!p.reachable) continue;
    const local = isLoopback(hostOf(p.url));
    if (p.modes.includes('None'))
      out.push(
        finding(
          'opcua.securityNone',
          local ? 'medium' : 'high',
          'SR 3.1',
          'The OPC UA server offers an endpoint with security mode None: messages are neither signed nor encrypted',
          `${p.url} (${p.source}) offers ${p.modes.join(', ')}`,
          'Offer only Sign or SignAndEncrypt endpoints (Basic256Sha256 or newer) and trust client certificates explicitly',
          ['SR 4.1'],
        ),
      );
    if (p.anonymous)
      out.push(
        finding(
          'opcua.anonymous',
          local ? 'low' : 'medium',
          'SR 1.2',
          'The OPC UA server accepts anonymous sessions',
          `${p.url} (${p.source})`,
          'Require user names or X.509 user certificates (takt-sim: allowAnonymous off, with a user)',
          ['SR 1.1'],
        ),
      );
  }
  for (const c of clients) {
    const local = isLoopback(hostOf(c.url));
    if (c.securityMode === 'None' || !c.securityMode)
      out.push(
        finding(
          'opcua.clientNone',
          local ? 'low' : 'high',
          'SR 3.1',
          'An OPC UA connection uses security mode None',
          `${c.name} -> ${c.url}`,
          'Use SignAndEncrypt with Basic256Sha256 (or newer) in the takt-opcua-endpoint',
          ['SR 4.1'],
        ),
      );
    if (c.trustOnFirstUse)
      out.push(
        finding(
          'opcua.trustOnFirstUse',
          local ? 'low' : 'medium',
          'SR 1.9',
          'An OPC UA connection trusts the server certificate it sees first: a man in the middle at that moment is trusted for good',
          `${c.name} -> ${c.url}`,
          'Turn trust on first use off and put the server certificate in the PKI trust list (takt/opcua/pki/trusted)',
          ['SR 1.8'],
        ),
      );
  }
}

function passwordChecks(weak: WeakPassword[], s: Obj, out: Finding[]): void {
  const local = isLoopback(typeof s.uiHost === 'string' ? s.uiHost : undefined);
  for (const w of weak)
    out.push(
      finding(
        'password.weak',
        local ? 'high' : 'critical',
        'SR 1.7',
        'A default or weak password: it is on the list attackers try first',
        `${w.where} user "${w.user}"`,
        'Choose a long password that is not a default, the user name or a common word; hash it with npm run hash-pw',
        ['SR 1.5'],
      ),
    );
}

function modelChecks(models: ModelFact[], out: Finding[]): void {
  for (const m of models) {
    if (m.actual === m.expected) continue;
    out.push(
      finding(
        'models.hashMismatch',
        'high',
        'SR 3.4',
        m.actual === null
          ? 'A registered model file is missing or unreadable'
          : 'A model file does not match the hash in its registry card: it changed after it was registered',
        `${m.model} v${m.version}: ${m.file}${m.actual ? ` (SHA-256 ${m.actual.slice(0, 12)}…, card ${m.expected.slice(0, 12)}…)` : ''}`,
        'Restore the file from a trusted copy or register a new version; find out who changed it',
      ),
    );
  }
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** Runs every check over what was gathered about a box. */
export function auditBox(facts: BoxFacts, now = Date.now()): AuditReport {
  const out: Finding[] = [];
  settingsChecks(facts.settings, out);
  fileChecks(facts.files ?? [], out);
  httpChecks(facts.http ?? [], out);
  mqttChecks(facts.mqtt ?? [], out);
  opcuaChecks(facts.opcua ?? [], facts.opcuaClients ?? [], out);
  passwordChecks(facts.weakPasswords ?? [], facts.settings, out);
  modelChecks(facts.models ?? [], out);
  const findings = out
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f.severity) - rank(b.f.severity) || a.i - b.i)
    .map((x) => x.f);
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  return {
    tool: 'takt-audit',
    at: now,
    findings,
    counts,
    pass: counts.critical === 0 && counts.high === 0,
    skipped: facts.skipped ?? [],
  };
}

/** The report for people: one block per finding, most severe first. */
export function formatReport(r: AuditReport): string {
  const lines = [
    `takt-audit ${new Date(r.at).toISOString()}: ${r.pass ? 'PASS' : 'FAIL'} (${SEVERITIES.map((s) => `${r.counts[s]} ${s}`).join(', ')})`,
  ];
  for (const f of r.findings) {
    lines.push(
      '',
      `[${f.severity.toUpperCase()}] ${f.title}`,
      `  what: ${f.subject}`,
      `  IEC 62443-3-3: ${f.fr} ${f.sr} ${f.requirement}${f.related ? ` (also ${f.related.join(', ')})` : ''}`,
      `  fix:  ${f.fix}`,
    );
  }
  if (r.skipped.length) lines.push('', 'not checked:', ...r.skipped.map((s) => `  - ${s}`));
  return lines.join('\n');
}
