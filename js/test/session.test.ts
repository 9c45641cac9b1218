import assert from "node:assert/strict";
import { mock, test } from "node:test";
import type { Traits } from "../src/model";
import type { DecodedData, Extent, TileMessage } from "../src/protocol";
import { DEBOUNCE_MS, LIMITED, Session } from "../src/session";
import { TileStore } from "../src/tiles";
import { Viewport } from "../src/viewport";
import { type FakeModelOptions, fakeModel } from "./fake-model";

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
    prediction_dtype: "float32",
    direction_dtype: null,
  };
  return [msg, [new DataView(new ArrayBuffer(16)), new DataView(new ArrayBuffer(16))]];
}

function setUp(traits: Partial<Traits> = {}, options: FakeModelOptions = {}) {
  const fake = fakeModel({ status: "", error: "", plane_info: {}, ...traits }, options);
  const store = new TileStore();
  // 1 plane unit on 256 px: level 7 has 2-px tiles of 1/128 units, the screen's pixels
  let view = new Viewport([0, 1, 0, 1], 256, 256);
  const calls = {
    redraw: 0,
    extent: 0,
    status: [] as [string, boolean][],
    data: [] as DecodedData[],
  };
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
    extent: () => {
      calls.extent += 1;
    },
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
    assert.equal(session.timings.settling, false);
    session.settle(true);
    mock.timers.tick(60);
    session.settle(true);
    mock.timers.tick(99);
    assert.equal(sent.length, 1);
    assert.equal(session.timings.settling, true, "a request waits");
    mock.timers.tick(1);
    assert.equal(session.timings.settling, false);
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
  // an error of a generation not asked for (this session asked for none): dropped
  fire("msg:custom", { kind: "error", message: "boom", generation: 1 });
  fire("msg:custom", { kind: "progress", done: 1, total: 2, generation: 1 }); // unknown: ignored
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

/** The messages of kind "view" sent so far. */
const views = (sent: unknown[]) => sent.filter((m) => (m as { kind: string }).kind === "view");

test("a gesture sends one view request, though the model fires change:extent for its own set", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const { session, sent, changes, calls, setView } = setUp({}, { fireOnSet: true });
    session.request();
    setView(new Viewport([0.5, 1.5, 0, 1], 256, 256));
    session.settle(true);
    mock.timers.tick(DEBOUNCE_MS);
    assert.deepEqual(changes, [["extent", [0.5, 1.5, 0, 1]]]);
    mock.timers.tick(10 * DEBOUNCE_MS);
    assert.deepEqual(views(sent), [
      { kind: "view", generation: 1, extent: [0, 1, 0, 1], width: 256, height: 256 },
      { kind: "view", generation: 2, extent: [0.5, 1.5, 0, 1], width: 256, height: 256 },
    ]);
    assert.equal(calls.extent, 0, "the view already shows what the session synced");
    // a second gesture to another extent: again one request
    setView(new Viewport([1, 2, 0, 1], 256, 256));
    session.settle(true);
    mock.timers.tick(11 * DEBOUNCE_MS);
    assert.equal(views(sent).length, 3);
    assert.equal(calls.extent, 0);
  } finally {
    mock.timers.reset();
  }
});

test("extent set from Python: shown, then asked for once it settles; echoes are not news", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const { session, sent, model, calls, setView } = setUp({}, { fireOnSet: true });
    session.request();
    // the kernel sets the trait: a kernel-backed model's set fires the change event
    const python: Extent = [2, 3, 2, 3];
    model.set("extent", python);
    assert.equal(calls.extent, 1);
    setView(new Viewport(python, 256, 256)); // what the extent hook shows
    mock.timers.tick(DEBOUNCE_MS);
    assert.deepEqual(views(sent).at(-1), {
      kind: "view",
      generation: 2,
      extent: [2, 3, 2, 3],
      width: 256,
      height: 256,
    });
    // a reset (extentChanged called directly) behaves the same
    session.extentChanged();
    assert.equal(calls.extent, 2);
    mock.timers.tick(DEBOUNCE_MS);
    assert.equal(views(sent).length, 3);
  } finally {
    mock.timers.reset();
  }
});

