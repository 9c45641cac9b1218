import assert from "node:assert/strict";
import { test } from "node:test";
import type { Traits } from "../src/model";
import type { TileMessage } from "../src/protocol";
import { Session } from "../src/session";
import { initialize, nextGeneration, pushedTiles } from "../src/shared";
import { TileStore } from "../src/tiles";
import { Viewport } from "../src/viewport";
import { fakeModel } from "./fake-model";

/** A tile of 2 × 2 pixels at level 7, for `generation`, with directions or without. */
function tile(generation: number, directions = false): [TileMessage, DataView[]] {
  const msg: TileMessage = {
    kind: "tile",
    z: 7,
    i: 0,
    j: 0,
    generation,
    model_version: 0,
    tile_px: 2,
    extent: [0, 1 / 128, 0, 1 / 128],
    vmin: 0,
    vmax: 1,
    has_direction: directions,
    dtype: "float32",
    prediction_dtype: "float32",
    direction_dtype: directions ? "angle_uint16" : null,
  };
  const buffer = (n: number) => new DataView(new ArrayBuffer(4 * n));
  return [msg, directions ? [buffer(4), buffer(4), buffer(2)] : [buffer(4), buffer(4)]];
}

type Fake = ReturnType<typeof fakeModel>;

/** A display of the model: its own store and session, asking as index.ts wires it. */
function display(fake: Fake) {
  const store = new TileStore();
  const view = new Viewport([0, 1, 0, 1], 256, 256);
  const session = new Session(fake.model, store, {
    view: () => view,
    redraw: () => {},
    data: () => {},
    input: () => {},
    status: () => {},
    pictures: () => {},
    extent: () => {},
    generation: (last) => nextGeneration(fake.model.get("_instance"), last),
  });
  return { store, session };
}

const model = (instance: string) =>
  fakeModel({ status: "", error: "", plane_info: {}, _instance: instance } as Partial<Traits>);

/** The generations of the view requests sent so far. */
const asked = (fake: Fake) =>
  fake.sent
    .filter((m) => (m as { kind: string }).kind === "view")
    .map((m) => (m as { generation: number }).generation);

test("a model's displays share one count: a refresh of the last request reaches them all", async () => {
  const fake = model("shared");
  const close = (await initialize({ model: fake.model } as never)) as () => void;
  const a = display(fake);
  for (let k = 0; k < 3; k++) a.session.request(); // display A zoomed: 1, 2, 3
  const b = display(fake); // the same view displayed again, later
  b.session.request();
  assert.deepEqual(asked(fake), [1, 2, 3, 4], "B's first request is 4, not 1");
  // Python read B's request last: the Directions toggle refreshes it, tagged 4. With a count
  // per display it was tagged 1, and A (at 3) dropped every tile: no segments
  fake.fire("msg:custom", ...tile(4, true));
  assert.equal(a.store.size, 1, "A keeps the refreshed tile");
  assert.equal(b.store.size, 1);
  assert.notEqual(a.store.at(0.001, 0.001)?.direction, null);
  a.session.request(); // a gesture in A, which B follows: each past the other
  b.session.request();
  assert.deepEqual(asked(fake).slice(4), [5, 6]);
  // another page on the kernel asked for 9 (its tiles reach this page too): counted past it
  fake.fire("msg:custom", ...tile(9));
  a.session.request();
  assert.equal(asked(fake).at(-1), 10);
  assert.deepEqual(pushedTiles("shared"), [], "only generation 0 is kept as pushed");
  close(); // the model is closed: no shared state left
  assert.equal(nextGeneration("shared", 4), 5);
});

test("a display of a model without initialize counts its own requests", () => {
  const fake = model("unknown");
  const a = display(fake);
  const b = display(fake);
  a.session.request();
  a.session.request();
  b.session.request();
  assert.deepEqual(asked(fake), [1, 2, 1]);
});
