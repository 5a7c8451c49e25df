/**
 * takt-opcua-in: subscribes to OPC UA variables (NodeIds, browse paths, or every variable under a node)
 * and emits Takt samples, one message per change or one batch per publish; any input message triggers a
 * one-shot read of the same items. Survives reconnects: the subscription is rebuilt on each new session.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { errorStatus, status, throttledStatus } from '../core/status';
import type { EndpointNode } from './endpoint-types';
import { type ItemSpec, parseItems } from './items';
import { connectionStatus } from './node-status';
import { OpcuaSubscriber, type OpcuaSample } from './subscriber';

interface InDef extends NodeDef {
  endpoint: string;
  items: string;
  topicPrefix?: string;
  samplingInterval?: string | number;
  publishingInterval?: string | number;
  queueSize?: string | number;
  deadbandType?: 'none' | 'absolute' | 'percent';
  deadbandValue?: string | number;
  mode?: 'change' | 'batch';
}

const num = (v: unknown, dflt: number) =>
  v === undefined || v === '' || !Number.isFinite(Number(v)) ? dflt : Number(v);

const init: NodeInitializer = (RED) => {
  function OpcuaIn(this: Node, def: InDef) {
    RED.nodes.createNode(this, def);
    const endpoint = RED.nodes.getNode(def.endpoint) as EndpointNode | null;
    let items: ItemSpec[];
    try {
      if (!endpoint) throw new TaktError('opcua.noEndpoint', 'no OPC UA endpoint configured');
      if (!endpoint.connection)
        throw new TaktError('opcua.badEndpoint', endpoint.configError ?? 'endpoint configuration is invalid');
      items = parseItems(def.items ?? '');
    } catch (err) {
      this.status(
        status.disconnected((err as TaktError).code === 'opcua.noEndpoint' ? 'no endpoint' : 'bad config'),
      );
      this.error((err as Error).message);
      this.on('input', (_m, _s, done) => done(err as Error));
      return;
    }
    const connection = endpoint.connection;
    const batchMode = def.mode === 'batch';
    const topicPrefix = (def.topicPrefix ?? '').trim();
    const subscriber = new OpcuaSubscriber({
      items,
      topicPrefix,
      samplingIntervalMs: num(def.samplingInterval, 250),
      publishingIntervalMs: num(def.publishingInterval, 500),
      queueSize: num(def.queueSize, 0),
      deadband: { type: def.deadbandType ?? 'none', value: num(def.deadbandValue, 0) },
    });
    const shown = throttledStatus((s) => this.status(s));
    let monitored = 0;
    let bad = 0;
    const ok = () =>
      bad ? status.warning(`${monitored} items, ${bad} bad`) : status.connected(`subscribed ${monitored}`);
    const toMsg = (s: OpcuaSample) => ({ topic: s.topic, payload: s.value, ts: s.ts, quality: s.quality });

    // The server flags values it had to drop from a full queue (Overflow bit): never silent.
    let overflowsWarned = 0;
    let lastOverflowWarn = 0;
    subscriber.on('samples', (samples) => {
      if (batchMode) this.send({ topic: topicPrefix || 'opcua', payload: samples });
      else this.send([samples.map(toMsg)]);
      if (subscriber.overflows > overflowsWarned && Date.now() - lastOverflowWarn > 10000) {
        overflowsWarned = subscriber.overflows;
        lastOverflowWarn = Date.now();
        this.warn(
          `the server's queue overflowed ${overflowsWarned} time(s): changes were lost; raise the queue size or lower the publishing interval`,
        );
        shown.now(status.warning(`overflow ${overflowsWarned}`));
      }
    });
    subscriber.on('ready', (r) => {
      monitored = r.monitored;
      bad = r.bad.length;
      for (const b of r.bad) this.warn(`${b.spec}: ${b.error}`);
      shown.now(ok());
    });
    const onState = (s: Parameters<typeof connectionStatus>[0], why: string | undefined) => {
      if (s !== 'connected') shown.now(connectionStatus(s, why, ''));
    };
    connection.on('state', onState);
    shown.now(connectionStatus(connection.state, undefined, ''));
    // A new session (first connect or after any loss) gets a fresh subscription.
    connection.register(this, (session) =>
      subscriber.start(session).catch((err: unknown) => {
        shown.now(errorStatus(err));
        this.error(`subscribe failed: ${(err as Error).message}`);
      }),
    );

    this.on('input', (msg: NodeMessageInFlow, send, done) => {
      connection
        .whenConnected(5000)
        .then((session) => OpcuaSubscriber.readOnce(session, items, topicPrefix))
        .then((samples) => {
          if (batchMode) send({ ...msg, payload: samples });
          else send([samples.map((s) => ({ ...msg, ...toMsg(s) }))]);
          done();
        })
        .catch((err: unknown) => {
          shown.now(errorStatus(err));
          done(err as Error);
        });
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      shown.dispose();
      connection.off('state', onState);
      void subscriber
        .stop()
        .then(() => connection.deregister(this))
        .finally(done);
    });
  }
  RED.nodes.registerType('takt-opcua-in', OpcuaIn);
};

export = init;
