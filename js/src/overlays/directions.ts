/**
 * Stretching directions as short headless segments on a coarse screen grid (as in Storm et al.,
 * PRL 2024, Fig. 2): about {@link DIRECTION_GRID} grid cells across the view, square cells, one
 * segment centred on each cell centre, of length 0.7 cell, along the tile's direction there.
 */
import type { DecodedTile } from "../protocol";
import { pixelIndex } from "../tiles";
import type { Viewport } from "../viewport";

/** Grid cells across the view's width. */
export const DIRECTION_GRID = 11;
/** Segment length as a fraction of the grid spacing. */
export const DIRECTION_LENGTH = 0.7;
export const DIRECTION_INK = "rgba(20, 20, 20, 0.85)";
/** CSS pixels. */
export const DIRECTION_WIDTH = 1.5;

/** A segment from (x0, y0) to (x1, y1), in CSS pixels. */
export interface Segment {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Where directions are read: the finest tile holding (u, v) that passes `keep` (a TileStore). */
export interface TileSource {
  at(u: number, v: number, keep?: (tile: DecodedTile) => boolean): DecodedTile | undefined;
}

const hasDirection = (t: DecodedTile) => t.direction !== null;

/**
 * The segments to draw over `view`: grid spacing s = width / `across` CSS pixels both ways,
 * cell centres ((k + ½)s, (m + ½)s) inside the view. The direction (du, dv) at a centre comes
 * from the finest tile with directions holding it, and is mapped to the screen (v up → y down,
 * scaled by the view's pixels per plane unit along u and v). Centres with no such tile, a NaN
 * or a zero direction get no segment.
 */
export function directionSegments(
  view: Viewport,
  tiles: TileSource,
  across = DIRECTION_GRID,
): Segment[] {
  const s = view.width / across;
  const half = 0.5 * DIRECTION_LENGTH * s;
  const sx = view.width / (view.u1 - view.u0);
  const sy = view.height / (view.v1 - view.v0);
  const out: Segment[] = [];
  for (let m = 0; (m + 0.5) * s < view.height; m++) {
    for (let k = 0; k < across; k++) {
      const x = (k + 0.5) * s;
      const y = (m + 0.5) * s;
      const [u, v] = view.toPlane(x, y);
      const tile = tiles.at(u, v, hasDirection);
      if (!tile) continue;
      const p = 2 * pixelIndex(tile, u, v);
      const dx = tile.direction![p]! * sx;
      const dy = -tile.direction![p + 1]! * sy;
      const length = Math.hypot(dx, dy);
      if (!(length > 0) || !Number.isFinite(length)) continue; // NaN, zero or infinite
      const ex = (half * dx) / length;
      const ey = (half * dy) / length;
      out.push({ x0: x - ex, y0: y - ey, x1: x + ex, y1: y + ey });
    }
  }
  return out;
}

/** Stroke the segments (in CSS pixels; the context's transform maps them to the device). */
export function drawDirections(ctx: CanvasRenderingContext2D, segments: readonly Segment[]): void {
  if (segments.length === 0) return;
  ctx.save();
  ctx.strokeStyle = DIRECTION_INK;
  ctx.lineWidth = DIRECTION_WIDTH;
  ctx.lineCap = "butt";
  ctx.setLineDash([]);
  ctx.beginPath();
  for (const g of segments) {
    ctx.moveTo(g.x0, g.y0);
    ctx.lineTo(g.x1, g.y1);
  }
  ctx.stroke();
  ctx.restore();
}
