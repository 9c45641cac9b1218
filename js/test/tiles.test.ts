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
