/**
 * takt-opcua-in: subscribes to OPC UA variables (NodeIds, browse paths, or every variable under a node)
 * and emits Takt samples, one message per change or one batch per publish; any input message triggers a
 * one-shot read of the same items. Survives reconnects: the subscription is rebuilt on each new session.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configNodeStatus, configReader, onClose, onInput, requireConfigNode, setUp } from '../core/adaptor';
import { errorStatus, status, throttledStatus } from '../core/status';
import type { EndpointNode } from './endpoint-types';
import { parseItems } from './items';
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

const init: NodeInitializer = (RED) => {
  function OpcuaIn(this: Node, def: InDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(
      this,
      () => {
        const connection = requireConfigNode(
          RED.nodes.getNode(def.endpoint) as EndpointNode | null,
          (n) => n.connection,
          { feature: 'opcua', field: 'endpoint', label: 'OPC UA endpoint' },
        );
        const cfg = configReader(def);
        const items = parseItems(def.items ?? '');
        const topicPrefix = cfg.string('topicPrefix', '');
        const subscriber = new OpcuaSubscriber({
          items,
          topicPrefix,
          samplingIntervalMs: cfg.number('samplingInterval', { default: 250, min: 0 }),
          publishingIntervalMs: cfg.number('publishingInterval', { default: 500, min: 0 }),
          queueSize: cfg.number('queueSize', { default: 0, min: 0, integer: true }),
          deadband: {
            type: cfg.choice('deadbandType', ['none', 'absolute', 'percent'], 'none'),
            value: cfg.number('deadbandValue', { default: 0, min: 0 }),
          },
        });
        return {
          connection,
          items,
          topicPrefix,
          subscriber,
          batchMode: cfg.choice('mode', ['change', 'batch'], 'change') === 'batch',
        };
      },
      { status: configNodeStatus },
    );
    if (!set) return;
    const { connection, items, topicPrefix, subscriber, batchMode } = set;
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

    onInput<NodeMessageInFlow>(
      this,
      async (msg, send) => {
        const session = await connection.whenConnected(5000);
        const samples = await OpcuaSubscriber.readOnce(session, items, topicPrefix);
        if (batchMode) send({ ...msg, payload: samples });
        else send([samples.map((s) => ({ ...msg, ...toMsg(s) }))]);
      },
      shown,
    );

    onClose(
      this,
      () => shown.dispose(),
      () => connection.off('state', onState),
      () => subscriber.stop().finally(() => connection.deregister(this)),
    );
  }
  RED.nodes.registerType('takt-opcua-in', OpcuaIn);
};

export = init;
