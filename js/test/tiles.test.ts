import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeTile } from "../src/protocol";
import { pixelIndex, TileStore } from "../src/tiles";

/** A 1-pixel tile (z, i, j) of a pyramid with base side 3, for `generation`. */
function tile(z: number, i: number, j: number, generation: number) {
  const side = 3 * 2 ** -z;
  return decodeTile(
    {
      kind: "tile",
      z,
      i,
      j,
      generation,
      model_version: 0,
      tile_px: 1,
      extent: [j * side, (j + 1) * side, i * side, (i + 1) * side],
      vmin: 0,
      vmax: 0,
      has_direction: false,
      dtype: "float32",
      prediction_dtype: "float32",
      direction_dtype: null,
    },
    [new Float32Array([0]), new Float32Array([0])],
  );
}

test("failed tiles: held for the newest generation, placed by the tiles' geometry", () => {
  const store = new TileStore();
  store.generation = 4;
  assert.equal(store.fail({ key: [2, 0, 1], generation: 3, message: "stale" }), false);
  assert.equal(store.fail({ key: [2, 0, 1], generation: 4, message: "a" }), true);
  assert.equal(store.fail({ key: [2, -1, 0], generation: 4, message: "b" }), true);
  assert.deepEqual(
    store.failures().map((f) => f.message),
    ["a", "b"],
  );
  assert.equal(store.extentOf([2, 0, 1]), null, "no tile has told the geometry yet");
  assert.equal(store.add(tile(1, 0, 0, 4)), true);
  assert.deepEqual(store.extentOf([2, 0, 1]), [0.75, 1.5, 0, 0.75]);
  assert.deepEqual(store.extentOf([2, -1, 0]), [0, 0.75, -0.75, 0]);
  // the tile itself arrives after all: no longer failed
  store.add(tile(2, 0, 1, 4));
  assert.deepEqual(
    store.failures().map((f) => f.message),
    ["b"],
  );
  // a newer request: the failures of older ones are forgotten
  store.generation = 5;
  assert.deepEqual(store.failures(), []);
  store.fail({ key: [0, 0, 0], generation: 5, message: "c" });
  store.clear();
  assert.deepEqual(store.failures(), []);
  assert.equal(store.extentOf([0, 0, 0]), null);
});

test("pushed tiles (generation 0) are kept until the kernel answers a request, and after a reset", () => {
  const store = new TileStore();
  assert.equal(store.add(tile(0, 0, 0, 0)), true, "pushed before any request");
  store.generation = 1; // the display asked; the kernel (running cells) has not read it
  assert.equal(store.add(tile(1, 0, 0, 0)), true, "still pushing: all there is to show");
  assert.equal(store.add(tile(1, 0, 1, 0)), true);
  store.generation = 2; // a pan before the kernel answered: pushed tiles still count
  assert.equal(store.add(tile(1, 1, 0, 1)), false, "an older request's tile is stale");
  assert.equal(store.add(tile(1, 1, 1, 0)), true);
  assert.equal(store.add(tile(2, 0, 0, 2)), true, "the answer to the request");
  assert.equal(store.add(tile(2, 0, 1, 0)), false, "answered: pushed tiles are stale now");
  assert.equal(store.size, 5);
  store.clear(); // a new plane (Python's reset): its home view is pushed again
  assert.equal(store.add(tile(0, 0, 0, 0)), true);
});

test("a tile of a later request (another display of the model asked) also answers the store's", () => {
  const store = new TileStore();
  store.generation = 3;
  assert.equal(store.add(tile(0, 0, 0, 0)), true, "pushed, not answered yet");
  assert.equal(store.add(tile(1, 0, 0, 5)), true, "a later request's tile");
  assert.equal(store.add(tile(1, 0, 1, 0)), false, "answered: pushed tiles are stale now");
});

/** A t × t tile of key (z, i, j) (base side 3) valued `value`, of a model version and request. */
function made(
  z: number,
  i: number,
  j: number,
  o: { t?: number; version?: number; g?: number; value?: number } = {},
) {
  const { t = 2, version = 0, g = 1, value = 0 } = o;
  const side = 3 * 2 ** -z;
  const msg = {
    kind: "tile",
    z,
    i,
    j,
    generation: g,
    model_version: version,
    tile_px: t,
    extent: [j * side, (j + 1) * side, i * side, (i + 1) * side],
    vmin: value,
    vmax: value,
    has_direction: false,
    dtype: "float32",
    prediction_dtype: "float32",
    direction_dtype: null,
  } as const;
  return decodeTile(msg, [new Float32Array(t * t).fill(value), new Float32Array(t * t)]);
}

