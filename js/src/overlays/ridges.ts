/**
 * The ridge overlay: the ridges of λ₁ that Python traced from the tiles of a complete view
 * (widget/ridge_overlay.py; one algorithm, `ftle_widget.ridges`, not a second one here), drawn as
 * thin dark polylines over a white halo, so they read on red ridges and white backgrounds alike.
 * They are in plane coordinates: a pan or zoom moves them with the field at once.
 */
import type { DecodedRidges } from "../protocol";
import type { Viewport } from "../viewport";

export const RIDGE_INK = "rgba(15, 15, 15, 0.9)";
export const RIDGE_HALO = "rgba(255, 255, 255, 0.75)";
/** CSS pixels: the line, and the halo under it. */
export const RIDGE_WIDTH = 1.25;
export const RIDGE_HALO_WIDTH = 3;

/** Each ridge as screen points (CSS pixels) of `view`: [x0, y0, x1, y1, …]. */
export function ridgePaths(view: Viewport, ridges: DecodedRidges): number[][] {
  return ridges.lines.map((line) => {
    const path: number[] = [];
    for (let k = 0; k + 1 < line.length; k += 2)
      path.push(...view.toScreen(line[k]!, line[k + 1]!));
    return path;
  });
}

/** Stroke the ridges over `view` (the context's transform maps CSS pixels to the device). */
export function drawRidges(
  ctx: CanvasRenderingContext2D,
  view: Viewport,
  ridges: DecodedRidges | null,
): void {
  if (!ridges || ridges.lines.length === 0) return;
  const paths = ridgePaths(view, ridges).filter((p) => p.length >= 4);
  ctx.save();
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.setLineDash([]);
  for (const [ink, width] of [
    [RIDGE_HALO, RIDGE_HALO_WIDTH],
    [RIDGE_INK, RIDGE_WIDTH],
  ] as const) {
    ctx.strokeStyle = ink;
    ctx.lineWidth = width;
    ctx.beginPath();
    for (const path of paths) {
      ctx.moveTo(path[0]!, path[1]!);
      for (let k = 2; k + 1 < path.length; k += 2) ctx.lineTo(path[k]!, path[k + 1]!);
    }
    ctx.stroke();
  }
  ctx.restore();
}
