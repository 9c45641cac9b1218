/** Hover read-out: u, v, the value and the predicted class under the cursor, from held tiles. */
import { type TileStore, pixelIndex } from "../tiles";

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
  const k = pixelIndex(tile, u, v);
  const value = tile.ftle[k]!;
  return {
    u,
    v,
    value: Number.isNaN(value) ? null : value * factor,
    prediction: tile.prediction[k]!,
  };
}

export function hoverText(r: HoverReading, label: string): string {
  const fmt = (x: number) => (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(4) : x.toFixed(4));
  const value = r.value === null ? "–" : fmt(r.value);
  const cls = r.prediction === null ? "" : `  class ${r.prediction}`;
  return `u ${fmt(r.u)}  v ${fmt(r.v)}  ${label} ${value}${cls}`;
}