test("a model that fires nothing on set: a later change from Python is still followed", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const { session, sent, fire, model, calls, setView } = setUp();
    session.request();
    setView(new Viewport([0.5, 1.5, 0, 1], 256, 256));
    session.settle(true);
    mock.timers.tick(DEBOUNCE_MS);
    assert.equal(views(sent).length, 2);
    // Python moves the view elsewhere, then back to the extent the gesture synced
    model.set("extent", [4, 5, 4, 5]);
    fire("change:extent");
    model.set("extent", [0.5, 1.5, 0, 1]);
    fire("change:extent");
    assert.equal(calls.extent, 2);
    mock.timers.tick(DEBOUNCE_MS);
    assert.equal(views(sent).length, 3);
  } finally {
    mock.timers.reset();
  }
});

test("view sizes sent are whole pixels in [1, MAX_VIEW_PIXELS]", async () => {
  const { MAX_VIEW_PIXELS } = await import("../src/protocol");
  const { session, sent, setView } = setUp();
  setView(new Viewport([0, 10, 0, 1], 9000.4, 0.3));
  session.request();
  const msg = views(sent).at(-1) as { width: number; height: number };
  assert.deepEqual([msg.width, msg.height], [MAX_VIEW_PIXELS, 1]);
});

/** An "error" message: tile (z, i, j) of `generation` failed. */
const failure = (key: [number, number, number], generation: number, message: string) => ({
  kind: "error",
  key,
  generation,
  message,
});

test("failed tiles of the last request are held and named in the status line", () => {
  const { session, fire, store, calls, model } = setUp({ status: "3/4 tiles" });
  session.request();
  session.request(); // generation 2
  fire("msg:custom", ...tile(5, 2)); // a stand-in: tells the pyramid's geometry
  const redraws = calls.redraw;
  fire("msg:custom", failure([7, 1, 2], 1, "tile (7, 1, 2): stale")); // older request: dropped
  assert.deepEqual(store.failures(), []);
  assert.equal(calls.status.length, 0);
  fire("msg:custom", failure([7, 1, 2], 2, "tile (7, 1, 2): RuntimeError: boom"));
  assert.deepEqual(store.failures(), [
    { key: [7, 1, 2], generation: 2, message: "tile (7, 1, 2): RuntimeError: boom" },
  ]);
  assert.deepEqual(store.extentOf([7, 1, 2]), [2 / 128, 3 / 128, 1 / 128, 2 / 128]);
  assert.equal(calls.redraw, redraws + 1, "redrawn to show it as failed");
  assert.deepEqual(calls.status.at(-1), [
    "3/4 tiles · 1 tile failed: tile (7, 1, 2): RuntimeError: boom",
    true,
  ]);
  // Python sets the error trait to the latest failure: named once, the count says the rest
  model.set("error", "tile (7, 0, 0): ValueError: bad");
  fire("change:error");
  fire("msg:custom", failure([7, 0, 0], 2, "tile (7, 0, 0): ValueError: bad"));
  assert.deepEqual(calls.status.at(-1), [
    "3/4 tiles · 2 tiles failed: tile (7, 1, 2): RuntimeError: boom",
    true,
  ]);
  // another error in the trait is shown too
  model.set("error", "refused: width must be a number");
  fire("change:error");
  assert.deepEqual(calls.status.at(-1), [
    "3/4 tiles · 2 tiles failed: tile (7, 1, 2): RuntimeError: boom · refused: width must be a number",
    true,
  ]);
  model.set("error", "");
  fire("change:error");
  // a bad error message of the current generation is reported
  fire("msg:custom", { kind: "error", generation: 2, message: "no key" });
  assert.match(calls.status.at(-1)![0], /decodeError: key must be \[z, i, j\]/);
  // a new request: the failures are stale, the status line shows the status trait again
  model.set("status", "0/4 tiles");
  session.request();
  assert.deepEqual(store.failures(), []);
  assert.deepEqual(calls.status.at(-1), ["0/4 tiles", false]);
  // a failure, then the tile itself (the failure is forgotten), then a reset
  fire("msg:custom", failure([7, 1, 2], 3, "tile (7, 1, 2): boom"));
  assert.equal(store.failures().length, 1);
  fire("msg:custom", failure([7, 1, 3], 3, "tile (7, 1, 3): boom"));
  const [msg, buffers] = tile(7, 3);
  fire("msg:custom", { ...msg, i: 1, j: 2, extent: [2 / 128, 3 / 128, 1 / 128, 2 / 128] }, buffers);
  assert.deepEqual(
    store.failures().map((f) => f.key),
    [[7, 1, 3]],
  );
  assert.deepEqual(calls.status.at(-1), ["0/4 tiles · 1 tile failed: tile (7, 1, 3): boom", true]);
  fire("msg:custom", { kind: "reset" });
  assert.deepEqual(store.failures(), []);
  assert.equal(store.extentOf([7, 1, 2]), null, "a new plane: its geometry is not known yet");
  assert.deepEqual(calls.status.at(-1), ["0/4 tiles", false]);
});

