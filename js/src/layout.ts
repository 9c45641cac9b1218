/**
 * The widget's DOM: the root `.ftle-widget` with the toolbar on top, the field canvas
 * (`.ftle-field`) with the overlay canvas (`.ftle-overlay`) over it and the colorbar
 * (`.ftle-colorbar`) to its right, then the hover read-out (`.ftle-hover`) beside the hover
 * picture (`.ftle-input`), and the status line (`.ftle-status`) at the bottom.
 */
import type { AxesLayout } from "./overlays/axes";
import { COLORBAR_WIDTH } from "./overlays/colorbar";
import type { Timings } from "./session";

/** CSS pixels: the height of the field, its overlay and the colorbar. */
export const HEIGHT = 420;
/** CSS pixels: the side of the hover picture. */
const INPUT_PX = 64;
/** The status line's colour for errors. */
const ERROR_COLOUR = "#c00";

/** The root element, with the PNG composition as a method, the latency figures and the axes. */
export interface WidgetElement extends HTMLDivElement {
  composeImage(): HTMLCanvasElement;
  timings: Timings;
  /** The tick marks and label boxes (CSS pixels) of the last frame, null before the first. */
  axes: AxesLayout | null;
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
  /** Axes, data points, directions and the zoom box, over the field. */
  readonly overlay: HTMLCanvasElement;
  readonly colorbar: HTMLCanvasElement;
  /** The read-out under the cursor. */
  readonly hover: HTMLDivElement;
  /** The input under the cursor, for image inputs. */
  readonly picture: HTMLCanvasElement;
  private readonly status: HTMLDivElement;

  /** Build the DOM with `toolbar` on top, inside `el`. */
  constructor(el: HTMLElement, toolbar: HTMLElement) {
    const root = element(
      "div",
      "ftle-widget",
      "position:relative;width:100%;font:12px sans-serif;color:var(--jp-ui-font-color1,#222);",
    ) as unknown as WidgetElement;
    const row = element("div", "", "display:flex;align-items:flex-start;");
    const plot = element("div", "", `position:relative;flex:1;min-width:0;height:${HEIGHT}px;`);
    this.canvas = element(
      "canvas",
      "ftle-field",
      `display:block;width:100%;height:${HEIGHT}px;cursor:grab;touch-action:none;`,
    );
    this.overlay = element(
      "canvas",
      "ftle-overlay",
      `position:absolute;left:0;top:0;width:100%;height:${HEIGHT}px;pointer-events:none;`,
    );
    this.colorbar = element(
      "canvas",
      "ftle-colorbar",
      `width:${COLORBAR_WIDTH}px;height:${HEIGHT}px;flex:none;`,
    );
    plot.append(this.canvas, this.overlay);
    row.append(plot, this.colorbar);
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
    this.root = root;
  }

  /** The field's size in CSS pixels (512 wide while it is not laid out). */
  size(): [width: number, height: number] {
    return [Math.max(1, this.canvas.clientWidth || 512), HEIGHT];
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

  /** Show a line in the status line, red for an error. */
  setStatus(text: string, error: boolean): void {
    this.status.textContent = text;
    this.status.style.color = error ? ERROR_COLOUR : "";
  }

  /** Show or hide the hover picture. */
  showPicture(on: boolean): void {
    this.picture.style.display = on ? "" : "none";
  }

  remove(): void {
    this.root.remove();
  }
}
