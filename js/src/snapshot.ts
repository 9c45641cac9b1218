/**
 * The view's picture in the saved widget state (the `snapshot` trait): once a view is complete
 * (the `progress` trait at done = total), the PNG download's picture (field, overlays, axes,
 * colorbar) goes into the trait as a data URL of at most {@link SNAPSHOT_BYTES}, downscaled
 * where larger, so that a notebook saved with its widget state (or exported with it) shows the
 * last view without a kernel. A display that opens with a snapshot and no tiles shows its field
 * part under the canvas until the first tile is painted: with a kernel the live view takes over
 * at once; without one the picture stays.
 */
import type { AnyModel } from "@anywidget/types";
import type { Layout } from "./layout";
import { progressOf, type Traits } from "./model";

/** The largest snapshot kept, in bytes of its data URL. */
export const SNAPSHOT_BYTES = 200_000;
/** A complete view is pictured this long after its last tile (later ones restart the wait). */
export const SNAPSHOT_DELAY_MS = 400;

/** `canvas` as a PNG data URL of at most `budget` characters: downscaled until it fits. */
export function pngWithin(canvas: HTMLCanvasElement, budget = SNAPSHOT_BYTES): string {
  let url = canvas.toDataURL("image/png");
  let source = canvas;
  for (let k = 0; k < 8 && url.length > budget; k++) {
    const scale = Math.max(0.25, Math.sqrt(budget / url.length) * 0.95);
    const smaller = document.createElement("canvas");
    smaller.width = Math.max(1, Math.floor(source.width * scale));
    smaller.height = Math.max(1, Math.floor(source.height * scale));
    smaller.getContext("2d")?.drawImage(source, 0, 0, smaller.width, smaller.height);
    source = smaller;
    url = smaller.toDataURL("image/png");
  }
  return url;
}

export class Snapshot {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private shown = false;
  private readonly onProgress = () => this.progressed();

  constructor(
    private readonly model: AnyModel<Traits>,
    private readonly layout: Layout,
    tilesHeld: boolean,
  ) {
    const saved = model.get("snapshot");
    if (!tilesHeld && typeof saved === "string" && saved.startsWith("data:image/png")) {
      layout.showStandIn(saved);
      this.shown = true;
    }
    model.on("change:progress", this.onProgress);
  }

  /** A frame was painted with `tiles` tiles held: the first tile ends the stand-in. */
  painted(tiles: number): void {
    if (this.shown && tiles > 0) {
      this.layout.showStandIn(null);
      this.shown = false;
    }
  }

  destroy(): void {
    clearTimeout(this.timer);
    this.model.off("change:progress", this.onProgress);
  }

  private progressed(): void {
    clearTimeout(this.timer);
    const p = progressOf(this.model);
    if (!p || p.total === 0 || p.done < p.total) return;
    this.timer = setTimeout(() => this.take(), SNAPSHOT_DELAY_MS);
  }

  private take(): void {
    const url = pngWithin(this.layout.root.composeImage()); // the PNG download's picture
    if (url === this.model.get("snapshot")) return;
    this.model.set("snapshot", url);
    this.model.save_changes();
  }
}
