/**
 * Colour lookup tables and the mapping of float fields to RGBA pixels.
 */

import TABLES from "../../ftle_widget/colormaps.json";

/** Entries per LUT. */
export const LUT_SIZE = 256;

/**
 * The colormaps: 256 colours each, sampled from d3-scale-chromatic at t = k / 255 by
 * `scripts/colormaps.mjs` into `ftle_widget/colormaps.json`, the table the Python export reads
 * too. RdBu_r is diverging: low = blue, middle = white, high = red (d3's RdBu reversed).
 */
const TABLE: Readonly<Record<string, readonly string[]>> = TABLES;

export type ColormapName = keyof typeof TABLES;

/** The valid colormap names. */
export const COLORMAPS: readonly ColormapName[] = Object.freeze(
  Object.keys(TABLE) as ColormapName[],
);

const cache = new Map<string, Uint8Array>();

/**
 * The colormap's RGBA LUT: 256 entries × 4 bytes, entry k the colour at t = k / 255, alpha 255.
 * The returned array is shared between callers: do not modify it.
 */
export function colormapLut(name: string): Uint8Array {
  let lut = cache.get(name);
  if (lut) return lut;
  if (!(COLORMAPS as readonly string[]).includes(name)) {
    throw new Error(
      `unknown colormap ${JSON.stringify(name)}; valid names: ${COLORMAPS.join(", ")}`,
    );
  }
  const colours = TABLE[name]!;
  lut = new Uint8Array(LUT_SIZE * 4);
  for (let k = 0; k < LUT_SIZE; k++) {
    const [r, g, b] = parseColor(colours[k]!);
    lut[4 * k] = r;
    lut[4 * k + 1] = g;
    lut[4 * k + 2] = b;
    lut[4 * k + 3] = 255;
  }
  cache.set(name, lut);
  return lut;
}

/** Parse the "#rrggbb" and "rgb(r, g, b)" strings d3's interpolators return. */
export function parseColor(s: string): [number, number, number] {
  let m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(s);
  if (m) return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
  m = /^rgb\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*\)$/.exec(s);
  if (m) return [Math.round(+m[1]!), Math.round(+m[2]!), Math.round(+m[3]!)];
  throw new Error(`cannot parse colour ${JSON.stringify(s)}`);
}

/**
 * Colour `values` into `out` (RGBA, 4 bytes per value): [vmin, vmax] maps linearly onto LUT
 * entries 0..255 (256 equal bins, values outside clamped; ±Infinity clamp too), NaN becomes
 * fully transparent (0, 0, 0, 0). When vmax ≤ vmin (or either is NaN) every finite value gets
 * the middle entry (128).
 *
 * With `flipRows` the input is taken as `height` rows of `width` values and written upside
 * down: out row r = input row height-1-r (tiles have row 0 at the bottom, canvases at the top).
 */
export function applyLut(
  values: Float32Array,
  lut: Uint8Array,
  vmin: number,
  vmax: number,
  out: Uint8ClampedArray,
  flipRows?: { width: number; height: number },
): Uint8ClampedArray {
  const n = values.length;
  if (lut.length !== LUT_SIZE * 4) {
    throw new Error(`applyLut: lut should have ${LUT_SIZE * 4} bytes, got ${lut.length}`);
  }
  if (out.length !== 4 * n) {
    throw new Error(`applyLut: out should have ${4 * n} bytes for ${n} values, got ${out.length}`);
  }
  const degenerate = !(vmax > vmin) || !Number.isFinite(vmax - vmin);
  const scale = degenerate ? 0 : LUT_SIZE / (vmax - vmin);
  const last = LUT_SIZE - 1;
  const colour = (v: number, o: number): void => {
    if (Number.isNaN(v)) {
      out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
      return;
    }
    let k: number;
    if (degenerate) k = LUT_SIZE >> 1;
    else {
      const x = (v - vmin) * scale;
      k = x <= 0 ? 0 : x >= last ? last : x | 0;
    }
    const l = 4 * k;
    out[o] = lut[l]!;
    out[o + 1] = lut[l + 1]!;
    out[o + 2] = lut[l + 2]!;
    out[o + 3] = lut[l + 3]!;
  };
  if (!flipRows) {
    for (let p = 0; p < n; p++) colour(values[p]!, 4 * p);
    return out;
  }
  const { width, height } = flipRows;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width * height !== n) {
    throw new Error(`applyLut: flipRows ${width}×${height} does not match ${n} values`);
  }
  for (let r = 0; r < height; r++) {
    const src = (height - 1 - r) * width;
    const dst = 4 * r * width;
    for (let c = 0; c < width; c++) colour(values[src + c]!, dst + 4 * c);
  }
  return out;
}

/**
 * A range symmetric about 0 covering every finite value of `vmins` and `vmaxs` (e.g. the tiles'
 * ranges): [-m, m] with m the largest finite |value|; [-1, 1] when there is none or m is 0.
 */
export function symmetricRange(
  vmins: ArrayLike<number>,
  vmaxs: ArrayLike<number>,
): [number, number] {
  let m = 0;
  for (const a of [vmins, vmaxs]) {
    for (let k = 0; k < a.length; k++) {
      const x = Math.abs(a[k]!);
      if (Number.isFinite(x) && x > m) m = x;
    }
  }
  return m > 0 ? [-m, m] : [-1, 1];
}
