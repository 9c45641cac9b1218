/**
 * The quantities a tile is shown as (the twin of `ftle_widget/maths/quantities.py`): λ₁
 * ("lambda"), log Λ₁ = depth·λ₁ ("log_stretch": each tile's λ₁ times its own depth), λ_min
 * ("lambda_min"), λ₁ − λ₂ ("gap") and λ₁ − λ_min ("anisotropy"). The front end computes no
 * exponent: λ₂ and λ_min come from Python, in tiles computed with them (`lower` buffers); a tile
 * without them has no values of these quantities, and is not drawn. Differences are taken in
 * float64 from the float32 exponents and rounded to float32, as Python's PNG export takes them.
 */
import { symmetricRange } from "./colormap";
import type { DecodedTile } from "./protocol";

export const QUANTITIES = ["lambda", "log_stretch", "lambda_min", "gap", "anisotropy"] as const;
export type Quantity = (typeof QUANTITIES)[number];

/** The quantities' names on the colorbar and in the hover read-out (Python's QUANTITY_LABELS). */
export const QUANTITY_LABELS: Readonly<Record<Quantity, string>> = {
  lambda: "λ₁",
  log_stretch: "log Λ₁",
  lambda_min: "λ_min",
  gap: "λ₁ − λ₂",
  anisotropy: "λ₁ − λ_min",
};

/** Quantities that are never negative: automatic colour limits [0, max], not symmetric. */
export const NON_NEGATIVE: readonly Quantity[] = ["gap", "anisotropy"];

export function isQuantity(x: unknown): x is Quantity {
  return (QUANTITIES as readonly unknown[]).includes(x);
}

const derivedValues = new WeakMap<DecodedTile, Map<string, Float32Array>>();

/**
 * The tile's values of `quantity`, `tile_px²` row-major; null when it needs λ₂ or λ_min and the
 * tile has none. "log_stretch" is λ₁ times the tile's own depth (the layer it was computed at),
 * else `depth` (the trait, for a tile that does not say). Derived values are computed once per
 * tile.
 */
export function tileValues(tile: DecodedTile, quantity: Quantity, depth = 1): Float32Array | null {
  if (quantity === "lambda") return tile.ftle;
  if (quantity === "log_stretch") {
    const d = tile.message.depth ?? depth;
    return d === 1 ? tile.ftle : derived(tile, `log_stretch@${d}`, (k, top) => top[k]! * d);
  }
  const lower = (quantity === "gap" ? tile.lambda2 : tile.lambdaMin) ?? null;
  if (lower === null || quantity === "lambda_min") return lower;
  return derived(tile, quantity, (k, top) => top[k]! - lower[k]!);
}

function derived(
  tile: DecodedTile,
  name: string,
  value: (k: number, top: Float32Array) => number,
): Float32Array {
  let held = derivedValues.get(tile);
  if (!held) {
    held = new Map();
    derivedValues.set(tile, held);
  }
  let out = held.get(name);
  if (!out) {
    const top = tile.ftle;
    out = new Float32Array(top.length);
    for (let k = 0; k < top.length; k++) out[k] = value(k, top);
    held.set(name, out);
  }
  return out;
}

/**
 * The automatic colour limits over shown values [lo, hi] (NaN: none): symmetric about 0, [-m, m]
 * with m the largest |value| ([-1, 1] when none or 0); for {@link NON_NEGATIVE} quantities [0, hi]
 * ([0, 1] when none or hi ≤ 0). Python's `colours.automatic_range`.
 */
export function automaticRange(lo: number, hi: number, quantity: Quantity): [number, number] {
  if (!NON_NEGATIVE.includes(quantity)) return symmetricRange([lo], [hi]);
  return Number.isFinite(hi) && hi > 0 ? [0, hi] : [0, 1];
}
