/* global window */
// Takt inspection station for FlowFuse Dashboard 2 (widget takt-ui-inspection): the last part with its heat
// map and defect boxes, the verdict and reject rate, and a gallery of ng / doubt parts with Confirm and
// Overrule buttons. Hand-written Vue 3 render functions.
import { defineWidget, exportWidget } from './takt-ui-widget.js';

const { h } = window.Vue;

const COLOURS = { ok: '#2e7d32', doubt: '#ef6c00', ng: '#c62828' };

const chip = (verdict) =>
  h(
    'span',
    {
      class: 'takt-verdict',
      style:
        `background:${COLOURS[verdict] || '#666'};color:#fff;border-radius:4px;padding:2px 10px;` +
        'font-weight:700;text-transform:uppercase;font-size:13px',
    },
    verdict,
  );

/** The heat map with the defect boxes drawn over it (boxes in source pixels, scaled to the shown size). */
function picture(part, px) {
  const sx = part.width ? 100 / part.width : 0;
  const sy = part.height ? 100 / part.height : 0;
  return h('div', { style: `position:relative;width:${px}px;height:${px}px;flex:none` }, [
    part.image
      ? h('img', {
          class: 'takt-heatmap',
          src: part.image,
          alt: `heat map of ${part.key}`,
          style: `width:${px}px;height:${px}px;display:block;image-rendering:pixelated;border-radius:4px`,
        })
      : h('div', { style: `width:${px}px;height:${px}px;background:#ddd;border-radius:4px` }),
    ...part.defects.map((d) =>
      h('div', {
        class: 'takt-defect-box',
        style:
          `position:absolute;left:${d.x * sx}%;top:${d.y * sy}%;width:${d.w * sx}%;height:${d.h * sy}%;` +
          'border:2px solid #ffeb3b;box-sizing:border-box;pointer-events:none',
      }),
    ),
  ]);
}

const button = (label, colour, cls, onClick, disabled) =>
  h(
    'button',
    {
      class: cls,
      disabled,
      onClick,
      style:
        `background:${colour};color:#fff;border:none;border-radius:4px;padding:4px 10px;margin:4px 4px 0 0;` +
        `font-weight:600;cursor:pointer;opacity:${disabled ? 0.5 : 1}`,
    },
    label,
  );

const TaktUiInspection = defineWidget({
  name: 'TaktUiInspection',
  accepts: (p) => Array.isArray(p.gallery) && typeof p.total === 'number',
  data: () => ({ sent: {} }),
  methods: {
    decide(part, decision) {
      this.sent = { ...this.sent, [part.key]: decision };
      this.$socket.emit('widget-action', this.id, {
        inspection: 'takt-ui-inspection/decide',
        payload: { key: part.key, decision },
      });
    },
  },
  render() {
    const v = this.view || { last: null, total: 0, ng: 0, doubt: 0, rejectRate: 0, gallery: [] };
    const title = this.props.label || 'Inspection';
    const last = v.last;
    const head = h(
      'div',
      { class: 'takt-inspection-head', style: 'font-weight:600;font-size:14px;padding:2px 4px 6px' },
      `${title} · ${v.total} parts · reject rate ${(100 * v.rejectRate).toFixed(1)} % (${v.ng} ng, ${v.doubt} doubt)`,
    );
    const lastPart = last
      ? h(
          'div',
          {
            class: 'takt-inspection-last',
            style: 'display:flex;gap:12px;align-items:flex-start;padding:4px',
          },
          [
            picture(last, 180),
            h('div', { style: 'font-size:13px;line-height:1.7' }, [
              h('div', {}, [chip(last.verdict)]),
              h('div', {}, `${last.key} · ${new Date(last.ts).toLocaleTimeString()}`),
              h('div', {}, `score ${last.score.toFixed(2)} / threshold ${last.threshold.toFixed(2)}`),
              h('div', {}, `${last.defects.length} defect region${last.defects.length === 1 ? '' : 's'}`),
              last.truth !== undefined
                ? h('div', { style: 'opacity:.7' }, `ground truth: ${last.truth}`)
                : null,
            ]),
          ],
        )
      : h('div', { style: 'padding:8px 4px;opacity:.7' }, 'waiting for the first part');
    const cards = v.gallery.map((p) =>
      h(
        'div',
        {
          class: 'takt-inspection-card',
          'data-key': p.key,
          style: 'border:1px solid rgba(0,0,0,0.15);border-radius:6px;padding:6px;width:112px',
        },
        [
          picture(p, 100),
          h('div', { style: 'font-size:12px;margin-top:4px' }, [chip(p.verdict), ` ${p.score.toFixed(2)}`]),
          h(
            'div',
            { style: 'font-size:11px;opacity:.7' },
            p.key + (p.truth !== undefined ? ` · ${p.truth}` : ''),
          ),
          button(
            'Confirm',
            '#c62828',
            'takt-confirm-btn',
            () => this.decide(p, 'confirm'),
            this.sent[p.key] !== undefined,
          ),
          button(
            'Overrule',
            '#2e7d32',
            'takt-overrule-btn',
            () => this.decide(p, 'overrule'),
            this.sent[p.key] !== undefined,
          ),
        ],
      ),
    );
    return h('div', { class: 'takt-inspection', style: 'width:100%' }, [
      head,
      lastPart,
      h(
        'div',
        { style: 'font-size:12px;font-weight:600;padding:8px 4px 4px' },
        cards.length ? `To review (${cards.length})` : 'Nothing to review',
      ),
      h(
        'div',
        { class: 'takt-inspection-gallery', style: 'display:flex;flex-wrap:wrap;gap:8px;padding:0 4px' },
        cards,
      ),
    ]);
  },
});

exportWidget('takt-ui-inspection', TaktUiInspection);
