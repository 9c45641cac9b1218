import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeTile } from "../src/protocol";
import { TileStore } from "../src/tiles";

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
