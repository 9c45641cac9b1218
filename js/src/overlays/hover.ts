/** Hover read-out: u, v, the value and the predicted class under the cursor, from held tiles. */
import type { TileStore } from "../tiles";

export interface HoverReading {
  u: number;
  v: number;
  value: number | null;
  prediction: number | null;
}

/** Read the finest held tile at plane point (u, v); nulls where no tile holds it. */
export function readAt(store: TileStore, u: number, v: number, factor: number): HoverReading {
  const tile = store.at(u, v);
  if (!tile) return { u, v, value: null, prediction: null };
  const t = tile.message.tile_px;
  const [u0, u1, v0, v1] = tile.message.extent;
  const j = Math.min(t - 1, Math.max(0, Math.floor(((u - u0) / (u1 - u0)) * t)));
  const i = Math.min(t - 1, Math.max(0, Math.floor(((v - v0) / (v1 - v0)) * t)));
  const value = tile.ftle[i * t + j]!;
  return {
    u,
    v,
    value: Number.isNaN(value) ? null : value * factor,
    prediction: tile.prediction[i * t + j]!,
  };
}

export function hoverText(r: HoverReading, label: string): string {
  const fmt = (x: number) => (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(4) : x.toFixed(4));
  const value = r.value === null ? "–" : fmt(r.value);
  const cls = r.prediction === null ? "" : `  class ${r.prediction}`;
  return `u ${fmt(r.u)}  v ${fmt(r.v)}  ${label} ${value}${cls}`;
}
