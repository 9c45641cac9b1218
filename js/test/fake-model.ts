/** A model like anywidget's for the unit tests: traits, listeners per event, the messages sent. */
import type { Model, Traits } from "../src/model";

export interface FakeModelOptions {
  /**
   * Fire `change:<name>` when `set` changes a trait's value, as a kernel-backed (Backbone) model
   * does, synchronously; by default `set` fires nothing (as the browser tests' page model).
   */
  fireOnSet?: boolean;
}

export function fakeModel(traits: Partial<Traits>, options: FakeModelOptions = {}) {
  const listeners = new Map<string, ((...args: unknown[]) => void)[]>();
  const sent: unknown[] = [];
  const changes: [string, unknown][] = [];
  const fire = (e: string, ...args: unknown[]) => {
    for (const f of listeners.get(e) ?? []) f(...args);
  };
  const model = {
    get: (k: keyof Traits) => traits[k],
    set: (k: keyof Traits, v: unknown) => {
      const before = JSON.stringify(traits[k]);
      (traits as Record<string, unknown>)[k] = v;
      changes.push([k, v]);
      if (options.fireOnSet && JSON.stringify(v) !== before) fire(`change:${k}`);
    },
    save_changes: () => {},
    send: (msg: unknown) => sent.push(msg),
    on: (e: string, f: (...args: unknown[]) => void) => {
      listeners.set(e, [...(listeners.get(e) ?? []), f]);
    },
    off: (e: string, f: (...args: unknown[]) => void) => {
      listeners.set(
        e,
        (listeners.get(e) ?? []).filter((g) => g !== f),
      );
    },
  };
  return { model: model as unknown as Model, sent, changes, fire, listeners };
}
