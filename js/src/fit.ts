/**
 * What is shown, as numbers: the smallest and largest value of the tile pixels on screen. The
 * renderer's automatic colour limits are symmetric about 0 over them, and "Fit colours" sets the
 * limits to them (the twins of Python's `FTLEView.fit_colors`, which reads the tiles of the last
 * view, and of `to_png`, whose automatic limits are symmetric over the field of the view).
 */
import type { DecodedTile, Extent } from "./protocol";
import { type Quantity, tileValues } from "./quantities";

const ranges = new WeakMap<Float32Array, [number, number]>();

/** What is read of a tile: its λ₁ by default; null for a tile that is not shown. */
export type TileReader = (tile: DecodedTile) => Float32Array | null;

/** A tile's finite range of `values` (NaN, NaN when it has none), read once per array. */
function rangeOf(values: Float32Array): [number, number] {
  let held = ranges.get(values);
  if (!held) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of values) {
      if (!Number.isFinite(x)) continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    held = lo <= hi ? [lo, hi] : [NaN, NaN];
    ranges.set(values, held);
  }
  return held;
}

const overlaps = (a: Extent, b: Extent) => a[0] < b[1] && a[1] > b[0] && a[2] < b[3] && a[3] > b[2];
const inside = (a: Extent, b: Extent) =>
  a[0] >= b[0] && a[1] <= b[1] && a[2] >= b[2] && a[3] <= b[3];

/**
 * The smallest and largest finite value (λ₁, or what `read` reads, no factor) of the tile pixels
 * whose centres lie in `extent`, each pixel from the finest tile holding it (as the renderer draws
 * them: a coarser tile's pixel under a finer tile is not shown, a tile off screen or without
 * values not at all); null when there is none.
 */
export function shownExtremes(
  tiles: readonly DecodedTile[],
  extent: Extent,
  read: TileReader = (t) => t.ftle,
): [number, number] | null {
  const [eu0, eu1, ev0, ev1] = extent;
  const near = tiles.filter((t) => overlaps(t.message.extent, extent) && read(t) !== null);
  let lo = Infinity;
  let hi = -Infinity;
  for (const tile of near) {
    const own = tile.message.extent;
    const [u0, u1, v0, v1] = own;
    const finer = near
      .filter((f) => f.key[0] > tile.key[0])
      .map((f) => f.message.extent)
      .filter((f) => overlaps(f, own));
    const values = read(tile)!;
    if (finer.length === 0 && inside(own, extent)) {
      const [a, b] = rangeOf(values); // every pixel shown: the tile's own range
      if (a < lo) lo = a;
      if (b > hi) hi = b;
      continue;
    }
    const t = tile.message.tile_px;
    for (let i = 0; i < t; i++) {
      const v = v0 + (i + 0.5) * ((v1 - v0) / t);
      if (v < ev0 || v > ev1) continue;
      for (let j = 0; j < t; j++) {
        const u = u0 + (j + 0.5) * ((u1 - u0) / t);
        if (u < eu0 || u > eu1) continue;
        if (finer.some(([f0, f1, g0, g1]) => u >= f0 && u < f1 && v >= g0 && v < g1)) continue;
        const x = values[i * t + j]!;
        if (!Number.isFinite(x)) continue;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * "Fit colours": the smallest and largest finite value of the shown quantity (log Λ₁ with each
 * tile's depth, `factor` for one without) of the pixels shown in `extent`
 * ({@link shownExtremes}), as colour limits; null when there is none.
 */
export function visibleRange(
  tiles: readonly DecodedTile[],
  extent: Extent,
  shown: { factor: number; quantity?: Quantity },
): [number, number] | null {
  const { factor, quantity = "lambda" } = shown;
  const range = shownExtremes(tiles, extent, (t) => tileValues(t, quantity, factor));
  return range ? fittedLimits(range[0], range[1]) : null;
}

/** [lo, hi] in order; a range of one value widened a little (vmin must stay below vmax). */
export function fittedLimits(a: number, b: number): [number, number] {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (lo < hi) return [lo, hi];
  const pad = Math.max(Math.abs(lo) * 1e-6, 1e-12);
  return [lo - pad, hi + pad];
}
