/** Data points on the plane as small discs, coloured by class (d3's schemeTableau10). */
import type { DecodedData } from "../protocol";
import type { Viewport } from "../viewport";

/** d3-scale-chromatic's schemeTableau10; class k gets entry k mod 10. */
// biome-ignore format: five colours a line
export const TABLEAU10 = [
  "#4e79a7", "#f28e2c", "#e15759", "#76b7b2", "#59a14f",
  "#edc949", "#af7aa1", "#ff9da7", "#9c755f", "#bab0ab",
] as const;
/** Points with no label (class −1, or any class that is not a non-negative integer). */
export const UNLABELLED = "#8c8c8c";
/** CSS pixels. */
export const POINT_RADIUS = 2.5;
export const POINT_OUTLINE = "#ffffff";

/** The colour of class `c`. */
export function classColour(c: number): string {
  return Number.isInteger(c) && c >= 0 ? TABLEAU10[c % TABLEAU10.length]! : UNLABELLED;
}

/** Whether any class is unlabelled (not a non-negative integer): the legend then lists them. */
export function hasUnlabelled(cls: Float32Array): boolean {
  return cls.some((c) => !(Number.isInteger(c) && c >= 0));
}

/** Bucket of class `c`: 0..9 the palette entries, 10 unlabelled. */
function bucket(c: number): number {
  return Number.isInteger(c) && c >= 0 ? c % TABLEAU10.length : TABLEAU10.length;
}

/**
 * Draw the points inside `view` (CSS pixels; the context's transform maps them to the device)
 * as filled discs with a thin white outline, one path per colour (unlabelled first); returns how
 * many were drawn.
 */
export function drawData(ctx: CanvasRenderingContext2D, view: Viewport, data: DecodedData): number {
  const r = POINT_RADIUS;
  const buckets: number[][] = Array.from({ length: TABLEAU10.length + 1 }, () => []);
  const { uv, cls } = data;
  let drawn = 0;
  for (let k = 0; k < data.count; k++) {
    const [x, y] = view.toScreen(uv[2 * k]!, uv[2 * k + 1]!);
    if (!(x > -r && x < view.width + r && y > -r && y < view.height + r)) continue; // also NaN
    buckets[bucket(cls[k]!)]!.push(x, y);
    drawn++;
  }
  ctx.save();
  ctx.setLineDash([]);
  ctx.lineWidth = 0.75;
  ctx.strokeStyle = POINT_OUTLINE;
  const order = [TABLEAU10.length, ...TABLEAU10.keys()];
  for (const b of order) {
    const xy = buckets[b]!;
    if (xy.length === 0) continue;
    ctx.fillStyle = b < TABLEAU10.length ? TABLEAU10[b]! : UNLABELLED;
    ctx.beginPath();
    for (let p = 0; p < xy.length; p += 2) {
      ctx.moveTo(xy[p]! + r, xy[p + 1]!);
      ctx.arc(xy[p]!, xy[p + 1]!, r, 0, 2 * Math.PI);
    }
    ctx.fill();
    ctx.stroke();
  }
  ctx.restore();
  return drawn;
}
