import assert from "node:assert/strict";
import { test } from "node:test";
import { fittedLimits, visibleRange } from "../src/fit";
import type { DecodedTile, Extent, TileKey } from "../src/protocol";

/** A t × t tile of `key` over `extent` whose pixel (i, j) (row i at v) holds value(i, j). */
function tile(key: TileKey, extent: Extent, value: (i: number, j: number) => number, t = 4) {
  const ftle = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) ftle[i * t + j] = value(i, j);
  return { key, ftle, message: { extent, tile_px: t } } as unknown as DecodedTile;
}

test("the range of the pixels whose centres are in view, log Λ₁ times the factor", () => {
  // pixel centres at u = 0.125, 0.375, 0.625, 0.875 (and v alike); value = 10 i + j
  const a = tile([0, 0, 0], [0, 1, 0, 1], (i, j) => 10 * i + j);
  assert.deepEqual(visibleRange([a], [0, 1, 0, 1], { factor: 1 }), [0, 33]);
  assert.deepEqual(visibleRange([a], [0.3, 0.7, 0.3, 0.7], { factor: 1 }), [11, 22]);
  const log = { factor: -2, quantity: "log_stretch" } as const;
  assert.deepEqual(visibleRange([a], [0.3, 0.7, 0.3, 0.7], log), [-44, -22]); // factor, in order
  assert.deepEqual(visibleRange([a], [0.3, 0.7, 0.3, 0.7], { factor: -2 }), [11, 22]); // λ₁: none
  assert.equal(visibleRange([a], [2, 3, 2, 3], { factor: 1 }), null); // nothing in view
  assert.equal(visibleRange([], [0, 1, 0, 1], { factor: 1 }), null);
});

test("a coarser tile's pixels under a finer tile are not shown; NaN is skipped", () => {
  const coarse = tile([0, 0, 0], [0, 1, 0, 1], () => 9);
  const fine = tile([1, 0, 0], [0, 0.5, 0, 0.5], (i) => (i === 0 ? NaN : 1));
  assert.deepEqual(visibleRange([coarse, fine], [0, 0.5, 0, 0.5], { factor: 1 }), [
    1 - 1e-6,
    1 + 1e-6,
  ]);
  assert.deepEqual(visibleRange([coarse, fine], [0, 1, 0, 1], { factor: 1 }), [1, 9]);
  // drawn order does not matter
  assert.deepEqual(visibleRange([fine, coarse], [0, 1, 0, 1], { factor: 1 }), [1, 9]);
});

test("fittedLimits: in order, one value widened a little", () => {
  assert.deepEqual(fittedLimits(3, -1), [-1, 3]);
  assert.deepEqual(fittedLimits(2, 2), [2 - 2e-6, 2 + 2e-6]);
  assert.deepEqual(fittedLimits(0, 0), [-1e-12, 1e-12]);
});
