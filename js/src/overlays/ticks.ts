/**
 * Round tick values in [lo, hi]: steps of 1, 2 or 5 × 10ⁿ, about `count` of them, chosen as
 * d3.ticks does (the factor nearest in log scale). Python's export uses the same rule.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo) || !Number.isFinite(hi - lo)) return [];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const error = raw / power;
  const factor =
    error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.SQRT2 ? 2 : 1;
  const step = factor * power;
  const first = Math.ceil(lo / step - 1e-9);
  const out: number[] = [];
  for (let k = first; k * step <= hi + 1e-9 * step; k++) out.push(+(k * step).toPrecision(12));
  return out;
}

/** A short label for a tick value. */
export function tickLabel(x: number): string {
  return x === 0
    ? "0"
    : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3
      ? x.toExponential(1)
      : `${+x.toPrecision(6)}`;
}
