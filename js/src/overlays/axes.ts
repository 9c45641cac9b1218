/**
 * Axes with ticks in plane coordinates, drawn over the field: tick marks along the bottom (u)
 * and left (v) edges, each label beside its mark and apart from it (a mark touching a "1" reads
 * "–1"), labels clear of each other (where both axes' first labels meet in a corner, the u label
 * stays), with the digits the tick step needs, and a halo of the background colour so that they
 * read on any field colour and over the data points (drawn after them).
 */
import type { Viewport } from "../viewport";
import { niceTicks, tickLabel, tickStep } from "./ticks";

export const AXES_FONT = "11px sans-serif";
/** CSS pixels: the length of a tick mark. */
const TICK = 6;
/** CSS pixels between a tick mark and its label. */
const GAP = 3;
/** CSS pixels between a label and the canvas's edge. */
const PAD = 2;
/** CSS pixels a label keeps from the other labels and the other axis's marks. */
const CLEAR = 3;
/** CSS pixels between neighbouring u labels (fewer ticks are drawn until they fit). */
const SPACING = 8;
/** The halo: line widths (CSS pixels) around marks and around text, and its opacity. */
const MARK_HALO = 3;
const TEXT_HALO = 4;
const HALO_ALPHA = 0.6;

/** A rectangle in CSS pixels, (x, y) its top-left corner. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A tick label: the box of its text, and its text's baseline. */
export interface AxisLabel extends Box {
  axis: "u" | "v";
  value: number;
  text: string;
  baseline: number;
}

