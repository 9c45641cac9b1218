/**
 * Setting the colour limits on the colorbar: a drag in the strip's upper half moves vmax, in its
 * lower half vmin (that end follows the pointer: down lowers it), and a click on a limit written
 * above or below the strip (`.ftle-limit[data-limit=vmax|vmin]`) opens a small input
 * (`.ftle-limit-input`) to type it: Enter sets it, Escape closes. Both set the vmin and vmax
 * traits together (fixing the other limit where it was automatic); Python validates them.
 */
import { type Model, setLimits } from "../model";
import { COLORBAR_WIDTH, LIMIT_LINE, limitLabel, limitLines, stripOf } from "./colorbar";

export type Limit = "vmin" | "vmax";
/** A dragged limit stops this fraction of the range short of the other. */
export const MIN_SPAN = 0.01;

/** A drag of one end of the strip, from `y0` (CSS pixels), with the limits at its start. */
export interface LimitDrag {
  end: Limit;
  y0: number;
  lo: number;
  hi: number;
}

/**
 * The limit a press at `y` (CSS pixels from the colorbar's top) grabs: vmax in the strip's upper
 * half, vmin in its lower half; null off the strip.
 */
export function grab(y: number, height: number): Limit | null {
  const { top, bottom } = stripOf(height);
  if (y < top - 2 || y > bottom + 2) return null;
  return y < 0.5 * (top + bottom) ? "vmax" : "vmin";
}

/**
 * The limits [vmin, vmax] when the pointer of `drag` is at `y`: the grabbed end moves with it
 * (the strip's length is the range at the drag's start), the other stays; the grabbed one stops
 * {@link MIN_SPAN} of that range short of the other.
 */
export function dragLimits(drag: LimitDrag, y: number, height: number): [number, number] {
  const { top, bottom } = stripOf(height);
  const span = drag.hi - drag.lo;
  const shift = ((y - drag.y0) / (bottom - 1 - top)) * span; // down: lower values
  if (drag.end === "vmax") return [drag.lo, Math.max(drag.hi - shift, drag.lo + MIN_SPAN * span)];
  return [Math.min(drag.lo - shift, drag.hi - MIN_SPAN * span), drag.hi];
}

/** The limits [vmin, vmax] a typed `end` gives with the others in use [lo, hi], or why not. */
export function typedLimits(
  text: string,
  end: Limit,
  lo: number,
  hi: number,
): [number, number] | string {
  const trimmed = text.trim();
  const x = trimmed === "" ? NaN : Number(trimmed);
  if (!Number.isFinite(x)) return `${end} must be a finite number, not '${trimmed}'`;
  const [vmin, vmax] = end === "vmin" ? [x, hi] : [lo, x];
  return vmin < vmax ? [vmin, vmax] : `vmin must be below vmax, not ${vmin} ≥ ${vmax}`;
}

/** What the limit controls need from the widget. */
export interface LimitHooks {
  /** The colour limits in use (the last frame's). */
  limits(): [number, number];
  /** The height of the colorbar, CSS pixels. */
  height(): number;
  /** The limits were set: redraw. */
  changed(): void;
}

const LABEL =
  "position:absolute;left:0;padding:0 2px;border:0;margin:0;background:transparent;" +
  `color:transparent;width:${COLORBAR_WIDTH}px;height:${LIMIT_LINE}px;font:10px sans-serif;` +
  "text-align:right;cursor:text;";

export class LimitControls {
  private drag: LimitDrag | null = null;
  private moved = false;
  private input: HTMLInputElement | null = null;
  private readonly labels: Record<Limit, HTMLButtonElement>;
  private readonly unlisten: (() => void)[];

