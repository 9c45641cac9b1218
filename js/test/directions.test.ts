import assert from "node:assert/strict";
import { test } from "node:test";
import { DIRECTION_GRID, DIRECTION_LENGTH, directionSegments } from "../src/overlays/directions";
import type { DecodedTile, Extent } from "../src/protocol";
import { TileStore } from "../src/tiles";
import { Viewport } from "../src/viewport";
import { tileMessage } from "./fake-tile";

let serial = 0;

/** A tile of `t × t` pixels over `extent` whose direction at pixel (i, j) is `dir(i, j)`. */
function tile(
  z: number,
  extent: Extent,
  t: number,
  dir: ((i: number, j: number) => [number, number]) | null,
): DecodedTile {
  const message = tileMessage([z, 0, 0], extent, t, {
    vmin: 0,
    vmax: 0,
    has_direction: dir !== null,
    direction_dtype: dir !== null ? "angle_uint16" : null,
  });
  let direction: Float32Array | null = null;
  if (dir) {
    direction = new Float32Array(2 * t * t);
    for (let i = 0; i < t; i++)
      for (let j = 0; j < t; j++) direction.set(dir(i, j), 2 * (i * t + j));
  }
  serial += 1; // distinct keys: the store holds one tile per key
  return {
    message,
    key: [z, 0, serial],
    ftle: new Float32Array(t * t),
    prediction: new Float32Array(t * t),
    direction,
  };
}

const close = (a: number, b: number, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} ≉ ${b}`);

test("directionSegments: a constant field gives one centred segment per grid cell", () => {
  // 220 × 100 px over [0, 2.2] × [0, 1]: square pixels, s = 20 px, 11 × 5 cell centres
  const view = new Viewport([0, 2.2, 0, 1], 220, 100);
  const store = new TileStore();
  store.add(tile(0, [-1, 3, -1, 3], 4, () => [3, 3])); // (1, 1) direction, not unit length
  const segs = directionSegments(view, store);
  assert.equal(DIRECTION_GRID, 11);
  assert.equal(segs.length, 11 * 5);
  const s = 20;
  const half = (DIRECTION_LENGTH * s) / 2;
  for (const [n, g] of segs.entries()) {
    const k = n % 11;
    const m = Math.floor(n / 11);
    close((g.x0 + g.x1) / 2, (k + 0.5) * s);
    close((g.y0 + g.y1) / 2, (m + 0.5) * s);
    close(Math.hypot(g.x1 - g.x0, g.y1 - g.y0), 2 * half);
    // v up → screen y down: (1, 1) points right and up
    close(g.x1 - g.x0, (2 * half) / Math.SQRT2);
    close(g.y1 - g.y0, (-2 * half) / Math.SQRT2);
  }
});

test("directionSegments: finest tile with directions wins; NaN, zero and uncovered skipped", () => {
  const view = new Viewport([0, 1.1, 0, 0.1], 110, 10); // s = 10 px, one row of 11 centres at v = 0.05
  const store = new TileStore();
  // coarse tile with horizontal directions over everything
  store.add(tile(0, [0, 2, -1, 1], 2, () => [1, 0]));
  // finer tile over u ∈ [0, 0.5): vertical directions; its right half (u ∈ [0.25, 0.5)) is NaN
  store.add(tile(1, [0, 0.5, 0, 0.5], 2, (_i, j) => (j === 0 ? [0, -2] : [NaN, NaN])));
  // even finer tile with no directions: ignored for directions
  store.add(tile(2, [0, 0.25, 0, 0.25], 2, null));
  // a tile with zero directions over u ∈ [1, 1.5)
  store.add(tile(1, [1, 1.5, 0, 0.5], 2, () => [0, 0]));
  const segs = directionSegments(view, store);
  const centres = segs.map((g) => Math.round((g.x0 + g.x1) / 2));
  // centres at u = 0.05, 0.15 (finer tile, j=0: vertical); 0.25..0.45 NaN → skipped;
  // 0.55..0.95 coarse: horizontal; 1.05 zero → skipped
  assert.deepEqual(centres, [5, 15, 55, 65, 75, 85, 95]);
  for (const g of segs.slice(0, 2)) {
    close(g.x0, g.x1);
    close(Math.abs(g.y1 - g.y0), 7);
  }
  for (const g of segs.slice(2)) {
    close(g.y0, g.y1);
    close(g.x1 - g.x0, 7);
  }
  // the vertical ones: (0, −2) points down in the plane → down on the screen (y grows)
  assert.ok(segs[0]!.y1 > segs[0]!.y0);
  // no tile at all → no segments
  assert.deepEqual(directionSegments(view, new TileStore()), []);
});

test("directionSegments: non-square pixels map plane directions through the scales", () => {
  // u: 100 px per unit, v: 50 px per unit; direction (1, 1) → screen (100, −50)
  const view = new Viewport([0, 1.1, 0, 1], 110, 50);
  const store = new TileStore();
  store.add(tile(0, [0, 2, 0, 2], 1, () => [1, 1]));
  const segs = directionSegments(view, store);
  assert.equal(segs.length, 11 * 5);
  const g = segs[0]!;
  close((g.y1 - g.y0) / (g.x1 - g.x0), -0.5);
});

test("TileStore.at with a predicate", () => {
  const store = new TileStore();
  const coarse = tile(0, [0, 1, 0, 1], 1, () => [1, 0]);
  const fine = tile(1, [0, 0.5, 0, 0.5], 1, null);
  store.add(coarse);
  store.add(fine);
  assert.equal(store.at(0.1, 0.1), fine);
  assert.equal(
    store.at(0.1, 0.1, (t) => t.direction !== null),
    coarse,
  );
  assert.equal(
    store.at(2, 2, () => true),
    undefined,
  );
});