test("notes (trait values the front end replaced) follow the status, in red, until cleared", () => {
  const { session, calls, model, fire } = setUp({ status: "ready" });
  session.start();
  assert.deepEqual(calls.status.at(-1), ["ready", false]);
  session.setNotes(["unknown colormap 'jet': showing RdBu_r"]);
  assert.deepEqual(calls.status.at(-1), ["ready · unknown colormap 'jet': showing RdBu_r", true]);
  const count = calls.status.length;
  session.setNotes(["unknown colormap 'jet': showing RdBu_r"]); // no news: nothing shown again
  assert.equal(calls.status.length, count);
  model.set("error", "boom");
  fire("change:error");
  assert.deepEqual(calls.status.at(-1), ["boom · unknown colormap 'jet': showing RdBu_r", true]);
  model.set("error", "");
  fire("change:error");
  session.setNotes([]);
  assert.deepEqual(calls.status.at(-1), ["ready", false]);
  session.destroy();
});

test("a zoom stopped where float64 runs out is said after the status, not in red", () => {
  const { session, calls, model, fire } = setUp({ status: "40 tiles" });
  session.start();
  session.setLimited(true);
  assert.deepEqual(calls.status.at(-1), [`40 tiles · ${LIMITED}`, false]);
  assert.equal(LIMITED, "zoomed in as far as float64 resolves here");
  const count = calls.status.length;
  session.setLimited(true); // no news
  assert.equal(calls.status.length, count);
  model.set("status", LIMITED); // Python's zoom_to says the same: once
  fire("change:status");
  assert.deepEqual(calls.status.at(-1), [LIMITED, false]);
  session.setNotes(["a note"]);
  assert.deepEqual(calls.status.at(-1), [`${LIMITED} · a note`, true]);
  session.setNotes([]);
  model.set("status", "3/40 tiles");
  fire("change:status");
  session.setLimited(false);
  assert.deepEqual(calls.status.at(-1), ["3/40 tiles", false]);
  session.destroy();
});

test("a reset (a new plane) clears the tiles and asks for the view again once settled", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const { session, sent, fire, store } = setUp();
    fire("msg:custom", { kind: "reset" }); // before any request: the first one comes later
    mock.timers.tick(DEBOUNCE_MS);
    assert.equal(views(sent).length, 0);
    session.request();
    fire("msg:custom", ...tile(7, 1));
    assert.equal(store.size, 1);
    fire("msg:custom", { kind: "reset" });
    assert.equal(store.size, 0);
    mock.timers.tick(DEBOUNCE_MS - 1);
    assert.equal(views(sent).length, 1);
    mock.timers.tick(1);
    assert.deepEqual(views(sent).at(-1), {
      kind: "view",
      generation: 2,
      extent: [0, 1, 0, 1],
      width: 256,
      height: 256,
    });
  } finally {
    mock.timers.reset();
  }
});
