/**
 * A process-wide list of the servers Takt runs that a tap may watch (takt-guard, docs/ARCHITECTURE.md):
 * the demo's embedded MQTT broker (flows/settings.js adds it), the simulator's OPC UA server (takt-sim
 * adds it while it runs). The code is tap-registry.js, plain JavaScript that a settings file can require
 * without a build (imported here with its extension, as it is a .js file); this module gives it its types.
 */
export {
  onTapSources,
  publishTapSource,
  type TapSource,
  type TapSourceKind,
  tapSources,
  withdrawTapSource,
} from './tap-registry.js';
