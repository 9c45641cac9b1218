/**
 * Float tiles → pixels through a colormap LUT. A tile is coloured into its own small canvas
 * once per colour setting; a redraw only stretches those that meet the view onto it, so pans and
 * zooms need no recolouring (unless the automatic limits, over what is shown, change) and
 * colormap changes need no kernel round trip. Tiles that failed
 * to compute are hatched grey over whatever stands in for them. The decision boundary is marked
 * across tile edges too: a tile's last column and top row are compared with the first column and
 * row of its right and upper neighbours (same level), so the line has no gaps at the seams.
 */
import { applyLut, colormapLut } from "./colormap";
import { shownExtremes } from "./fit";
import { type DecodedTile, type Extent, keyString } from "./protocol";
import { automaticRange, type Quantity, tileValues } from "./quantities";
import type { Viewport } from "./viewport";

export interface ColourSettings {
  cmap: string;
  vmin: number | null;
  vmax: number | null;
  /** What is shown: tiles without its values (λ₂, λ_min not computed) are not drawn. */
  quantity: Quantity;
  /** The depth of "log_stretch" for a tile that does not carry its own (else unused). */
  factor: number;
  /** Mark the decision boundary: pixels whose predicted class differs from a neighbour's. */
  boundary: boolean;
}

/** The colour of decision-boundary pixels. */
export const BOUNDARY_RGBA = [25, 25, 25, 255] as const;

/** A failed tile: flat grey crossed by darker diagonal stripes (CSS pixels apart). */
export const FAILED_FILL = "rgb(160, 160, 160)";
export const FAILED_STRIPE = "rgb(96, 96, 96)";
export const FAILED_STRIPE_SPACING = 8;

/** The tiles whose edge pixels meet a tile's last column (`right`) and top row (`up`). */
export interface Neighbours {
  right: DecodedTile | null;
  up: DecodedTile | null;
}

/**
 * Each tile's right and upper neighbours among `tiles`: the tiles (z, i, j + 1) and (z, i + 1, j)
 * of the same size and model version (another version's predictions are not compared).
 */
export function boundaryNeighbours(tiles: readonly DecodedTile[]): Map<DecodedTile, Neighbours> {
  const byKey = new Map(tiles.map((t) => [keyString(t.key), t]));
  const next = (tile: DecodedTile, di: number, dj: number) => {
    const [z, i, j] = tile.key;
    const n = byKey.get(keyString([z, i + di, j + dj]));
    const same =
      n?.message.tile_px === tile.message.tile_px &&
      n.message.model_version === tile.message.model_version;
    return same ? n : null;
  };
  return new Map(tiles.map((t) => [t, { right: next(t, 0, 1), up: next(t, 1, 0) }]));
}

export class Renderer {
  private images = new WeakMap<DecodedTile, { stamp: string; canvas: HTMLCanvasElement }>();
  /** A number per tile seen, for the stamps of the images that read its edge pixels. */
  private ids = new WeakMap<DecodedTile, number>();
  private lastId = 0;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /**
   * The colour limits in use: the settings', or symmetric about 0 over what is shown (the pixels
   * of `tiles` in `extent`, each from the finest tile holding it: a tile off screen does not
   * widen them; [0, max] for a non-negative quantity, see `automaticRange`); where one limit is
   * set and lies beyond the automatic other one, the automatic limits.
   */
  limits(tiles: readonly DecodedTile[], s: ColourSettings, extent: Extent): [number, number] {
    if (s.vmin !== null && s.vmax !== null) return [s.vmin, s.vmax];
    const read = (t: DecodedTile) => tileValues(t, s.quantity, s.factor);
    const shown = shownExtremes(tiles, extent, read) ?? [NaN, NaN];
    const [lo, hi] = automaticRange(shown[0], shown[1], s.quantity);
    const mixed: [number, number] = [s.vmin ?? lo, s.vmax ?? hi];
    return mixed[0] < mixed[1] ? mixed : [lo, hi];
  }

