/**
 * takt-ui-control-chart: a Dashboard 2 widget drawing a takt-spc stream as a control chart: the last N
 * points, centre line, control limits, zone A/B/C bands and the points that broke a run rule in red
 * (hover for the rule numbers). Wire takt-spc's first output (msg.spc) to it; msg.action "reset" clears it.
 */
import type { Node, NodeInitializer, NodeMessage } from 'node-red';
import { configReader, setUp } from '../core/adaptor';
import { commandReader } from '../core/message';
import { errorStatus, status } from '../core/status';
import { ControlChartState } from './views';
import { registerWidget, type WidgetDef } from './widget';

interface ControlChartDef extends WidgetDef {
  label?: string;
  points?: string | number;
}

const init: NodeInitializer = (RED) => {
  function ControlChart(this: Node, def: ControlChartDef) {
    RED.nodes.createNode(this, def);
    setUp(this, () => {
      const cfg = configReader(def);
      const chart = new ControlChartState(
        cfg.number('points', { default: 100, min: 1, integer: true }),
        def.label ?? '',
      );
      const command = commandReader({ actions: ['reset'] }, (t) => this.warn(t));
      registerWidget(RED.nodes.getNode, this, 'takt-ui-control-chart', def, {
        beforeSend: (msg) => {
          try {
            if (command(msg) === 'reset') chart.reset();
            else chart.push(msg.spc, Array.isArray(msg.alarms) ? msg.payload : undefined);
            const v = chart.view();
            const last = v.points.at(-1);
            this.status(
              last?.violations.length
                ? status.error(`OOC: rule ${last.violations.join(',')}`)
                : status.ready(`${v.points.length} points`),
            );
            return { _msgid: msg._msgid, topic: msg.topic, payload: v } as NodeMessage;
          } catch (err) {
            this.status(errorStatus(err));
            throw err;
          }
        },
      });
      this.status(status.idle('no points yet'));
    });
  }
  RED.nodes.registerType('takt-ui-control-chart', ControlChart);
};

export = init;
