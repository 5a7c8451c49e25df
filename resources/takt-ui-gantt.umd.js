/* global window */
// Takt Gantt chart for FlowFuse Dashboard 2 (widget takt-ui-gantt). Hand-written Vue 3 render
// functions on the dashboard's global Vue; the view model comes from the runtime (nodes/dashboard/views.ts).
import { clockTicks } from './takt-ui-clock.js';
import { defineWidget, exportWidget } from './takt-ui-widget.js';

const { h } = window.Vue;
const COLOURS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
  '#393b79',
  '#637939',
  '#8c6d31',
  '#843c39',
  '#7b4173',
  '#3182bd',
  '#e6550d',
  '#31a354',
];
const LEFT = 78;
const RIGHT = 12;
const TOP = 38;
const ROW = 30;
const AXIS = 24;

function niceStep(span, px, clock) {
  const raw = span / Math.max(1, px / 70);
  // On a clock (minutes), steps a clock face has: 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h.
  if (clock) for (const m of [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720]) if (m >= raw) return m;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/**
 * How plan times read: clock times (HH:MM of the plan's clock, the plant's) when the view knows the epoch
 * ms of plan time 0 and the plan counts minutes, else the numbers in the plan's unit.
 */
function timeFormat(v) {
  if (typeof v.origin !== 'number' || v.unit !== 'min')
    return { clock: false, at: (t) => String(t), span: (a, b) => `${a}–${b} ${v.unit}` };
  const at = (t) =>
    new Date(v.origin + t * 60000).toLocaleTimeString([], {
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
  return { clock: true, at, span: (a, b) => `${at(a)}–${at(b)}` };
}

const TaktUiGantt = defineWidget({
  name: 'TaktUiGantt',
  accepts: (p) => Array.isArray(p.bars),
  measure: true,
  render() {
    const v = this.view;
    if (!v || !v.machines.length)
      return h(
        'div',
        { class: 'takt-gantt takt-empty', style: 'padding:12px;opacity:.7' },
        'Waiting for a plan…',
      );
    const W = Math.max(320, this.width);
    const H = TOP + v.machines.length * ROW + AXIS + 22;
    const span = Math.max(1, v.to - v.from);
    const sx = (t) => LEFT + ((Math.min(Math.max(t, v.from), v.to) - v.from) / span) * (W - LEFT - RIGHT);
    const row = (m) => TOP + v.machines.indexOf(m) * ROW;
    const colour = (job) => COLOURS[Math.max(0, v.jobs.indexOf(job)) % COLOURS.length];
    const tf = timeFormat(v);
    const kids = [
      h('defs', [
        h(
          'pattern',
          {
            id: `hatch-${this.id}`,
            width: 6,
            height: 6,
            patternUnits: 'userSpaceOnUse',
            patternTransform: 'rotate(45)',
          },
          [
            h('rect', { width: 6, height: 6, fill: '#fde0dc' }),
            h('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#d32f2f', 'stroke-width': 2 }),
          ],
        ),
        h(
          'pattern',
          {
            id: `maint-${this.id}`,
            width: 6,
            height: 6,
            patternUnits: 'userSpaceOnUse',
            patternTransform: 'rotate(45)',
          },
          [
            h('rect', { width: 6, height: 6, fill: '#ffe0b2' }),
            h('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#e65100', 'stroke-width': 3 }),
          ],
        ),
      ]),
    ];
    const head = [`Plan (${v.trigger || 'plan'})`];
    if (v.makespan !== null) head.push(`makespan ${v.makespan} ${v.unit}`);
    if (v.lateJobs !== null) head.push(`${v.lateJobs} late`);
    kids.push(
      h('text', { x: 4, y: 16, 'font-size': 13, 'font-weight': 600, fill: 'currentColor' }, head.join(' · ')),
    );
    v.machines.forEach((m, i) => {
      const y = row(m);
      kids.push(
        h('rect', { x: 0, y, width: W, height: ROW, fill: i % 2 ? 'rgba(0,0,0,0.03)' : 'rgba(0,0,0,0)' }),
      );
      kids.push(h('text', { x: 4, y: y + ROW / 2 + 4, 'font-size': 12, fill: 'currentColor' }, m));
    });
    for (const d of v.downtime) {
      const x1 = sx(d.start);
      const x2 = sx(d.end === null ? v.to : d.end);
      if (x2 - x1 < 1) continue;
      kids.push(
        h(
          'rect',
          {
            class: 'takt-gantt-down',
            x: x1,
            y: row(d.machine) + 2,
            width: x2 - x1,
            height: ROW - 4,
            fill: `url(#hatch-${this.id})`,
            opacity: 0.85,
          },
          [
            h(
              'title',
              `${d.machine}: ${d.reason} ${d.end === null ? `${tf.at(d.start)}–open` : tf.span(d.start, d.end)}`,
            ),
          ],
        ),
      );
    }
    for (const b of v.bars) {
      const x1 = sx(b.start);
      const x2 = sx(b.end);
      if (x2 - x1 < 0.5) continue;
      const y = row(b.machine) + 5;
      kids.push(
        h(
          'rect',
          {
            class: b.maintenance ? 'takt-gantt-bar takt-gantt-maint' : 'takt-gantt-bar',
            x: x1,
            y,
            width: Math.max(1, x2 - x1 - 1),
            height: ROW - 10,
            rx: 3,
            fill: b.maintenance ? `url(#maint-${this.id})` : colour(b.job),
            opacity: b.state === 'done' ? 0.4 : 1,
            stroke: b.late ? '#d32f2f' : b.state === 'running' ? '#000' : 'none',
            'stroke-width': b.late || b.state === 'running' ? 2 : 0,
          },
          [
            h(
              'title',
              `${b.job} op ${b.op} on ${b.machine}: ${tf.span(b.start, b.end)} (${b.state}${b.late ? ', late' : ''})`,
            ),
          ],
        ),
      );
      const text = b.maintenance ? 'maintenance' : b.job;
      if (x2 - x1 > 6.5 * text.length + 6)
        kids.push(
          h(
            'text',
            {
              x: x1 + 4,
              y: y + ROW / 2,
              'font-size': 11,
              'font-weight': b.maintenance ? 600 : 400,
              fill: b.maintenance ? '#bf360c' : '#fff',
              'pointer-events': 'none',
            },
            text,
          ),
        );
    }
    const axisY = TOP + v.machines.length * ROW;
    kids.push(
      h('line', { x1: LEFT, y1: axisY, x2: W - RIGHT, y2: axisY, stroke: 'currentColor', opacity: 0.4 }),
    );
    const step = niceStep(span, W - LEFT - RIGHT, tf.clock);
    // Clock ticks fall on the clock's round times (14:00, 14:30), not on round plan minutes, each placed with
    // the clock's offset at its own time (a daylight-saving change inside the plan moves none of them).
    const ticks = [];
    if (tf.clock) ticks.push(...clockTicks(v.origin, v.from, v.to, step));
    else for (let t = Math.ceil(v.from / step) * step; t <= v.to; t += step) ticks.push(t);
    for (const t of ticks) {
      const x = sx(t);
      kids.push(h('line', { x1: x, y1: TOP, x2: x, y2: axisY + 4, stroke: 'currentColor', opacity: 0.12 }));
      kids.push(
        h(
          'text',
          { x, y: axisY + 16, 'font-size': 10, 'text-anchor': 'middle', fill: 'currentColor' },
          tf.at(t),
        ),
      );
    }
    kids.push(
      h(
        'text',
        {
          x: W - RIGHT,
          y: axisY + 30,
          'font-size': 10,
          'text-anchor': 'end',
          fill: 'currentColor',
          opacity: 0.7,
        },
        tf.clock ? 'plant clock' : v.unit,
      ),
    );
    const nx = sx(v.now);
    kids.push(
      h('line', {
        class: 'takt-gantt-now',
        x1: nx,
        y1: TOP - 4,
        x2: nx,
        y2: axisY,
        stroke: '#d32f2f',
        'stroke-width': 2,
      }),
    );
    kids.push(h('text', { x: nx + 3, y: TOP - 6, 'font-size': 10, fill: '#d32f2f' }, `now ${tf.at(v.now)}`));
    kids.push(
      h(
        'text',
        { x: W - RIGHT, y: 16, 'font-size': 11, 'text-anchor': 'end', fill: 'currentColor', opacity: 0.7 },
        'pale: done · black outline: running · red outline: late · red hatch: down · orange hatch: maintenance',
      ),
    );
    return h('div', { class: 'takt-gantt', style: 'width:100%' }, [
      h(
        'svg',
        { width: W, height: H, viewBox: `0 0 ${W} ${H}`, style: 'display:block;font-family:inherit' },
        kids,
      ),
    ]);
  },
});

exportWidget('takt-ui-gantt', TaktUiGantt);
