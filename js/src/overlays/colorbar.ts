/** The colorbar: the LUT as a vertical strip (top = vmax) with ticks and the quantity's name. */
import { colormapLut } from "../colormap";
import { niceTicks, tickLabel, tickStep } from "./ticks";

export const COLORBAR_WIDTH = 70;

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
  const top = 18;
  const bottom = height - 8;
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
}
