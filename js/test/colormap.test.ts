import assert from "node:assert/strict";
import { test } from "node:test";
import { interpolateViridis } from "d3-scale-chromatic";
import { applyLut, COLORMAPS, colormapLut, parseColor, symmetricRange } from "../src/colormap";

const entry = (lut: Uint8Array, k: number) => Array.from(lut.subarray(4 * k, 4 * k + 4));

test("every listed colormap builds a 1024-byte opaque LUT", () => {
  assert.deepEqual(
    [...COLORMAPS],
    ["RdBu_r", "viridis", "magma", "inferno", "plasma", "cividis", "turbo", "PuOr_r"],
  );
  for (const name of COLORMAPS) {
    const lut = colormapLut(name);
    assert.ok(lut instanceof Uint8Array);
    assert.equal(lut.length, 1024);
    for (let k = 0; k < 256; k++) assert.equal(lut[4 * k + 3], 255);
    assert.equal(colormapLut(name), lut, "cached");
  }
});

test("unknown colormap names are rejected, listing the valid ones", () => {
  assert.throws(
    () => colormapLut("jet"),
    /unknown colormap "jet"; valid names: RdBu_r, viridis, magma, inferno, plasma/,
  );
  assert.throws(() => colormapLut("toString"), /unknown colormap/);
});

test("RdBu_r: blue low, white middle, red high", () => {
  const lut = colormapLut("RdBu_r");
  const [r0, , b0] = entry(lut, 0);
  const [r1, , b1] = entry(lut, 255);
  assert.ok(b0! > r0!, `index 0 ${entry(lut, 0)}`);
  assert.ok(r1! > b1!, `index 255 ${entry(lut, 255)}`);
  for (const c of entry(lut, 128).slice(0, 3)) assert.ok(c > 230, `index 128 ${entry(lut, 128)}`);
});

test("viridis endpoints are d3's interpolateViridis(0) and (1)", () => {
  const lut = colormapLut("viridis");
  assert.deepEqual(entry(lut, 0), [...parseColor(interpolateViridis(0)), 255]);
  assert.deepEqual(entry(lut, 255), [...parseColor(interpolateViridis(1)), 255]);
  assert.deepEqual(entry(lut, 0), [0x44, 0x01, 0x54, 255]);
  assert.deepEqual(entry(lut, 255), [0xfd, 0xe7, 0x25, 255]);
});

test("parseColor reads hex and rgb() strings", () => {
  assert.deepEqual(parseColor("#0a10ff"), [10, 16, 255]);
  assert.deepEqual(parseColor("rgb(5, 48, 97)"), [5, 48, 97]);
  assert.throws(() => parseColor("hsl(0,0%,0%)"), /cannot parse colour/);
});

/** A LUT whose entry k is (k, 255-k, 7, 255): the index can be read back from red. */
const ramp = (() => {
  const lut = new Uint8Array(1024);
  for (let k = 0; k < 256; k++) lut.set([k, 255 - k, 7, 255], 4 * k);
  return lut;
})();

test("applyLut: vmin → 0, vmax → 255, clamping, NaN transparent", () => {
  const values = new Float32Array([0, 10, -5, 20, NaN, 5, Infinity, -Infinity, 9.99]);
  const out = new Uint8ClampedArray(4 * values.length);
  assert.equal(applyLut(values, ramp, 0, 10, out), out);
  const idx = (p: number) => out[4 * p];
  assert.equal(idx(0), 0);
  assert.equal(idx(1), 255);
  assert.equal(idx(2), 0);
  assert.equal(idx(3), 255);
  assert.deepEqual(Array.from(out.subarray(16, 20)), [0, 0, 0, 0]);
  assert.equal(idx(5), 128); // midpoint: bin floor(0.5 · 256)
  assert.equal(idx(6), 255);
  assert.equal(idx(7), 0);
  assert.equal(idx(8), 255);
  assert.deepEqual(Array.from(out.subarray(0, 4)), [0, 255, 7, 255]);
  // Bins are equal-width: 256 bins over [0, 256).
  const lin = new Float32Array(256).map((_, k) => k + 0.5);
  const o2 = new Uint8ClampedArray(1024);
  applyLut(lin, ramp, 0, 256, o2);
  for (let k = 0; k < 256; k++) assert.equal(o2[4 * k], k);
});

