/**
 * One frame: the held tiles and the failed ones on the field canvas (through the Renderer), then on the overlay
 * canvas the stretching directions, the axes, the data points and the zoom box, and the
 * colorbar for the colour limits in use; the traits say what is shown and how.
 */
import { HEIGHT, type Layout } from "./layout";
import { colourSettings, flag, type Model, quantityLabel } from "./model";
import { drawAxes } from "./overlays/axes";
import { drawColorbar } from "./overlays/colorbar";
import { drawData } from "./overlays/data";
import { directionSegments, drawDirections } from "./overlays/directions";
import type { DecodedData, Extent } from "./protocol";
import type { Renderer } from "./renderer";
import type { TileStore } from "./tiles";
import type { Viewport } from "./viewport";

/** What a frame shows besides the traits' settings. */
export interface Scene {
  view: Viewport;
  store: TileStore;
  /** The data points, once they have arrived. */
  data: DecodedData | null;
  /** The zoom box being drawn, in CSS pixels. */
  box: { x0: number; y0: number; x1: number; y1: number } | null;
}

/** Draw the frame now; returns whether data points are shown (the legend goes with them). */
export function drawScene(layout: Layout, renderer: Renderer, model: Model, scene: Scene): boolean {
  const { view, store, data, box } = scene;
  const settings = colourSettings(model);
  const failed = store
    .failures()
    .map((f) => store.extentOf(f.key))
    .filter((e): e is Extent => e !== null);
  const [lo, hi] = renderer.draw(view, store.drawOrder(), settings, failed);
  const ratio = window.devicePixelRatio || 1;
  const overlay = layout.overlay;
  overlay.width = Math.round(view.width * ratio);
  overlay.height = Math.round(view.height * ratio);
  const ctx = overlay.getContext("2d")!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const ink = layout.ink();
  if (flag(model, "show_directions", false)) drawDirections(ctx, directionSegments(view, store));
  drawAxes(ctx, view, ink);
  const showData = flag(model, "show_data", true);
  if (showData && data) drawData(ctx, view, data);
  if (box) {
    ctx.strokeStyle = ink;
    ctx.setLineDash([4, 3]);
    ctx.strokeRect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
  }
  drawColorbar(layout.colorbar, settings.cmap, lo, hi, quantityLabel(model), HEIGHT, ink);
  return showData && data !== null && data.count > 0;
}
