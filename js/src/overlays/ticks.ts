/**
 * Round tick values in [lo, hi]: steps of 1, 2 or 5 × 10ⁿ, about `count` of them, chosen as
 * d3.ticks does (the factor nearest in log scale). Python's export uses the same rule.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo) || !Number.isFinite(hi - lo)) return [];
  const step = tickStep(lo, hi, count);
  const first = Math.ceil(lo / step - 1e-9);
  // rounded to 12 significant digits (0.3, not 0.30000000000000004), more at deep zoom
  const size = Math.log10(Math.max(Math.abs(lo), Math.abs(hi)) / step);
  const digits = Math.min(17, Math.max(12, Math.ceil(size) + 2));
  const out: number[] = [];
  for (let k = first; k * step <= hi + 1e-9 * step; k++) out.push(+(k * step).toPrecision(digits));
  return out;
}

/** The step between the ticks {@link niceTicks} gives for the same arguments. */
export function tickStep(lo: number, hi: number, count = 5): number {
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const error = raw / power;
  const factor =
    error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.SQRT2 ? 2 : 1;
  return factor * power;
}

/** Whether a coordinate is written as a power of ten (very large or very small numbers). */
const exponential = (x: number) => x !== 0 && (Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3);

/**
 * A short label for a tick value. With `step` (the ticks' spacing) it carries the digits that
 * tell neighbouring ticks apart, however deep the zoom: 0.12345672 beside 0.12345674.
 */
export function tickLabel(x: number, step?: number): string {
  if (x === 0) return "0";
  const resolution = step !== undefined && step > 0 && Number.isFinite(step) ? step : null;
  if (exponential(x)) return x.toExponential(resolution ? mantissaDigits(x, resolution, 1) : 1);
  if (!resolution) return `${+x.toPrecision(6)}`;
  return `${+x.toFixed(decimals(resolution, 0))}`;
}

/**
 * A plane coordinate at the resolution of `pixel` (plane units per screen pixel): 4 decimals (or
 * 4 in the mantissa) where that suffices, more where adjacent pixels would read the same.
 */
export function coordinateText(x: number, pixel?: number): string {
  const resolution = pixel !== undefined && pixel > 0 && Number.isFinite(pixel) ? pixel : null;
  if (exponential(x)) return x.toExponential(resolution ? mantissaDigits(x, resolution, 4) : 4);
  return x.toFixed(resolution ? decimals(resolution, 4) : 4);
}

/** Decimals (at least `least`) that resolve `resolution`: 10^-d ≤ resolution. */
function decimals(resolution: number, least: number): number {
  return Math.min(100, Math.max(least, Math.ceil(-Math.log10(resolution) - 1e-9)));
}

/** Mantissa digits (at least `least`) of x's exponential form that resolve `resolution`. */
function mantissaDigits(x: number, resolution: number, least: number): number {
  const exponent = Number(x.toExponential().split("e")[1]);
  return Math.min(100, Math.max(least, Math.ceil(exponent - Math.log10(resolution) - 1e-9)));
}