  /** Listen on `canvas` (the colorbar) and put the limit labels into `box`, around it. */
  constructor(
    private readonly model: Model,
    private readonly canvas: HTMLCanvasElement,
    private readonly box: HTMLElement,
    private readonly hooks: LimitHooks,
  ) {
    const label = (end: Limit) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "ftle-limit";
      b.dataset.limit = end;
      b.title = `${end}: click to type it, or drag the colorbar's ${end === "vmax" ? "upper" : "lower"} half`;
      b.addEventListener("click", () => this.edit(end));
      box.append(b);
      return b;
    };
    this.labels = { vmax: label("vmax"), vmin: label("vmin") };
    const on = <K extends keyof HTMLElementEventMap>(
      type: K,
      handler: (e: HTMLElementEventMap[K]) => void,
    ) => {
      canvas.addEventListener(type, handler);
      return () => canvas.removeEventListener(type, handler);
    };
    this.unlisten = [
      on("pointerdown", this.onDown),
      on("pointermove", this.onMove),
      on("pointerup", this.onUp),
    ];
    this.show(...hooks.limits());
  }

  /** Write the limits in use into the labels (each frame), placed for the current height. */
  show(lo: number, hi: number): void {
    const lines = limitLines(this.hooks.height());
    const place = (end: Limit, top: number, value: number) => {
      const b = this.labels[end];
      b.style.cssText = `${LABEL}top:${top}px;`;
      b.textContent = limitLabel(value);
    };
    place("vmax", lines.vmax, hi);
    place("vmin", lines.vmin, lo);
    if (this.input) this.input.style.top = this.labels[this.input.dataset.limit as Limit].style.top;
  }

  destroy(): void {
    for (const off of this.unlisten) off();
    this.close();
    this.labels.vmax.remove();
    this.labels.vmin.remove();
  }

  /** Open the input for `end`, holding its value in use. */
  private edit(end: Limit): void {
    this.close();
    const [lo, hi] = this.hooks.limits();
    const input = document.createElement("input");
    input.type = "text";
    input.className = "ftle-limit-input";
    input.dataset.limit = end;
    input.value = String(end === "vmin" ? lo : hi);
    input.setAttribute("aria-label", end);
    input.style.cssText =
      `position:absolute;left:0;top:${this.labels[end].style.top};width:${COLORBAR_WIDTH}px;` +
      "box-sizing:border-box;font:11px sans-serif;padding:0 2px;";
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.commit(input, false);
      else if (e.key === "Escape") this.close();
    });
    input.addEventListener("blur", () => this.commit(input, true));
    this.box.append(input);
    this.input = input;
    input.focus();
    input.select();
  }

  /** Set the typed limit; a bad value keeps the input open and says why (closed on `leaving`). */
  private commit(input: HTMLInputElement, leaving: boolean): void {
    if (input !== this.input) return;
    const [lo, hi] = this.hooks.limits();
    const end = input.dataset.limit as Limit;
    const limits = typedLimits(input.value, end, lo, hi);
    if (typeof limits === "string") {
      if (leaving) {
        this.close();
        return;
      }
      input.setAttribute("aria-invalid", "true");
      input.title = limits;
      input.style.outline = "2px solid #c00";
      return;
    }
    this.close();
    setLimits(this.model, ...limits);
    this.hooks.changed();
  }

  private close(): void {
    const input = this.input;
    this.input = null;
    input?.remove();
  }

  private y(e: PointerEvent): number {
    return e.clientY - this.canvas.getBoundingClientRect().top;
  }

  private readonly onDown = (e: PointerEvent) => {
    const y = this.y(e);
    const end = grab(y, this.hooks.height());
    if (!end) return;
    this.canvas.setPointerCapture?.(e.pointerId);
    const [lo, hi] = this.hooks.limits();
    this.drag = { end, y0: y, lo, hi };
    this.moved = false;
  };

  private readonly onMove = (e: PointerEvent) => {
    if (!this.drag) return;
    this.moved = true;
    setLimits(this.model, ...dragLimits(this.drag, this.y(e), this.hooks.height()), false);
    this.hooks.changed();
  };

  private readonly onUp = () => {
    if (this.drag && this.moved) this.model.save_changes(); // Python hears of the drag's end
    this.drag = null;
  };
}
