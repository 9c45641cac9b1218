/**
 * Float tiles → pixels through a colormap LUT. A tile is coloured into its own small canvas
 * once per colour setting; a redraw only stretches those canvases onto the view, so pans and
 * zooms need no recolouring and colormap changes need no kernel round trip.
 */
import { applyLut, colormapLut, symmetricRange } from "./colormap";
import type { DecodedTile } from "./protocol";
import type { Viewport } from "./viewport";

export interface ColourSettings {
  cmap: string;
  vmin: number | null;
  vmax: number | null;
  /** Multiplies λ₁ (depth for "log_stretch", 1 for "lambda"). */
  factor: number;
}

export class Renderer {
  private images = new WeakMap<DecodedTile, { stamp: string; canvas: HTMLCanvasElement }>();

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** The colour limits in use: the settings', or symmetric about 0 over the tiles held. */
  limits(tiles: DecodedTile[], s: ColourSettings): [number, number] {
    if (s.vmin !== null && s.vmax !== null) return [s.vmin, s.vmax];
    const [lo, hi] = symmetricRange(
      tiles.map((t) => (t.message.vmin ?? NaN) * s.factor),
      tiles.map((t) => (t.message.vmax ?? NaN) * s.factor),
    );
    return [s.vmin ?? lo, s.vmax ?? hi];
  }

  draw(view: Viewport, tiles: DecodedTile[], s: ColourSettings): [number, number] {
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
    const [lo, hi] = this.limits(tiles, s);
    const stamp = `${s.cmap}|${lo}|${hi}`;
    for (const tile of tiles) {
      const image = this.image(tile, s, lo, hi, stamp);
      const [u0, u1, v0, v1] = tile.message.extent;
      const [x0, y0] = view.toScreen(u0, v1); // top-left corner is (u0, v1)
      const [x1, y1] = view.toScreen(u1, v0);
      ctx.drawImage(image, x0, y0, x1 - x0, y1 - y0);
    }
    return [lo, hi];
  }

  private image(tile: DecodedTile, s: ColourSettings, lo: number, hi: number, stamp: string) {
    const held = this.images.get(tile);
    if (held && held.stamp === stamp + `|${s.factor}`) return held.canvas;
    const t = tile.message.tile_px;
    const canvas = held?.canvas ?? document.createElement("canvas");
    canvas.width = t;
    canvas.height = t;
    const values = s.factor === 1 ? tile.ftle : tile.ftle.map((x) => x * s.factor);
    const pixels = new ImageData(t, t);
    applyLut(values, colormapLut(s.cmap), lo, hi, pixels.data, { width: t, height: t });
    canvas.getContext("2d")!.putImageData(pixels, 0, 0);
    this.images.set(tile, { stamp: stamp + `|${s.factor}`, canvas });
    return canvas;
  }
}