test("applyLut: degenerate range maps finite values to the middle entry", () => {
  const out = new Uint8ClampedArray(8);
  applyLut(new Float32Array([3, NaN]), ramp, 3, 3, out);
  assert.deepEqual(Array.from(out), [128, 127, 7, 255, 0, 0, 0, 0]);
});

test("applyLut: row flip puts input row 0 (v0, bottom) on the last canvas row", () => {
  // 3 columns × 2 rows; row 0 = [0, 1, 2], row 1 = [3, 4, 5].
  const values = new Float32Array([0, 1, 2, 3, 4, 5]);
  const out = new Uint8ClampedArray(24);
  applyLut(values, ramp, 0, 255, out, { width: 3, height: 2 });
  const reds = Array.from({ length: 6 }, (_, p) => out[4 * p]);
  assert.deepEqual(reds, [3, 4, 5, 0, 1, 2]);
  assert.throws(() => applyLut(values, ramp, 0, 1, out, { width: 4, height: 2 }), /flipRows 4×2/);
});

test("applyLut: size checks", () => {
  assert.throws(
    () => applyLut(new Float32Array(2), ramp, 0, 1, new Uint8ClampedArray(4)),
    /out should have 8 bytes/,
  );
  assert.throws(
    () => applyLut(new Float32Array(1), new Uint8Array(12), 0, 1, new Uint8ClampedArray(4)),
    /lut should have 1024/,
  );
});

test("symmetricRange", () => {
  assert.deepEqual(symmetricRange([-0.5, 1, NaN], [2, -3, NaN]), [-3, 3]);
  assert.deepEqual(symmetricRange([NaN, -4.5], [Infinity, 1]), [-4.5, 4.5]);
  assert.deepEqual(symmetricRange([], []), [-1, 1]);
  assert.deepEqual(symmetricRange([NaN], [NaN]), [-1, 1]);
});

test("the committed colormap table is what scripts/colormaps.mjs generates from d3", async () => {
  const { readFileSync } = await import("node:fs");
  const { text } = await import("../scripts/colormaps.mjs");
  const committed = readFileSync(
    new URL("../../ftle_widget/colormaps.json", import.meta.url),
    "utf8",
  );
  assert.equal(committed, text(), "run `npm run colormaps` and commit ftle_widget/colormaps.json");
});

test("every colormap in the table yields a LUT of 256 opaque entries", () => {
  for (const name of COLORMAPS) {
    const lut = colormapLut(name);
    assert.equal(lut.length, 1024);
    for (let k = 0; k < 256; k++) assert.equal(lut[4 * k + 3], 255);
  }
});

test("applyLut gives the same bytes as the Python export (tests/test_export.py fixture)", async () => {
  const { readFileSync } = await import("node:fs");
  const cases = JSON.parse(
    readFileSync(new URL("../test/fixtures/colorize.json", import.meta.url), "utf8"),
  ) as { cmap: string; vmin: number; vmax: number; values: (number | string)[]; rgba: number[] }[];
  assert.ok(cases.length >= 4);
  for (const c of cases) {
    const values = Float32Array.from(
      c.values.map((v) =>
        typeof v === "number" ? v : Number(v === "nan" ? NaN : v === "inf" ? Infinity : -Infinity),
      ),
    );
    const out = new Uint8ClampedArray(values.length * 4);
    applyLut(values, colormapLut(c.cmap), c.vmin, c.vmax, out);
    assert.deepEqual(Array.from(out), c.rgba, `${c.cmap} [${c.vmin}, ${c.vmax}]`);
  }
});
