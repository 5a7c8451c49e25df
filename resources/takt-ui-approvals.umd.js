/* global window */
// Takt approvals inbox for FlowFuse Dashboard 2 (widget takt-ui-approvals): the actions waiting in a
// takt-approve node with Approve / Reject buttons. Hand-written Vue 3 render functions.
import { button, defineWidget, exportWidget } from './takt-ui-widget.js';

const { h } = window.Vue;

const span = (s) =>
  s < 60 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
const ago = (ms) => `${span(Math.max(0, Math.round((Date.now() - ms) / 1000)))} ago`;
// A person decides in real time: the wait is a duration, not a clock time (the dashboard's clock times are
// the plant's, which a simulator may run faster than real time).
const left = (ms) => `expires in ${span(Math.max(0, Math.round((ms - Date.now()) / 1000)))}`;

const TaktUiApprovals = defineWidget({
  name: 'TaktUiApprovals',
  accepts: (p) => Array.isArray(p.items),
  data: () => ({ sent: {} }),
  methods: {
    decide(item, decision) {
      this.sent = { ...this.sent, [item.id]: decision };
      this.$socket.emit('widget-action', this.id, {
        inbox: 'takt-ui-approvals/decide',
        payload: { id: item.id, decision },
      });
    },
  },
  render() {
    const v = this.view || { items: [], recent: [] };
    const title = this.props.label || 'Approvals';
    const rows = v.items.map((it) =>
      h(
        'div',
        {
          class: 'takt-approval',
          'data-id': it.id,
          style: 'display:flex;align-items:center;padding:8px 4px;border-bottom:1px solid rgba(0,0,0,0.1)',
        },
        [
          h('div', { style: 'flex:1;min-width:0' }, [
            h(
              'div',
              { class: 'takt-approval-summary', style: 'font-weight:600;word-break:break-word' },
              it.summary,
            ),
            h(
              'div',
              { style: 'font-size:12px;opacity:.7' },
              `asked ${ago(it.createdAt)}` +
                (it.required > 1
                  ? ` · needs ${it.required} approvers (${it.approvedBy.length} so far)`
                  : '') +
                (it.expiresAt ? ` · ${left(it.expiresAt)}` : ''),
            ),
          ]),
          button(
            'Approve',
            '#2e7d32',
            'takt-approve-btn',
            () => this.decide(it, 'approve'),
            this.sent[it.id] !== undefined,
          ),
          button(
            'Reject',
            '#c62828',
            'takt-reject-btn',
            () => this.decide(it, 'reject'),
            this.sent[it.id] !== undefined,
          ),
        ],
      ),
    );
    const recent = v.recent.map((r) =>
      h(
        'div',
        { class: 'takt-approval-recent', style: 'font-size:12px;padding:2px 4px;opacity:.8' },
        `${r.outcome === 'approved' ? '✔' : '✘'} ${r.summary} — ${r.outcome}${r.by === 'timeout' ? ' (timeout)' : ''}`,
      ),
    );
    return h('div', { class: 'takt-approvals', style: 'width:100%' }, [
      h(
        'div',
        { style: 'font-weight:600;font-size:14px;padding:2px 4px 6px' },
        `${title} · ${v.items.length ? `${v.items.length} waiting` : 'nothing waiting'}`,
      ),
      ...rows,
      ...(recent.length
        ? [h('div', { style: 'font-size:12px;font-weight:600;padding:8px 4px 2px' }, 'Recent'), ...recent]
        : []),
    ]);
  },
});

exportWidget('takt-ui-approvals', TaktUiApprovals);
