/* global window, ResizeObserver */
// What every Takt dashboard widget shares: Dashboard 2's props and message wiring ($dataTracker), the last
// view model the runtime sent (kept when `accepts(payload)`), and, for drawings, the widget's width in
// pixels (followed with a ResizeObserver). Each widget file imports this module and adds its render().
export function defineWidget({ name, accepts, measure = false, data = () => ({}), methods = {}, render }) {
  return {
    name,
    inject: ['$socket', '$dataTracker'],
    props: {
      id: { type: String, required: true },
      props: { type: Object, default: () => ({}) },
      state: { type: Object, default: () => ({}) },
    },
    data() {
      return { view: null, width: 640, ...data() };
    },
    created() {
      this.$dataTracker(
        this.id,
        (msg) => this.take(msg),
        (msg) => this.take(msg),
      );
    },
    mounted() {
      if (!measure) return;
      const update = () => {
        if (this.$el && this.$el.clientWidth) this.width = this.$el.clientWidth;
      };
      update();
      if (typeof ResizeObserver !== 'undefined') {
        this.observer = new ResizeObserver(update);
        this.observer.observe(this.$el);
      }
    },
    unmounted() {
      if (this.observer) this.observer.disconnect();
    },
    methods: {
      take(msg) {
        if (msg && msg.payload && accepts(msg.payload)) this.view = msg.payload;
      },
      ...methods,
    },
    render,
  };
}

/** Makes a component known to Dashboard 2, which looks it up as window[<widget type>][<component name>]. */
export function exportWidget(type, component) {
  window[type] = { [component.name]: component };
}

/** A coloured action button (Approve, Reject, ...); `spacing` places it in its row (CSS margin). */
export function button(label, colour, cls, onClick, disabled, spacing = 'margin-left:8px') {
  return window.Vue.h(
    'button',
    {
      class: cls,
      disabled,
      onClick,
      style:
        `background:${colour};color:#fff;border:none;border-radius:4px;${spacing};` +
        `padding:6px 14px;font-weight:600;cursor:pointer;opacity:${disabled ? 0.5 : 1}`,
    },
    label,
  );
}
