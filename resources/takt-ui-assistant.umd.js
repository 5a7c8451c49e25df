/* global window */
// Takt assistant chat for FlowFuse Dashboard 2 (widget takt-ui-assistant): the conversation with takt-ask,
// answer cards (a figure and a mini chart of its recent values), Approve / Reject on proposed commands.
// Hand-written Vue 3 render functions.
import { button, defineWidget, exportWidget } from './takt-ui-widget.js';

const { h } = window.Vue;

/** A sparkline of the card's recent values. */
function spark(series) {
  const w = 120;
  const ht = 28;
  const lo = Math.min(...series);
  const hi = Math.max(...series);
  const span = hi - lo || 1;
  const pts = series
    .map(
      (v, i) =>
        `${((i / (series.length - 1)) * (w - 4) + 2).toFixed(1)},${(ht - 2 - ((v - lo) / span) * (ht - 4)).toFixed(1)}`,
    )
    .join(' ');
  return h('svg', { class: 'takt-chat-spark', width: w, height: ht, viewBox: `0 0 ${w} ${ht}` }, [
    h('polyline', { points: pts, fill: 'none', stroke: '#00796b', 'stroke-width': 2 }),
  ]);
}

function card(c) {
  return h(
    'div',
    {
      class: 'takt-chat-card',
      style:
        'display:inline-flex;align-items:center;gap:12px;margin-top:6px;padding:6px 10px;border-radius:6px;' +
        'background:#fff;border:1px solid rgba(0,0,0,0.12)',
    },
    [
      h('div', [
        h('div', { style: 'font-size:11px;opacity:.7' }, c.label),
        h('div', { class: 'takt-chat-card-value', style: 'font-size:20px;font-weight:700' }, c.value),
      ]),
      ...(c.series && c.series.length > 1 ? [spark(c.series)] : []),
    ],
  );
}

const STATE_TEXT = { waiting: 'waiting for approval', approved: 'approved', rejected: 'rejected' };

const TaktUiAssistant = defineWidget({
  name: 'TaktUiAssistant',
  accepts: (p) => Array.isArray(p.turns),
  data: () => ({ text: '', sent: {} }),
  methods: {
    send() {
      const text = this.text.trim();
      if (!text) return;
      this.$socket.emit('widget-action', this.id, { chat: 'takt-ui-assistant/ask', payload: text });
      this.text = '';
    },
    decide(turn, decision) {
      this.sent = { ...this.sent, [turn.id]: decision };
      this.$socket.emit('widget-action', this.id, {
        chat: 'takt-ui-assistant/decide',
        payload: { turn: turn.id, decision },
      });
    },
  },
  render() {
    const v = this.view || { turns: [] };
    const title = this.props.label || 'Assistant';
    const bubble = (t) => {
      const mine = t.role === 'user';
      const p = t.proposal;
      return h(
        'div',
        {
          class: `takt-chat-turn takt-chat-${t.role}${p ? ' takt-chat-proposal' : ''}`,
          'data-turn': t.id,
          style: `display:flex;justify-content:${mine ? 'flex-end' : 'flex-start'};padding:3px 4px`,
        },
        [
          h(
            'div',
            {
              style:
                `max-width:85%;padding:6px 10px;border-radius:10px;word-break:break-word;` +
                (mine
                  ? 'background:#00796b;color:#fff'
                  : `background:${t.refused ? '#fff3e0' : '#eceff1'};color:#263238`),
            },
            [
              ...(mine && t.user ? [h('div', { style: 'font-size:11px;opacity:.8' }, t.user)] : []),
              h('div', { class: 'takt-chat-text' }, t.text),
              ...(t.card ? [card(t.card)] : []),
              ...(p
                ? [
                    h('div', { style: 'margin-top:6px;font-size:12px' }, [
                      h(
                        'span',
                        { class: `takt-chat-state takt-chat-${p.state}`, style: 'font-weight:600' },
                        `${STATE_TEXT[p.state] || p.state}${p.by ? ` (${p.by})` : ''}`,
                      ),
                      h(
                        'span',
                        { style: 'opacity:.7' },
                        ` · approvers: ${p.approvers.join(', ') || 'nobody'}`,
                      ),
                    ]),
                    ...(p.state === 'waiting' && p.approvers.length
                      ? [
                          h('div', { style: 'margin-top:6px' }, [
                            ...[
                              ['Approve', '#2e7d32', 'approve'],
                              ['Reject', '#c62828', 'reject'],
                            ].map(([label, colour, decision]) =>
                              button(
                                label,
                                colour,
                                `takt-chat-${decision}`,
                                () => this.decide(t, decision),
                                !p.approvalId || this.sent[t.id] !== undefined,
                                'margin-right:8px',
                              ),
                            ),
                          ]),
                        ]
                      : []),
                  ]
                : []),
            ],
          ),
        ],
      );
    };
    return h('div', { class: 'takt-chat', style: 'width:100%;display:flex;flex-direction:column' }, [
      h('div', { style: 'font-weight:600;font-size:14px;padding:2px 4px 6px' }, title),
      h(
        'div',
        // newest at the bottom and kept in view: a reversed column scrolls from its end
        {
          class: 'takt-chat-log',
          style:
            'max-height:420px;overflow-y:auto;padding-bottom:4px;display:flex;flex-direction:column-reverse',
        },
        v.turns.length
          ? v.turns.map(bubble).reverse()
          : [
              h(
                'div',
                { style: 'opacity:.6;padding:4px' },
                'Ask about the line, e.g. "what is the OEE of the press?"',
              ),
            ],
      ),
      h(
        'form',
        {
          style: 'display:flex;gap:6px;margin-top:6px',
          onSubmit: (e) => {
            e.preventDefault();
            this.send();
          },
        },
        [
          h('input', {
            class: 'takt-chat-input',
            value: this.text,
            maxlength: 500,
            placeholder: 'Ask or command…',
            onInput: (e) => (this.text = e.target.value),
            style: 'flex:1;padding:6px 8px;border:1px solid rgba(0,0,0,0.25);border-radius:4px',
          }),
          h(
            'button',
            {
              class: 'takt-chat-send',
              type: 'submit',
              style:
                'background:#00796b;color:#fff;border:none;border-radius:4px;padding:6px 14px;font-weight:600;cursor:pointer',
            },
            'Send',
          ),
        ],
      ),
    ]);
  },
});

exportWidget('takt-ui-assistant', TaktUiAssistant);
