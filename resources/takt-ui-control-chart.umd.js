/* global window */
// Takt control chart for FlowFuse Dashboard 2 (widget takt-ui-control-chart): points, centre line,
// control limits, zone A/B/C bands and red rule-violation markers. Hand-written Vue 3 render functions.
import { defineWidget, exportWidget } from './takt-ui-widget.js';

const { h } = window.Vue;
const L = 56;
const R = 70;
const T = 40;
const B = 22;

// Numbers at the precision the runtime chose for this chart (view.decimals: from the data's sigma, so a
// limit reads as in the alarm text); the fallback is for views from older runtimes.
function fmt(x, decimals) {
  if (Number.isInteger(decimals) && decimals >= 0 && decimals <= 20) return x.toFixed(decimals);
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(0) : a >= 10 ? x.toFixed(2) : a >= 1 ? x.toFixed(3) : x.toPrecision(3);
}

const TaktUiControlChart = defineWidget({
  name: 'TaktUiControlChart',
  accepts: (p) => Array.isArray(p.points),
  measure: true,
  render() {
    const v = this.view;
    const title = (v && v.title) || this.props.label || 'Control chart';
    if (!v || !v.points.length)
      return h(
        'div',
        { class: 'takt-cc takt-empty', style: 'padding:12px;opacity:.7' },
        `${title}: waiting for points…`,
      );
    const W = Math.max(320, this.width);
    const H = Math.max(200, (Number(this.props.height) || 5) * 42 - 16);
    const vals = v.points.map((p) => p.value);
    for (const k of ['ucl', 'lcl', 'center']) if (v[k] !== null) vals.push(v[k]);
    let lo = Math.min(...vals);
    let hi = Math.max(...vals);
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.01 || 1;
    lo -= pad;
    hi += pad;
    const n = v.points.length;
    const sx = (i) => L + (n <= 1 ? 0 : (i / (n - 1)) * (W - L - R));
    const sy = (y) => T + ((hi - y) / (hi - lo)) * (H - T - B);
    const kids = [];
    const head = [title];
    if (v.chartType) head.push(v.chartType);
    if (v.collecting) head.push(`phase I: ${v.collecting.n} of ${v.collecting.of}`);
    kids.push(
      h('text', { x: 4, y: 15, 'font-size': 13, 'font-weight': 600, fill: 'currentColor' }, head.join(' · ')),
    );
    if (v.lastAlarm)
      kids.push(
        h(
          'text',
          { class: 'takt-cc-alarm', x: 4, y: 31, 'font-size': 11, fill: '#d32f2f' },
          v.lastAlarm.length > 110 ? `${v.lastAlarm.slice(0, 108)}…` : v.lastAlarm,
        ),
      );
    if (v.zones && v.ucl !== null && v.lcl !== null) {
      const band = (a, b, fill, cls) =>
        h('rect', {
          class: cls,
          x: L,
          y: sy(b),
          width: W - L - R,
          height: Math.max(0, sy(a) - sy(b)),
          fill,
        });
      kids.push(band(v.zones.a[1], v.ucl, 'rgba(244,67,54,0.10)', 'takt-cc-zone-a'));
      kids.push(band(v.lcl, v.zones.a[0], 'rgba(244,67,54,0.10)', 'takt-cc-zone-a'));
      kids.push(band(v.zones.b[1], v.zones.a[1], 'rgba(255,193,7,0.13)', 'takt-cc-zone-b'));
      kids.push(band(v.zones.a[0], v.zones.b[0], 'rgba(255,193,7,0.13)', 'takt-cc-zone-b'));
      kids.push(band(v.zones.b[0], v.zones.b[1], 'rgba(76,175,80,0.12)', 'takt-cc-zone-c'));
      for (const [y, z] of [
        [(v.zones.a[1] + v.ucl) / 2, 'A'],
        [(v.zones.b[1] + v.zones.a[1]) / 2, 'B'],
        [(v.center + v.zones.b[1]) / 2, 'C'],
        [(v.center + v.zones.b[0]) / 2, 'C'],
        [(v.zones.a[0] + v.zones.b[0]) / 2, 'B'],
        [(v.lcl + v.zones.a[0]) / 2, 'A'],
      ])
        kids.push(
          h('text', { x: L + 3, y: sy(y) + 4, 'font-size': 9, fill: 'currentColor', opacity: 0.5 }, z),
        );
    }
    const hline = (y, colour, dash, label, cls) => {
      if (y === null) return;
      kids.push(
        h('line', {
          class: cls,
          x1: L,
          x2: W - R,
          y1: sy(y),
          y2: sy(y),
          stroke: colour,
          'stroke-width': 1.5,
          'stroke-dasharray': dash,
        }),
      );
      kids.push(
        h(
          'text',
          { x: W - R + 4, y: sy(y) + 4, 'font-size': 10, fill: colour },
          `${label} ${fmt(y, v.decimals)}`,
        ),
      );
    };
    hline(v.ucl, '#d32f2f', '6 3', 'UCL', 'takt-cc-ucl');
    hline(v.center, '#2e7d32', '', 'CL', 'takt-cc-cl');
    hline(v.lcl, '#d32f2f', '6 3', 'LCL', 'takt-cc-lcl');
    for (const y of [hi - pad, lo + pad])
      kids.push(
        h(
          'text',
          {
            x: L - 4,
            y: sy(y) + 4,
            'font-size': 10,
            'text-anchor': 'end',
            fill: 'currentColor',
            opacity: 0.7,
          },
          fmt(y, v.decimals),
        ),
      );
    kids.push(
      h('polyline', {
        class: 'takt-cc-line',
        points: v.points.map((p, i) => `${sx(i)},${sy(p.value)}`).join(' '),
        fill: 'none',
        stroke: '#1565c0',
        'stroke-width': 1.2,
      }),
    );
    v.points.forEach((p, i) => {
      const bad = p.violations.length > 0;
      kids.push(
        h(
          'circle',
          {
            class: bad ? 'takt-cc-point takt-cc-violation' : 'takt-cc-point',
            cx: sx(i),
            cy: sy(p.value),
            r: bad ? 4.5 : 2.5,
            fill: bad ? '#d32f2f' : '#1565c0',
          },
          [
            h(
              'title',
              `#${p.index}: ${fmt(p.value, v.decimals)}${bad ? ` — rule ${p.violations.join(', ')}` : ''}${p.zone ? ` (zone ${p.zone})` : ''}`,
            ),
          ],
        ),
      );
    });
    if (v.notice)
      kids.push(
        h(
          'text',
          {
            class: 'takt-cc-notice',
            x: (L + W - R) / 2,
            y: (T + H - B) / 2,
            'font-size': 15,
            'font-weight': 600,
            'text-anchor': 'middle',
            fill: 'currentColor',
            opacity: 0.75,
          },
          v.notice,
        ),
      );
    kids.push(
      h(
        'text',
        { x: L, y: H - 6, 'font-size': 10, fill: 'currentColor', opacity: 0.7 },
        `samples ${v.points[0].index}–${v.points[n - 1].index} · ${v.violationsShown} rule violations shown`,
      ),
    );
    return h('div', { class: 'takt-cc', style: 'width:100%' }, [
      h('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, style: 'display:block' }, kids),
    ]);
  },
});

exportWidget('takt-ui-control-chart', TaktUiControlChart);
