import assert from "node:assert/strict";
import { mock, test } from "node:test";
import type { Model, Traits } from "../src/model";
import type { DecodedData, TileMessage } from "../src/protocol";
import { DEBOUNCE_MS, Session } from "../src/session";
import { TileStore } from "../src/tiles";
import { Viewport } from "../src/viewport";

/** A model like anywidget's: traits, listeners per event, the messages sent. */
function fakeModel(traits: Partial<Traits>) {
  const listeners = new Map<string, ((...args: unknown[]) => void)[]>();
  const sent: unknown[] = [];
  const changes: [string, unknown][] = [];
  const model = {
    get: (k: keyof Traits) => traits[k],
    set: (k: keyof Traits, v: unknown) => {
      (traits as Record<string, unknown>)[k] = v;
      changes.push([k, v]);
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
  const fire = (e: string, ...args: unknown[]) => {
    for (const f of listeners.get(e) ?? []) f(...args);
  };
  return { model: model as unknown as Model, sent, changes, fire, listeners };
}

/** A tile of 2 × 2 pixels at level z, for generation `generation`. */
function tile(z: number, generation: number): [TileMessage, DataView[]] {
  const side = 2 ** -z;
  const msg: TileMessage = {
    kind: "tile",
    z,
    i: 0,
    j: 0,
    generation,
    model_version: 0,
    tile_px: 2,
    extent: [0, side, 0, side],
    vmin: 0,
    vmax: 1,
    has_direction: false,
    dtype: "float32",
  };
  return [msg, [new DataView(new ArrayBuffer(16)), new DataView(new ArrayBuffer(16))]];
}

function setUp(traits: Partial<Traits> = {}) {
  const fake = fakeModel({ status: "", error: "", plane_info: {}, ...traits });
  const store = new TileStore();
  // 1 plane unit on 256 px: level 7 has 2-px tiles of 1/128 units, the screen's pixels
  let view = new Viewport([0, 1, 0, 1], 256, 256);
  const calls = { redraw: 0, status: [] as [string, boolean][], data: [] as DecodedData[] };
  const session = new Session(fake.model, store, {
    view: () => view,
    redraw: () => {
      calls.redraw += 1;
    },
    data: (d) => {
      calls.data.push(d);
    },
    input: () => {},
    status: (text, error) => {
      calls.status.push([text, error]);
    },
    pictures: () => {},
  });
  const setView = (v: Viewport) => {
    view = v;
  };
  return { ...fake, store, session, calls, setView };
}

test("start: the status, the first view request (generation 1) and the data request", () => {
  const { session, sent, store, calls } = setUp({ status: "ready" });
  session.start();
  assert.deepEqual(sent, [
    { kind: "view", generation: 1, extent: [0, 1, 0, 1], width: 256, height: 256 },
    { kind: "data_request" },
  ]);
  assert.equal(store.generation, 1);
  assert.equal(session.timings.generation, 1);
  assert.equal(typeof session.timings.requestAt, "number");
  assert.equal(session.timings.firstFineTileAt, null);
  assert.deepEqual(calls.status, [["ready", false]]);
});

test("settle: one request per burst, DEBOUNCE_MS after the last change; sync sets extent", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const { session, sent, changes, setView } = setUp();
    session.request();
    assert.equal(DEBOUNCE_MS, 100);
    setView(new Viewport([0, 2, 0, 2], 300.4, 199.6));
    session.settle(true);
    mock.timers.tick(60);
    session.settle(true);
    mock.timers.tick(99);
    assert.equal(sent.length, 1);
    mock.timers.tick(1);
    assert.deepEqual(sent.at(-1), {
      kind: "view",
      generation: 2,
      extent: [0, 2, 0, 2],
      width: 300,
      height: 200,
    });
    assert.deepEqual(changes, [["extent", [0, 2, 0, 2]]]);
    // without sync (the trait itself changed) the trait is not set again
    session.settle(false);
    mock.timers.tick(100);
    assert.equal(sent.length, 3);
    assert.equal(changes.length, 1);
  } finally {
    mock.timers.reset();
  }
});

test("tiles: stale generations dropped; a fine tile of the last request stamps firstFineTileAt", () => {
  const { session, fire, store, calls } = setUp();
  session.request();
  session.request(); // generation 2
  fire("msg:custom", ...tile(7, 1)); // stale
  assert.equal(store.size, 0);
  assert.equal(calls.redraw, 0);
  fire("msg:custom", ...tile(5, 2)); // coarse: a stand-in
  assert.equal(store.size, 1);
  assert.equal(calls.redraw, 1);
  session.painted();
  assert.equal(session.timings.firstFineTileAt, null);
  fire("msg:custom", ...tile(7, 2)); // at the view's resolution
  assert.equal(session.timings.firstFineTileAt, null); // not painted yet
  session.painted();
  const first = session.timings.firstFineTileAt;
  assert.equal(typeof first, "number");
  fire("msg:custom", ...tile(8, 2));
  session.painted();
  assert.equal(session.timings.firstFineTileAt, first); // the first one only
  fire("msg:custom", { kind: "reset" });
  assert.equal(store.size, 0);
});

test("data, bad messages, status and error traits, and destroy", () => {
  const { session, fire, calls, model, listeners } = setUp();
  fire("msg:custom", { kind: "data", count: 1, labels: ["a"] }, [
    new DataView(new Float32Array([0.5, 0.25]).buffer),
    new DataView(new Float32Array([0]).buffer),
  ]);
  assert.equal(calls.data.length, 1);
  assert.deepEqual(Array.from(session.data!.uv), [0.5, 0.25]);
  fire("msg:custom", { kind: "data", count: 2, labels: [] }, []);
  assert.deepEqual(calls.status.at(-1), ["decodeData: expected 2 buffers (uv, cls), got 0", true]);
  fire("msg:custom", { kind: "error", message: "boom", generation: 1 }); // shown by the trait
  fire("msg:custom", { kind: "progress", done: 1, total: 2, generation: 1 });
  assert.equal(calls.status.length, 1);
  model.set("status", "3/4 tiles");
  fire("change:status");
  assert.deepEqual(calls.status.at(-1), ["3/4 tiles", false]);
  model.set("error", "tile (0, 0, 0): boom");
  fire("change:error");
  assert.deepEqual(calls.status.at(-1), ["tile (0, 0, 0): boom", true]);
  session.destroy();
  for (const [event, handlers] of listeners) assert.equal(handlers.length, 0, event);
});