test("one tile per key: a newer model version replaces it, an older one never does", () => {
  const store = new TileStore();
  store.generation = 1;
  assert.equal(store.add(made(1, 0, 0, { version: 1, value: 1 })), true);
  assert.equal(store.add(made(1, 0, 0, { version: 0, value: 0 })), false, "an older version");
  assert.equal(store.at(0.5, 0.5)?.ftle[0], 1);
  assert.equal(store.add(made(1, 0, 0, { version: 2, value: 2 })), true);
  assert.equal(store.add(made(1, 0, 0, { version: 2, value: 3 })), true, "the same: recomputed");
  assert.equal(store.size, 1);
  assert.equal(store.at(0.5, 0.5)?.ftle[0], 3);
});

test("a preview (fewer pixels) gives way to the full tile of its version, not the other way", () => {
  const store = new TileStore();
  store.generation = 1;
  assert.equal(store.add(made(0, 0, 0, { t: 2, value: 1 })), true, "the preview first");
  assert.equal(store.add(made(0, 0, 0, { t: 8, value: 2 })), true, "the full tile replaces it");
  assert.equal(store.add(made(0, 0, 0, { t: 2, value: 3 })), false, "a late preview does not");
  assert.equal(store.at(1, 1)?.message.tile_px, 8);
  // a newer version's preview does replace an older version's full tile
  assert.equal(store.add(made(0, 0, 0, { t: 2, version: 1, value: 4 })), true);
  assert.equal(store.at(1, 1)?.ftle[0], 4);
});

test("stale requests' tiles are refused; tiles are drawn coarse to fine; at() finds the finest", () => {
  const store = new TileStore();
  store.generation = 3;
  assert.equal(store.add(made(2, 0, 0, { g: 2 })), false, "an older request's tile");
  assert.equal(store.add(made(2, 0, 0, { g: 3, value: 2 })), true);
  assert.equal(store.add(made(0, 0, 0, { g: 4, value: 0 })), true, "a later request's tile");
  assert.equal(store.add(made(1, 0, 0, { g: 3, value: 1 })), true);
  assert.deepEqual(
    store.drawOrder().map((t) => t.key[0]),
    [0, 1, 2],
  );
  // (0.5, 0.5) lies in all three (sides 3, 1.5, 0.75); (1, 1) in levels 0 and 1; (2, 2) in 0
  assert.equal(store.at(0.5, 0.5)?.key[0], 2);
  assert.equal(store.at(1, 1)?.key[0], 1);
  assert.equal(store.at(2, 2)?.key[0], 0);
  assert.equal(store.at(3, 3), undefined, "extents are half open: u1, v1 belong to the next tile");
  assert.equal(store.at(0.5, 0.5, (t) => t.key[0] < 2)?.key[0], 1, "the finest that passes");
  // the pyramid's geometry comes from the tiles: tile (3, 1, 2) has side 3/8
  assert.deepEqual(store.extentOf([3, 1, 2]), [0.75, 1.125, 0.375, 0.75]);
  store.clear();
  assert.equal(store.size, 0);
  assert.deepEqual(store.drawOrder(), []);
});

test("pixelIndex: the tile's pixel holding a plane point, row 0 at v0, clamped to the tile", () => {
  const t = made(0, 0, 0, { t: 4 }); // [0, 3]², pixels 0.75 wide
  assert.equal(pixelIndex(t, 0, 0), 0);
  assert.equal(pixelIndex(t, 0.8, 0.1), 1);
  assert.equal(pixelIndex(t, 0.1, 0.8), 4);
  assert.equal(pixelIndex(t, 2.9, 2.9), 15);
  assert.equal(pixelIndex(t, 3, 3), 15, "the far edge: the last pixel");
  assert.equal(pixelIndex(t, -1, 7), 12, "outside: clamped");
});