  /**
   * Draw those of `tiles` (coarse to fine) that meet the view, then hatch the `failed` extents;
   * returns the colour limits.
   */
  draw(
    view: Viewport,
    tiles: DecodedTile[],
    s: ColourSettings,
    failed: readonly Extent[] = [],
  ): [number, number] {
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(view.width * ratio));
    const h = Math.max(1, Math.round(view.height * ratio));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    const ctx = this.canvas.getContext("2d")!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, view.width, view.height);
    ctx.imageSmoothingEnabled = false;
    const [lo, hi] = this.limits(tiles, s, view.extent);
    const stamp = `${s.cmap}|${lo}|${hi}|${s.boundary}|${s.factor}|${s.quantity}`;
    const neighbours = s.boundary ? boundaryNeighbours(tiles) : null;
    const [eu0, eu1, ev0, ev1] = view.extent;
    for (const tile of tiles) {
      const [u0, u1, v0, v1] = tile.message.extent;
      if (!(u0 < eu1 && u1 > eu0 && v0 < ev1 && v1 > ev0)) continue; // off screen: not coloured
      const values = tileValues(tile, s.quantity, s.factor);
      if (values === null) continue; // computed before the quantity needed λ₂, λ_min
      const image = this.image(tile, values, s, lo, hi, stamp, neighbours?.get(tile) ?? null);
      const [x0, y0] = view.toScreen(u0, v1); // top-left corner is (u0, v1)
      const [x1, y1] = view.toScreen(u1, v0);
      ctx.drawImage(image, x0, y0, x1 - x0, y1 - y0);
    }
    for (const extent of failed) hatch(ctx, view, extent);
    return [lo, hi];
  }

  private image(
    tile: DecodedTile,
    shown: Float32Array,
    s: ColourSettings,
    lo: number,
    hi: number,
    colours: string,
    neighbours: Neighbours | null,
  ) {
    // the image changes with the colours, and (boundary marked) with the neighbours held
    const stamp = neighbours
      ? `${colours}|${this.id(neighbours.right)}|${this.id(neighbours.up)}`
      : colours;
    const held = this.images.get(tile);
    if (held && held.stamp === stamp) return held.canvas;
    const t = tile.message.tile_px;
    const canvas = held?.canvas ?? document.createElement("canvas");
    canvas.width = t;
    canvas.height = t;
    const pixels = new ImageData(t, t);
    applyLut(shown, colormapLut(s.cmap), lo, hi, pixels.data, { width: t, height: t });
    if (neighbours) {
      const { right, up } = neighbours;
      markBoundary(tile.prediction, t, pixels.data, {
        right: right?.prediction ?? null,
        up: up?.prediction ?? null,
      });
    }
    canvas.getContext("2d")!.putImageData(pixels, 0, 0);
    this.images.set(tile, { stamp, canvas });
    return canvas;
  }

  private id(tile: DecodedTile | null): number {
    if (!tile) return 0;
    let id = this.ids.get(tile);
    if (id === undefined) {
      id = ++this.lastId;
      this.ids.set(tile, id);
    }
    return id;
  }
}

/** Hatch a failed tile's extent: flat grey, darker stripes at 45°, clipped to the tile. */
function hatch(ctx: CanvasRenderingContext2D, view: Viewport, extent: Extent): void {
  const [u0, u1, v0, v1] = extent;
  const [x0, y0] = view.toScreen(u0, v1);
  const [x1, y1] = view.toScreen(u1, v0);
  const left = Math.max(x0, 0);
  const top = Math.max(y0, 0);
  const right = Math.min(x1, view.width);
  const bottom = Math.min(y1, view.height);
  if (!(right > left && bottom > top)) return;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, right - left, bottom - top);
  ctx.clip();
  ctx.fillStyle = FAILED_FILL;
  ctx.fillRect(left, top, right - left, bottom - top);
  ctx.strokeStyle = FAILED_STRIPE;
  ctx.lineWidth = 2;
  ctx.beginPath();
  const d = FAILED_STRIPE_SPACING;
  // lines x + y = c, every d pixels along x, anchored at the screen origin so they stay put
  for (let c = Math.floor((left + top) / d) * d; c <= right + bottom; c += d) {
    ctx.moveTo(c - top, top);
    ctx.lineTo(c - bottom, bottom);
  }
  ctx.stroke();
  ctx.restore();
}

/**
 * Paint pixels whose class differs from the next pixel's along u or v (rows flipped: row 0 of
 * the tile is its bottom, row 0 of the image its top). The last column's next pixels are the
 * first column of `neighbours.right` and the top row's the bottom row of `neighbours.up`
 * (predictions of tiles of the same size), where given: the line goes on across the seams.
 */
export function markBoundary(
  prediction: Float32Array,
  t: number,
  out: Uint8ClampedArray,
  neighbours: { right?: Float32Array | null; up?: Float32Array | null } = {},
): void {
  const { right: east = null, up: north = null } = neighbours;
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < t; j++) {
      const p = prediction[i * t + j]!;
      const next = j + 1 < t ? prediction[i * t + j + 1] : east?.[i * t];
      const above = i + 1 < t ? prediction[(i + 1) * t + j] : north?.[j];
      const right = next !== undefined && next !== p;
      const up = above !== undefined && above !== p;
      if (right || up) out.set(BOUNDARY_RGBA, 4 * ((t - 1 - i) * t + j));
    }
  }
}