/** A tick mark: a 1-px line from (x0, y0) to (x1, y1), centred on the pixel grid. */
export interface TickMark {
  axis: "u" | "v";
  value: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** What the axes draw; the last drawn is `axes` of the widget's root element. */
export interface AxesLayout {
  ticks: TickMark[];
  labels: AxisLabel[];
}

/** The size of a text: advance width, height above and below the baseline. */
export interface TextSize {
  width: number;
  ascent: number;
  descent: number;
}

type View = Pick<Viewport, "u0" | "u1" | "v0" | "v1" | "width" | "height" | "toScreen">;

/** The gap between two boxes (negative where they overlap). */
function gap(a: Box, b: Box): number {
  const dx = Math.max(a.x - (b.x + b.width), b.x - (a.x + a.width));
  const dy = Math.max(a.y - (b.y + b.height), b.y - (a.y + a.height));
  return Math.max(dx, dy);
}

/** The box a tick mark's 1-px line covers. */
function markBox(t: TickMark): Box {
  const x = Math.min(t.x0, t.x1) - 0.5;
  const y = Math.min(t.y0, t.y1) - 0.5;
  return { x, y, width: Math.abs(t.x1 - t.x0) + 1, height: Math.abs(t.y1 - t.y0) + 1 };
}

/** A screen coordinate on the middle of its pixel, inside [0, size). */
const snap = (x: number, size: number) => Math.min(Math.max(Math.round(x), 0), size - 1) + 0.5;

/** Where the axes' marks and labels go on `view`, with texts measured by `measure`. */
export function layoutAxes(view: View, measure: (text: string) => TextSize): AxesLayout {
  const { width, height } = view;
  /** A label measured, then placed (top-left corner, on whole pixels: crisp glyphs). */
  const label = (
    axis: "u" | "v",
    value: number,
    step: number,
    place: (m: TextSize) => [x: number, top: number],
  ): AxisLabel => {
    const text = tickLabel(value, step);
    const m = measure(text);
    const [x, top] = place(m);
    const box = { x, y: top, width: m.width, height: m.ascent + m.descent };
    return { axis, value, text, ...box, baseline: top + m.ascent };
  };
  // u: centred above the marks (shifted inwards at the edges, clear of the v marks); fewer
  // ticks until neighbouring labels are SPACING apart
  let uTicks: TickMark[] = [];
  let uLabels: AxisLabel[] = [];
  for (let count = Math.max(2, Math.floor(width / 90)); count >= 2; count--) {
    const step = tickStep(view.u0, view.u1, count);
    uTicks = [];
    uLabels = [];
    for (const u of niceTicks(view.u0, view.u1, count)) {
      const [x] = view.toScreen(u, view.v0);
      const xs = snap(x, width);
      uTicks.push({ axis: "u", value: u, x0: xs, y0: height, x1: xs, y1: height - TICK });
      const l = label("u", u, step, (m) => [
        Math.round(Math.min(Math.max(x - m.width / 2, TICK + CLEAR), width - PAD - m.width)),
        Math.floor(height - TICK - GAP - m.ascent - m.descent),
      ]);
      uLabels.push(l);
    }
    if (uLabels.every((l, k) => k === 0 || gap(uLabels[k - 1]!, l) >= SPACING)) break;
  }
  const labels: AxisLabel[] = [];
  for (const l of uLabels) {
    if (labels.every((kept) => gap(kept, l) >= SPACING)) labels.push(l);
  }
  // v: at the left edge, just above the marks (below at the top edge); a label that would meet
  // a u label or mark is left out
  const vTicks: TickMark[] = [];
  const count = Math.max(2, Math.floor(height / 70));
  const step = tickStep(view.v0, view.v1, count);
  const uMarks = uTicks.map(markBox);
  for (const v of niceTicks(view.v0, view.v1, count)) {
    const [, y] = view.toScreen(view.u0, v);
    const ys = snap(y, height);
    vTicks.push({ axis: "v", value: v, x0: 0, y0: ys, x1: TICK, y1: ys });
    const l = label("v", v, step, (m) => {
      const above = Math.floor(ys - 0.5 - GAP - m.ascent - m.descent);
      return [PAD, above >= PAD ? above : Math.ceil(ys + 0.5 + GAP)];
    });
    if ([...labels, ...uMarks].every((b) => gap(b, l) >= CLEAR)) labels.push(l);
  }
  return { ticks: [...uTicks, ...vTicks], labels };
}

/** An offscreen canvas per overlay canvas, for the halo layer. */
const haloLayers = new WeakMap<HTMLCanvasElement, HTMLCanvasElement>();

/**
 * Draw the axes in `ink` with a halo of `halo` (the background colour); returns the layout.
 * The halo is one layer (so that where two halos meet they do not add up), laid under the ink
 * at {@link HALO_ALPHA}, and cut away under the glyphs: the text's pixels are ink over the field
 * as without a halo, the halo rings them.
 */
export function drawAxes(
  ctx: CanvasRenderingContext2D,
  view: Viewport,
  ink: string,
  halo: string,
): AxesLayout {
  ctx.save();
  ctx.font = AXES_FONT;
  const axes = layoutAxes(view, (text) => {
    const m = ctx.measureText(text);
    return {
      width: m.width,
      ascent: m.actualBoundingBoxAscent,
      descent: m.actualBoundingBoxDescent,
    };
  });
  const target = ctx.canvas;
  let layer = haloLayers.get(target);
  if (!layer) {
    layer = document.createElement("canvas");
    haloLayers.set(target, layer);
  }
  layer.width = target.width;
  layer.height = target.height;
  const h = layer.getContext("2d")!;
  h.setTransform(ctx.getTransform());
  h.font = AXES_FONT;
  h.strokeStyle = halo;
  h.lineJoin = "round";
  h.lineWidth = MARK_HALO;
  strokeMarks(h, axes.ticks);
  h.lineWidth = TEXT_HALO;
  for (const l of axes.labels) h.strokeText(l.text, l.x, l.baseline);
  h.globalCompositeOperation = "destination-out";
  for (const l of axes.labels) h.fillText(l.text, l.x, l.baseline);
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.globalAlpha = HALO_ALPHA;
  ctx.drawImage(layer, 0, 0);
  ctx.restore();
  ctx.strokeStyle = ink;
  ctx.fillStyle = ink;
  ctx.lineWidth = 1;
  strokeMarks(ctx, axes.ticks);
  for (const l of axes.labels) ctx.fillText(l.text, l.x, l.baseline);
  ctx.restore();
  return axes;
}

function strokeMarks(ctx: CanvasRenderingContext2D, ticks: readonly TickMark[]): void {
  ctx.beginPath();
  for (const t of ticks) {
    ctx.moveTo(t.x0, t.y0);
    ctx.lineTo(t.x1, t.y1);
  }
  ctx.stroke();
}
