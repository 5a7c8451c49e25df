'use strict';
/**
 * The process-wide list of servers Takt runs that a tap may watch (takt-guard, docs/ARCHITECTURE.md).
 * Plain JavaScript that needs no build, so that one piece of code serves both the compiled pack
 * (nodes/core/taps.ts re-exports it with types from tap-registry.d.ts) and a settings file that loads
 * no built code (flows/settings.js adds the demo's embedded broker with it). The list lives on
 * `globalThis` under a registered symbol: two copies of this file (the source one a settings file
 * requires, the one shipped in dist/) share it.
 */
const KEY = Symbol.for('takt.tapSources');

function registry() {
  globalThis[KEY] ??= { sources: new Map(), listeners: new Set() };
  return globalThis[KEY];
}

function changed() {
  for (const l of registry().listeners) l();
}

/** Adds (or replaces) a source by its name and tells the listeners. */
function publishTapSource(source) {
  registry().sources.set(source.name, source);
  changed();
}

/** Removes a source by its name and tells the listeners. */
function withdrawTapSource(name) {
  if (registry().sources.delete(name)) changed();
}

/** The sources now, of one kind or all. */
function tapSources(kind) {
  return [...registry().sources.values()].filter((s) => kind === undefined || s.kind === kind);
}

/** Calls `listener` whenever a source comes or goes; returns the function that stops it. */
function onTapSources(listener) {
  registry().listeners.add(listener);
  return () => registry().listeners.delete(listener);
}

module.exports = { publishTapSource, withdrawTapSource, tapSources, onTapSources };
