/**
 * The widget's DOM: the root `.ftle-widget` with the toolbar on top, the field canvas
 * (`.ftle-field`) with the overlay canvas (`.ftle-overlay`) and the progress bar
 * (`.ftle-progress`, thin, along the top edge, while tiles are pending) over it and the colorbar
 * (`.ftle-colorbar`, in `.ftle-colorbar-box` with its limit labels) to its right, then the hover
 * read-out (`.ftle-hover`) beside the hover picture (`.ftle-input`), and the status line
 * (`.ftle-status`) at the bottom. The field and colorbar are {@link Layout.height} tall (the
 * `height` trait); the width follows the container.
 */
import { DEFAULT_HEIGHT } from "./model";
import type { AxesLayout } from "./overlays/axes";
import { COLORBAR_WIDTH } from "./overlays/colorbar";
import type { Timings } from "./session";

/** What the progress bar says for each phase of the work left. */
const PHASES: Readonly<Record<string, string>> = {
  preview: "a preview",
  coarse: "a coarse pass",
  view: "the view",
  margin: "the margin around the view",
};
/** CSS pixels: the side of the hover picture. */
const INPUT_PX = 64;
/** The status line's colour for errors. */
const ERROR_COLOUR = "#c00";
/** The status line while the saved picture stands in for the view (snapshot.ts). */
export const STAND_IN_NOTE =
  "the saved picture of this view: it comes alive (pan, zoom, hover) with a running kernel";

/**
 * The root element, with the PNG composition as a method, the latency figures, the axes and the
 * numbers of direction segments and ridges drawn.
 */
export interface WidgetElement extends HTMLDivElement {
  composeImage(): HTMLCanvasElement;
  timings: Timings;
  /** The tick marks and label boxes (CSS pixels) of the last frame, null before the first. */
  axes: AxesLayout | null;
  /** How many direction segments the last frame drew (0 with the overlay off). */
  directions: number;
  /** How many ridges the last frame drew (0 with the overlay off or before any arrived). */
  ridges: number;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  css: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  e.style.cssText = css;
  return e;
}

export class Layout {
  readonly root: WidgetElement;
  /** The field: the Renderer draws on it, the gestures listen on it. */
  readonly canvas: HTMLCanvasElement;
  /** Axes, data points, directions, ridges and the zoom box, over the field. */
  readonly overlay: HTMLCanvasElement;
  readonly colorbar: HTMLCanvasElement;
  /** The colorbar and the limit labels over it. */
  readonly colorbarBox: HTMLDivElement;
  /** The progress bar's track and its fill. */
  readonly progress: HTMLDivElement;
  private readonly progressFill: HTMLDivElement;
  private readonly plot: HTMLDivElement;
  /** The field and the colorbar, side by side. */
  private readonly row: HTMLDivElement;
  /** A saved picture shown over the plot row until tiles arrive (snapshot.ts). */
  private standIn: HTMLDivElement | null = null;
  /** CSS pixels: the height of the field, its overlay and the colorbar. */
  height: number;
  /** The read-out under the cursor. */
  readonly hover: HTMLDivElement;
  /** The input under the cursor, for image inputs. */
  readonly picture: HTMLCanvasElement;
  private readonly status: HTMLDivElement;
  /** The last status line asked for (shown again when the stand-in goes). */
  private lastStatus: [string, boolean] = ["", false];

  /** Build the DOM with `toolbar` on top, inside `el`; the field `height` CSS pixels tall. */
  constructor(el: HTMLElement, toolbar: HTMLElement, height = DEFAULT_HEIGHT) {
    this.height = height;
    const root = element(
      "div",
      "ftle-widget",
      "position:relative;width:100%;font:12px sans-serif;color:var(--jp-ui-font-color1,#222);",
    ) as unknown as WidgetElement;
    const row = element("div", "", "position:relative;display:flex;align-items:flex-start;");
    this.row = row;
    const plot = element("div", "", `position:relative;flex:1;min-width:0;height:${height}px;`);
    this.plot = plot;
    this.canvas = element(
      "canvas",
      "ftle-field",
      `display:block;width:100%;height:${height}px;cursor:grab;touch-action:none;`,
    );
    this.overlay = element(
      "canvas",
      "ftle-overlay",
      `position:absolute;left:0;top:0;width:100%;height:${height}px;pointer-events:none;`,
    );
    this.colorbar = element(
      "canvas",
      "ftle-colorbar",
      `display:block;width:${COLORBAR_WIDTH}px;height:${height}px;cursor:ns-resize;touch-action:none;`,
    );
    this.colorbarBox = element("div", "ftle-colorbar-box", "position:relative;flex:none;");
    this.colorbarBox.append(this.colorbar);
    this.progress = element(
      "div",
      "ftle-progress",
      "position:absolute;left:0;top:0;width:100%;height:3px;display:none;pointer-events:none;" +
        "background:rgba(128,128,128,0.25);",
    );
    this.progress.setAttribute("role", "progressbar");
    this.progressFill = element(
      "div",
      "ftle-progress-fill",
      "height:100%;width:0;background:var(--jp-brand-color1,#1976d2);",
    );
    this.progress.append(this.progressFill);
    plot.append(this.canvas, this.overlay, this.progress);
    row.append(plot, this.colorbarBox);
    this.status = element("div", "ftle-status", "min-height:1.4em;padding:2px 4px;");
    const info = element("div", "", "display:flex;align-items:flex-start;gap:8px;");
    this.hover = element(
      "div",
      "ftle-hover",
      "flex:1;min-height:1.4em;padding:2px 4px;font-family:monospace;",
    );
    this.picture = element(
      "canvas",
      "ftle-input",
      `width:${INPUT_PX}px;height:${INPUT_PX}px;flex:none;image-rendering:pixelated;` +
        "margin:2px 4px;border:1px solid var(--jp-border-color1,#bdbdbd);",
    );
    this.picture.width = this.picture.height = 1;
    this.picture.title = "The input under the cursor";
    info.append(this.hover, this.picture);
    root.append(toolbar, row, info, this.status);
    el.appendChild(root);
    root.axes = null;
    root.directions = 0;
    root.ridges = 0;
    this.root = root;
  }

