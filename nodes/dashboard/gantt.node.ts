/**
 * takt-ui-gantt: a Dashboard 2 widget drawing the production plan of takt-schedule as a Gantt chart:
 * machines as rows, operations as bars coloured by job, downtime blocks and a now line. Wire the
 * scheduler's plan output to it, and the problems and events that go into the scheduler (for the
 * downtime blocks); `{ now }` messages move the now line between plans.
 */
import type { Node, NodeInitializer, NodeMessage } from 'node-red';
import { configReader, setUp } from '../core/adaptor';
import { errorStatus, status } from '../core/status';
import { GanttState } from './views';
import { registerWidget, type WidgetDef } from './widget';

interface GanttDef extends WidgetDef {
  history?: string | number;
  horizon?: string | number;
  unit?: string;
}

const init: NodeInitializer = (RED) => {
  function Gantt(this: Node, def: GanttDef) {
    RED.nodes.createNode(this, def);
    setUp(this, () => {
      const cfg = configReader(def);
      const gantt = new GanttState({
        history: cfg.number('history', { default: 60, min: 0, exclusiveMin: true }),
        horizon: cfg.number('horizon', { default: 240, min: 0, exclusiveMin: true }),
        unit: cfg.string('unit', 'min'),
      });
      registerWidget(RED.nodes.getNode, this, 'takt-ui-gantt', def, {
        beforeSend: (msg) => {
          try {
            if (!gantt.apply(msg.payload)) return null;
            const v = gantt.view();
            this.status(status.ready(`${v.bars.length} ops, now ${v.now}`));
            return { _msgid: msg._msgid, topic: msg.topic, payload: v } as NodeMessage;
          } catch (err) {
            this.status(errorStatus(err));
            throw err;
          }
        },
      });
      this.status(status.idle('no plan yet'));
    });
  }
  RED.nodes.registerType('takt-ui-gantt', Gantt);
};

export = init;
