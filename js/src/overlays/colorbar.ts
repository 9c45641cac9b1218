/**
 * The colorbar: the LUT as a vertical strip (top = vmax) with ticks, the quantity's name on top
 * and the colour limits in use written above (vmax) and below (vmin) the strip.
 */
import { colormapLut } from "../colormap";
import { niceTicks, tickLabel, tickStep } from "./ticks";

export const COLORBAR_WIDTH = 70;
/** CSS pixels: the quantity's name on the first line, vmax on the second, then the strip. */
const STRIP_TOP = 32;
/** CSS pixels below the strip: the line of vmin. */
const STRIP_BELOW = 22;
/** The lines the limits are written on (CSS pixels from the top; {@link LIMIT_LINE} tall). */
export const LIMIT_LINE = 14;

/** The strip's rows [top, bottom) on a colorbar `height` CSS pixels tall. */
export function stripOf(height: number): { top: number; bottom: number } {
  return { top: STRIP_TOP, bottom: height - STRIP_BELOW };
}

/** Where the limits are written: the top of vmax's line and of vmin's, CSS pixels. */
export function limitLines(height: number): { vmax: number; vmin: number } {
  const { top, bottom } = stripOf(height);
  return { vmax: top - LIMIT_LINE - 2, vmin: bottom + 4 };
}

/** A colour limit as the colorbar writes it: 4 significant digits, powers of ten if needed. */
export function limitLabel(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return x.toExponential(2);
  return `${+x.toPrecision(4)}`;
}

export function drawColorbar(
  canvas: HTMLCanvasElement,
  cmap: string,
  lo: number,
  hi: number,
  label: string,
  height: number,
  ink: string,
): void {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(COLORBAR_WIDTH * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, COLORBAR_WIDTH, height);
  const { top, bottom } = stripOf(height);
  const lut = colormapLut(cmap);
  for (let y = top; y < bottom; y++) {
    const k = Math.min(255, Math.max(0, Math.floor(((bottom - 1 - y) / (bottom - top - 1)) * 256)));
    ctx.fillStyle = `rgb(${lut[4 * k]},${lut[4 * k + 1]},${lut[4 * k + 2]})`;
    ctx.fillRect(4, y, 14, 1);
  }
  ctx.strokeStyle = ink;
  ctx.fillStyle = ink;
  ctx.strokeRect(3.5, top - 0.5, 15, bottom - top + 1);
  ctx.font = "11px sans-serif";
  ctx.textBaseline = "middle";
  const step = tickStep(lo, hi, 5);
  for (const t of niceTicks(lo, hi, 5)) {
    const y = top + ((hi - t) / (hi - lo)) * (bottom - top - 1);
    ctx.beginPath();
    ctx.moveTo(18, y);
    ctx.lineTo(22, y);
    ctx.stroke();
    ctx.fillText(tickLabel(t, step), 24, y);
  }
  ctx.textBaseline = "top";
  ctx.fillText(label, 2, 2);
  const lines = limitLines(height);
  ctx.font = "10px sans-serif";
  ctx.textAlign = "right"; // clear of the strip
  ctx.fillText(limitLabel(hi), COLORBAR_WIDTH - 2, lines.vmax + 2);
  ctx.fillText(limitLabel(lo), COLORBAR_WIDTH - 2, lines.vmin + 2);
  ctx.textAlign = "left";
}
