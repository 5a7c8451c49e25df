/**
 * takt-ui-inspection: a Dashboard 2 widget for a vision station. Wire takt-vision's output to it: it shows
 * the last part with its heat map and defect boxes, the verdict, the reject rate, and a gallery of recent
 * 'ng' and 'doubt' parts with Confirm and Overrule buttons. A press sends takt-model-ops feedback on the
 * output, `{ action: 'feedback', payload: { key, label: 'fault' | 'falseAlarm' }, user }`, the user being
 * the dashboard user when a Dashboard 2 user plugin names one (msg._client.user), else the configured one.
 */
import type { Node, NodeInitializer, NodeMessage } from 'node-red';
import { configReader, setUp } from '../core/adaptor';
import { errorStatus, status } from '../core/status';
import { InspectionBoard, readJudged, type JudgedMessage } from './inspection-view';
import { approverName } from './views';
import { registerWidget, type WidgetDef } from './widget';

interface InspectionDef extends WidgetDef {
  gallery?: string | number;
  operator?: string;
  label?: string;
}
const REFRESH = 'takt-ui-inspection/refresh';
const DECIDE = 'takt-ui-inspection/decide';

const init: NodeInitializer = (RED) => {
  function Inspection(this: Node, def: InspectionDef) {
    RED.nodes.createNode(this, def);
    setUp(this, () => {
      const c = configReader(def);
      const board = new InspectionBoard(c.number('gallery', { default: 8, integer: true, min: 1, max: 50 }));
      const operator = c.string('operator', 'operator');
      const show = () => {
        const v = board.view();
        const text = `${(100 * v.rejectRate).toFixed(1)} % ng, ${v.gallery.length} open`;
        this.status(v.gallery.length ? status.warning(text) : status.ready(text));
      };
      registerWidget(RED.nodes.getNode, this, 'takt-ui-inspection', def, {
        onAction: true,
        beforeSend: (msg) => {
          try {
            if (msg.inspection === DECIDE) {
              const p = (msg.payload ?? {}) as { key?: unknown; decision?: unknown };
              const out = board.decide(p.key, p.decision, approverName(msg._client, operator));
              show();
              // The browser gets the gallery without the decided part.
              setImmediate(() => this.receive({ inspection: REFRESH } as NodeMessage));
              return out as unknown as NodeMessage;
            }
            if (msg.inspection !== REFRESH) board.take(readJudged(msg as JudgedMessage, Date.now()));
            show();
            return { _msgid: msg._msgid, payload: board.view() } as NodeMessage;
          } catch (err) {
            this.status(errorStatus(err));
            throw err;
          }
        },
      });
      this.status(status.idle('no part yet'));
    });
  }
  RED.nodes.registerType('takt-ui-inspection', Inspection);
};

export = init;
