/**
 * takt-influx-out: writes samples, explicit points and analytics results to InfluxDB through an
 * InfluxWriter (write-ahead log under the userDir, batching, gzip, retries). A message is done only once
 * its points are on disk, so anything accepted survives a crash. Status: points written per second,
 * waiting, dropped.
 */
import { join } from 'node:path';
import type { NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configNodeStatus, configReader, onClose, requireConfigNode, setUp } from '../core/adaptor';
import type { Coercion } from '../core/message';
import { errorStatus, status, throttledStatus } from '../core/status';
import { MessageEncoder } from './encoder';
import {
  defaultMapping,
  type MessageIn,
  parseLevels,
  parseTags,
  type QualityAs,
  type WriteWhat,
} from './mapping';
import { DROP_POLICIES, type DropPolicy } from './wal';
import type { InfluxOutNode, InfluxServerNode } from './server-types';
import { httpTarget } from './transport';
import { DEFAULT_RETRY, InfluxWriter } from './writer';

interface OutDef extends NodeDef {
  server: string;
  levels?: string;
  tags?: string;
  measurement?: string;
  field?: string;
  valueType?: Coercion;
  qualityAs?: QualityAs;
  write?: WriteWhat;
  analytics?: string;
  prefix?: string;
  batchSize?: string | number;
  flushInterval?: string | number;
  queueMB?: string | number;
  queueHours?: string | number;
  dropPolicy?: DropPolicy;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;

/** 1234 -> "1.2k", for status texts under 20 characters. */
const compact = (n: number) =>
  n < 1000 ? String(n) : n < 1e6 ? `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k` : `${(n / 1e6).toFixed(1)}M`;

const init: NodeInitializer = (RED) => {
  function InfluxOut(this: InfluxOutNode, def: OutDef) {
    RED.nodes.createNode(this, def);
    let failure = 'offline';
    const set = setUp(
      this,
      () => {
        const { node: server, options } = requireConfigNode(
          RED.nodes.getNode(def.server) as InfluxServerNode | null,
          (n) => (n.server ? { node: n, options: n.server } : undefined),
          { feature: 'influx', field: 'server', label: 'InfluxDB server' },
        );
        const cfg = configReader(def);
        const mapping = defaultMapping({
          levels: parseLevels(cfg.string('levels', 'enterprise/site/area/line/cell/measurement')),
          ...(def.measurement ? { measurement: def.measurement } : {}),
          field: cfg.string('field', 'value'),
          valueType: def.valueType === 'number' ? 'number' : 'auto',
          qualityAs: cfg.choice('qualityAs', ['none', 'tag', 'field'], 'none'),
          // e.g. "box=${BOX}": which edge box wrote the point.
          extraTags: parseTags(cfg.string('tags', '')),
        });
        const encoder = new MessageEncoder(
          mapping,
          server.backslashes,
          def.write ?? 'both',
          def.prefix ?? '',
        );
        const userDir = (RED.settings as { userDir?: string }).userDir;
        const batchSize = Math.round(cfg.number('batchSize', { default: 5000, min: 1 }));
        const policy = cfg.choice<DropPolicy>('dropPolicy', DROP_POLICIES, 'drop-oldest');
        const writer = new InfluxWriter({
          target: httpTarget(options),
          queue: {
            ...(userDir
              ? { dir: join(userDir, 'takt', 'influx-queue', this.id.replace(/[^\w.-]/g, '_')) }
              : {}),
            maxBytes: cfg.number('queueMB', { default: 512, min: 1 }) * 1024 * 1024,
            maxAgeMs: cfg.duration('queueHours', { unit: 'h', default: 168, minMs: 3600e3 }),
            policy,
          },
          batchSize,
          flushIntervalMs: Math.round(cfg.number('flushInterval', { default: 1000, min: 1 })),
          maxInFlight: 6,
          // Up to about 250,000 points wait in memory for a free request; later batches are read back from the log.
          maxPending: Math.max(4, Math.ceil(250000 / batchSize)),
          retry: DEFAULT_RETRY,
          onState: (s, err) => {
            if (err) failure = err.status ? `HTTP ${err.status}` : 'offline';
            if (err) this.warn(`${options.url}: ${err.message}; retrying, data is kept in the log`);
            else if (s === 'connected') this.log(`writing to ${options.url}`);
          },
          onDrop: (reason, points, detail) =>
            this.error(
              `${points} points dropped (${reason === 'full' ? 'log full' : reason === 'age' ? 'too old in the log' : `refused: ${detail}`})`,
            ),
        });
        return { writer, encoder };
      },
      { status: configNodeStatus },
    );
    if (!set) return;
    const { writer, encoder } = set;
    this.writer = writer;
    if (writer.stats().queued > 0)
      this.log(`${writer.stats().queued} points in the log from before, replaying`);
    const analytics = (def.analytics ?? 'spc,anomaly,oee')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const shown = throttledStatus((s) => this.status(s));
    let lastWritten = 0;
    let lastAt = Date.now();
    let lastError: unknown;
    const tick = setInterval(() => {
      const st = writer.stats();
      const now = Date.now();
      const rate = Math.round(((st.written - lastWritten) * 1000) / Math.max(1, now - lastAt));
      lastWritten = st.written;
      lastAt = now;
      const dropped = st.dropped.full + st.dropped.age + st.dropped.rejected;
      // Numbers and units only, the same in every language.
      const text = `${compact(rate)}/s q:${compact(st.queued + st.buffered)} d:${compact(dropped)}`;
      const logError = writer.log.lastError;
      if (logError) return shown.update(errorStatus(logError));
      if (lastError) return;
      if (st.state === 'backoff' || st.state === 'retrying') {
        shown.update(
          status.disconnected(`${failure} q:${compact(st.queued + st.buffered)} d:${compact(dropped)}`),
        );
      } else if (dropped > 0) shown.update(status.warning(text));
      else shown.update(status.connected(text));
    }, 1000);

    const add = (line: string) => writer.add(line);
    // Not core/adaptor's onInput: at plant rates `done` is handed to the writer as it is, no closure
    // per message (see writer.durable).
    this.on('input', (msg: Msg, _send, done) => {
      try {
        let results: Record<string, unknown> | undefined;
        for (const k of analytics) if (msg[k] !== undefined) (results ??= {})[k] = msg[k];
        encoder.encodeTo(msg as MessageIn, Date.now(), add, results);
        lastError = undefined;
        // Done (accepted) only once the points are on disk (group commit every few ms); done(err) when the
        // log could not be written. `done` itself is kept, not a closure per message.
        writer.durable(done);
      } catch (err) {
        lastError = err;
        shown.now(errorStatus(err));
        done(err as Error);
      }
    });

    onClose(
      this,
      () => clearInterval(tick),
      () => shown.dispose(),
      () =>
        writer.close(4000).then(
          (st) => {
            if (st.queued > 0) this.log(`${st.queued} points kept in the log for the next start`);
          },
          (err: unknown) => this.error(`closing: ${(err as Error).message}`),
        ),
    );
  }
  RED.nodes.registerType('takt-influx-out', InfluxOut);
};

export = init;
