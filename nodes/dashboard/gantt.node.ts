/**
 * takt-ui-gantt: a Dashboard 2 widget drawing the production plan of takt-schedule as a Gantt chart:
 * machines as rows, operations as bars coloured by job, downtime blocks and a now line. Wire the
 * scheduler's plan output to it, and the problems and events that go into the scheduler (for the
 * downtime blocks); `{ now }` messages move the now line between plans (`{ now, origin }`: plan time 0 is
 * the epoch ms `origin` of the plan's clock, and the chart shows clock times of that clock).
 *
 * Plans, problems and events reach the browser at once; clock ticks alone at most once a second (the last
 * one wins), however fast the plan's clock runs: a simulator at 300x ticks 5 times a second, and a browser
 * redrawing the whole chart for each, on a loaded machine, fell behind its dashboard connection.
 */
import type { Node, NodeInitializer, NodeMessage } from 'node-red';
import { configReader, onClose, setUp } from '../core/adaptor';
import { errorStatus, status } from '../core/status';
import { GanttState } from './views';
import { registerWidget, type WidgetDef } from './widget';

interface GanttDef extends WidgetDef {
  history?: string | number;
  horizon?: string | number;
  unit?: string;
}

/** Clock ticks reach the browser at most this often (ms). */
const TICK_MS = 1000;
/** Marks the held tick the node sends itself. */
const HELD = '_taktHeldTick';

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
      let lastSent = -Infinity;
      let held: NodeJS.Timeout | undefined;
      registerWidget(RED.nodes.getNode, this, 'takt-ui-gantt', def, {
        beforeSend: (msg) => {
          try {
            // Dashboard 2 (1.31) reads properties of what beforeSend gives back, so a message that draws
            // nothing is one without a payload (the browser ignores it), never null.
            const nothing = { _msgid: msg._msgid } as NodeMessage;
            const what = msg[HELD] === true ? 'tick' : gantt.apply(msg.payload);
            if (!what) return nothing;
            if (what === 'tick' && Date.now() - lastSent < TICK_MS) {
              // Shown with the next send, or by the held tick when none comes within the second.
              held ??= setTimeout(
                () => {
                  held = undefined;
                  this.receive({ [HELD]: true } as NodeMessage);
                },
                TICK_MS - (Date.now() - lastSent),
              );
              return nothing;
            }
            lastSent = Date.now();
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
      onClose(this, () => held && clearTimeout(held));
    });
  }
  RED.nodes.registerType('takt-ui-gantt', Gantt);
};

export = init;
