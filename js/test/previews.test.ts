/** A slow model's previews in the client's tile store (see ftle_widget/lazy/previews.py). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeTile } from "../src/protocol";
import { TileStore } from "../src/tiles";

/** Tile (0, 0, 0) of `px × px` pixels, all `value`, for generation 1 and `version`. */
function sized(px: number, version: number, value: number) {
  const n = px * px;
  return decodeTile(
    {
      kind: "tile",
      z: 0,
      i: 0,
      j: 0,
      generation: 1,
      model_version: version,
      tile_px: px,
      extent: [0, 3, 0, 3],
      vmin: value,
      vmax: value,
      has_direction: false,
      dtype: "float32",
      prediction_dtype: "float32",
      direction_dtype: null,
    },
    [new Float32Array(n).fill(value), new Float32Array(n)],
  );
}

test("a slow model's preview (fewer pixels) never replaces the full tile of its key and version", () => {
  const store = new TileStore();
  store.generation = 1;
  assert.equal(store.add(sized(4, 0, 1)), true, "the preview first");
  assert.equal(store.add(sized(16, 0, 2)), true, "the full tile replaces it");
  assert.equal(store.add(sized(4, 0, 3)), false, "a preview after the full tile is dropped");
  assert.equal(store.at(1, 1)?.message.tile_px, 16);
  assert.equal(store.at(1, 1)?.ftle[0], 2);
  assert.equal(store.add(sized(4, 1, 4)), true, "a newer version's preview replaces it");
  assert.equal(store.at(1, 1)?.message.model_version, 1);
  assert.equal(store.add(sized(16, 1, 5)), true);
  assert.equal(store.size, 1);
});
