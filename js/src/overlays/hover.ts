/**
 * Hover read-out: u, v, the value and the predicted class under the cursor, from held tiles, and
 * whether that tile was computed in float64 (deep zoom).
 */
import type { TileMessage } from "../protocol";
import { type Quantity, tileValues } from "../quantities";
import { pixelIndex, type TileStore } from "../tiles";
import { coordinateText } from "./ticks";

export interface HoverReading {
  u: number;
  v: number;
  value: number | null;
  prediction: number | null;
  /** The precision of the tile read (null where no tile holds the point). */
  dtype: TileMessage["dtype"] | null;
}

/**
 * Read the finest held tile at plane point (u, v) that has the shown quantity (λ₁ by default),
 * its value (log Λ₁ with the tile's depth, `factor` for one without); nulls where no tile holds it.
 */
export function readAt(
  store: TileStore,
  u: number,
  v: number,
  shown: { factor: number; quantity?: Quantity },
): HoverReading {
  const quantity = shown.quantity ?? "lambda";
  const tile = store.at(u, v, (t) => tileValues(t, quantity, shown.factor) !== null);
  if (!tile) return { u, v, value: null, prediction: null, dtype: null };
  const k = pixelIndex(tile, u, v);
  const value = tileValues(tile, quantity, shown.factor)![k]!;
  return {
    u,
    v,
    value: Number.isNaN(value) ? null : value,
    prediction: tile.prediction[k]!,
    dtype: tile.message.dtype,
  };
}

/**
 * The read-out line. `classes` (the data's label names, sorted as Python sorts them) name the
 * predicted class index when there is one for it: a one-output net predicts 0 (output ≤ 0) or 1,
 * so labels −1/+1 read as "−1"/"1". A tile computed in float64 adds " · float64". With `pixel`
 * (the view's plane units per screen pixel) u and v carry the digits that tell adjacent pixels
 * apart (4 decimals at least); the value keeps 4.
 */
export function hoverText(
  r: HoverReading,
  label: string,
  classes: readonly string[] = [],
  pixel?: number,
): string {
  const value = r.value === null ? "–" : coordinateText(r.value);
  const name = r.prediction === null ? null : (classes[r.prediction] ?? String(r.prediction));
  const cls = name === null ? "" : `  class ${name}`;
  const precision = r.dtype === "float64" ? " · float64" : "";
  const u = coordinateText(r.u, pixel);
  const v = coordinateText(r.v, pixel);
  return `u ${u}  v ${v}  ${label} ${value}${cls}${precision}`;
}
