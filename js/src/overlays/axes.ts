/** Axes with ticks in plane coordinates, drawn over the field. */
import type { Viewport } from "../viewport";
import { niceTicks, tickLabel } from "./ticks";

export function drawAxes(ctx: CanvasRenderingContext2D, view: Viewport, ink: string): void {
  ctx.save();
  ctx.strokeStyle = ink;
  ctx.fillStyle = ink;
  ctx.font = "11px sans-serif";
  ctx.lineWidth = 1;
  const { width, height } = view;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  for (const u of niceTicks(view.u0, view.u1, Math.max(2, Math.floor(width / 90)))) {
    const [x] = view.toScreen(u, view.v0);
    ctx.beginPath();
    ctx.moveTo(x, height);
    ctx.lineTo(x, height - 6);
    ctx.stroke();
    // labels at the edges are shifted inwards so that they stay whole
    ctx.fillText(tickLabel(u), Math.min(Math.max(x, 12), width - 12), height - 7);
  }
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  for (const v of niceTicks(view.v0, view.v1, Math.max(2, Math.floor(height / 70)))) {
    const [, y] = view.toScreen(view.u0, v);
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(6, y);
    ctx.stroke();
    ctx.fillText(tickLabel(v), 8, Math.min(Math.max(y, 7), height - 7));
  }
  ctx.restore();
}