  /** The field's size in CSS pixels (512 wide while it is not laid out). */
  size(): [width: number, height: number] {
    return [Math.max(1, this.canvas.clientWidth || 512), this.height];
  }

  /** Make the field, its overlay and the colorbar `height` CSS pixels tall. */
  setHeight(height: number): void {
    if (height === this.height) return;
    this.height = height;
    for (const e of [this.plot, this.canvas, this.overlay, this.colorbar]) {
      e.style.height = `${height}px`;
    }
  }

  /**
   * Show `done` of `total` tiles as the progress bar's fill, with the phase of the work left
   * (`data-phase`, and in its title); hidden when nothing is pending.
   */
  setProgress(done: number, total: number, phase: string): void {
    const pending = total > 0 && done < total;
    this.progress.style.display = pending ? "" : "none";
    if (!pending) return;
    const fraction = Math.min(1, Math.max(0, done / total));
    this.progressFill.style.width = `${(100 * fraction).toFixed(3)}%`;
    this.progress.dataset.phase = phase;
    this.progress.setAttribute("aria-valuemin", "0");
    this.progress.setAttribute("aria-valuemax", String(total));
    this.progress.setAttribute("aria-valuenow", String(done));
    const what = PHASES[phase];
    const text = `${done}/${total} tiles`;
    this.progress.title = what ? `computing ${what}: ${text}` : text;
    this.progress.setAttribute("aria-valuetext", this.progress.title);
  }

  /** Canvas position (CSS pixels from its top-left corner) of a client position. */
  local(clientX: number, clientY: number): [x: number, y: number] {
    const r = this.canvas.getBoundingClientRect();
    return [clientX - r.left, clientY - r.top];
  }

  /** The theme's text colour (JupyterLab's, else dark grey). */
  ink(): string {
    return getComputedStyle(this.root).getPropertyValue("--jp-ui-font-color1").trim() || "#222";
  }

  /** The theme's background colour (JupyterLab's, else white). */
  background(): string {
    return getComputedStyle(this.root).getPropertyValue("--jp-layout-color1").trim() || "#ffffff";
  }

  /** Show a line in the status line, red for an error (the stand-in's note while it shows). */
  setStatus(text: string, error: boolean): void {
    if (text !== STAND_IN_NOTE) this.lastStatus = [text, error];
    this.status.textContent = this.standIn && !error ? STAND_IN_NOTE : text;
    this.status.style.color = error ? ERROR_COLOUR : "";
  }

  /** Show or hide the hover picture. */
  showPicture(on: boolean): void {
    this.picture.style.display = on ? "" : "none";
  }

  /**
   * Show the saved picture `url` (the PNG download's: the field, its axes and the colorbar, as
   * tall as the field) over the whole plot row, on the background, left-aligned, until the
   * first tile is painted; null removes it. It covers the live axes and colorbar, which would
   * describe another extent where the row is wider than the saved view; pointer events go
   * through. While it shows, the status line says that it is a saved picture.
   */
  showStandIn(url: string | null): void {
    const shown = this.standIn !== null;
    this.standIn?.remove();
    this.standIn = null;
    if (shown) this.setStatus(...this.lastStatus); // the status it stood over
    if (!url) return;
    const cover = element(
      "div",
      "ftle-snapshot",
      "position:absolute;left:0;top:0;right:0;bottom:0;z-index:1;overflow:hidden;" +
        `pointer-events:none;background:${this.background()};`,
    );
    const picture = element("img", "", "display:block;height:100%;width:auto;max-width:none;");
    picture.src = url;
    picture.alt = "The saved picture of this view";
    cover.append(picture);
    this.row.append(cover);
    this.standIn = cover;
    this.setStatus(STAND_IN_NOTE, false);
  }

  remove(): void {
    this.root.remove();
  }
}
