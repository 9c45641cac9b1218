/**
 * "Fit colours": the range of the quantity shown, from the tiles held, over the visible extent
 * (the twin of Python's `FTLEView.fit_colors`, which reads the tiles of the last view).
 */
import type { DecodedTile, Extent } from "./protocol";

/**
 * The smallest and largest finite value × `factor` of the tile pixels whose centres lie in
 * `extent`, each pixel from the finest tile holding it (as the renderer draws them: a coarser
 * tile's pixel under a finer tile is not shown); null when there is none.
 */
export function visibleRange(
  tiles: readonly DecodedTile[],
  extent: Extent,
  factor: number,
): [number, number] | null {
  const [eu0, eu1, ev0, ev1] = extent;
  let lo = Infinity;
  let hi = -Infinity;
  for (const tile of tiles) {
    const [u0, u1, v0, v1] = tile.message.extent;
    const finer = tiles
      .filter((f) => f.key[0] > tile.key[0])
      .map((f) => f.message.extent)
      .filter(([f0, f1, g0, g1]) => f0 < u1 && f1 > u0 && g0 < v1 && g1 > v0);
    const t = tile.message.tile_px;
    for (let i = 0; i < t; i++) {
      const v = v0 + (i + 0.5) * ((v1 - v0) / t);
      if (v < ev0 || v > ev1) continue;
      for (let j = 0; j < t; j++) {
        const u = u0 + (j + 0.5) * ((u1 - u0) / t);
        if (u < eu0 || u > eu1) continue;
        if (finer.some(([f0, f1, g0, g1]) => u >= f0 && u < f1 && v >= g0 && v < g1)) continue;
        const x = tile.ftle[i * t + j]!;
        if (!Number.isFinite(x)) continue;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
  }
  return lo <= hi ? fittedLimits(lo * factor, hi * factor) : null;
}

/** [lo, hi] in order; a range of one value widened a little (vmin must stay below vmax). */
export function fittedLimits(a: number, b: number): [number, number] {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (lo < hi) return [lo, hi];
  const pad = Math.max(Math.abs(lo) * 1e-6, 1e-12);
  return [lo - pad, hi + pad];
}
