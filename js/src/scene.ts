/**
 * One frame: the held tiles and the failed ones on the field canvas (through the Renderer), then on the overlay
 * canvas the stretching directions, the ridges, the data points, the axes and the zoom box, and the
 * colorbar for the colour limits in use; the traits say what is shown and how.
 */
import type { Layout } from "./layout";
import { type CheckedColours, flag, type Model } from "./model";
import { drawAxes } from "./overlays/axes";
import { drawColorbar } from "./overlays/colorbar";
import { drawData } from "./overlays/data";
import { directionSegments, drawDirections } from "./overlays/directions";
import { drawRidges } from "./overlays/ridges";
import type { DecodedData, DecodedRidges, Extent } from "./protocol";
import type { Renderer } from "./renderer";
import type { TileStore } from "./tiles";
import type { Viewport } from "./viewport";

/** What a frame shows besides the traits' settings. */
export interface Scene {
  view: Viewport;
  store: TileStore;
  /** The data points, once they have arrived. */
  data: DecodedData | null;
  /** The ridges of the latest complete view, once traced (drawn with the show_ridges trait). */
  ridges: DecodedRidges | null;
  /** The zoom box being drawn, in CSS pixels. */
  box: { x0: number; y0: number; x1: number; y1: number } | null;
  /** The colour traits, checked (`ColourTraits.read` of model.ts). */
  colours: CheckedColours;
}

/** What a frame showed. */
export interface Shown {
  /** Whether data points are shown (the legend goes with them). */
  legend: boolean;
  /** The colour notes, and one for a limit set beyond the automatic other one (then unused). */
  notes: string[];
  /** The colour limits in use. */
  limits: [number, number];
}

/** Draw the frame now. */
export function drawScene(layout: Layout, renderer: Renderer, model: Model, scene: Scene): Shown {
  const { view, store, data, ridges, box, colours } = scene;
  const { settings, label } = colours;
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
  const segments = flag(model, "show_directions", false) ? directionSegments(view, store) : [];
  drawDirections(ctx, segments);
  layout.root.directions = segments.length;
  const showRidges = flag(model, "show_ridges", false);
  if (showRidges) drawRidges(ctx, view, ridges);
  layout.root.ridges = showRidges ? (ridges?.lines.length ?? 0) : 0;
  const showData = flag(model, "show_data", true);
  if (showData && data) drawData(ctx, view, data);
  layout.root.axes = drawAxes(ctx, view, ink, layout.background()); // over the data points
  if (box) {
    ctx.strokeStyle = ink;
    ctx.setLineDash([4, 3]);
    ctx.strokeRect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
  }
  drawColorbar(layout.colorbar, settings.cmap, lo, hi, label, layout.height, ink);
  const notes = [...colours.notes];
  if (settings.vmin !== null && settings.vmin !== lo) {
    notes.push(`vmin ${settings.vmin} is not below the automatic vmax ${hi}: automatic limits`);
  }
  if (settings.vmax !== null && settings.vmax !== hi) {
    notes.push(`vmax ${settings.vmax} is not above the automatic vmin ${lo}: automatic limits`);
  }
  return { legend: showData && data !== null && data.count > 0, notes, limits: [lo, hi] };
}
