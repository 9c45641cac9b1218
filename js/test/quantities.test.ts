/**
 * The quantities beyond λ₁ (quantities.ts): each one's values from a tile's channels, the
 * renderer colouring them (tiles without λ₂, λ_min not drawn), their automatic limits, labels,
 * the hover read-out and "Fit colours".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { colormapLut } from "../src/colormap";
import { visibleRange } from "../src/fit";
import { hoverText, readAt } from "../src/overlays/hover";
import type { DecodedTile, Extent, TileKey } from "../src/protocol";
import {
  automaticRange,
  isQuantity,
  QUANTITIES,
  QUANTITY_LABELS,
  type Quantity,
  tileValues,
} from "../src/quantities";
import { type ColourSettings, Renderer } from "../src/renderer";
import { TileStore } from "../src/tiles";
import { Viewport } from "../src/viewport";
import { FakeCanvas, install } from "./fake-canvas";
import { tileMessage } from "./fake-tile";

/** A 2 × 2 tile; λ₂ and λ_min where given (the same array: a 2-D input, as Python sends it). */
function tile(
  key: TileKey,
  extent: Extent,
  ftle: number[],
  lambda2: number[] | null = null,
  lambdaMin: number[] | null = lambda2,
): DecodedTile {
  const message = tileMessage(key, extent, Math.sqrt(ftle.length), {
    lower: lambda2 === null ? 0 : lambda2 === lambdaMin ? 1 : 2,
  });
  const l2 = lambda2 && new Float32Array(lambda2);
  return {
    message,
    key,
    ftle: new Float32Array(ftle),
    prediction: new Float32Array(ftle.length),
    direction: null,
    lambda2: l2,
    lambdaMin: lambdaMin === lambda2 ? l2 : lambdaMin && new Float32Array(lambdaMin),
  };
}

const F = (x: number) => Math.fround(x);
const TOP = [1, 0.5, 0.1, Number.NaN];
const SECOND = [0.25, 0.5, 0.1 - 1e-8, 0];
const SMALLEST = [-0.5, Number.NEGATIVE_INFINITY, -1, 0];

test("each quantity's values: λ₁, λ_min, and float32 of the float64 differences", () => {
  const t = tile([0, 0, 0], [0, 1, 0, 1], TOP, SECOND, SMALLEST);
  assert.deepEqual([...QUANTITIES], ["lambda", "log_stretch", "lambda_min", "gap", "anisotropy"]);
  assert.equal(tileValues(t, "lambda"), t.ftle);
  assert.equal(tileValues(t, "log_stretch"), t.ftle); // the factor is the renderer's
  assert.equal(tileValues(t, "lambda_min"), t.lambdaMin);
  const gap = [...tileValues(t, "gap")!];
  const expected = TOP.map((x, k) => F(F(x) - F(SECOND[k]!)));
  assert.deepEqual(gap.slice(0, 3), expected.slice(0, 3));
  assert.ok(Number.isNaN(gap[3]));
  assert.deepEqual([...tileValues(t, "anisotropy")!].slice(0, 3), [F(1.5), Infinity, F(1.1)]);
  assert.equal(tileValues(t, "gap"), tileValues(t, "gap"), "computed once per tile");
  const plain = tile([0, 0, 0], [0, 1, 0, 1], TOP);
  for (const q of ["lambda_min", "gap", "anisotropy"] as Quantity[]) {
    assert.equal(tileValues(plain, q), null, q);
  }
  assert.ok(isQuantity("gap") && !isQuantity("lambda_2") && !isQuantity(7));
});

test("labels are Python's; automatic limits: symmetric, or [0, max] for gap and anisotropy", () => {
  assert.deepEqual(QUANTITY_LABELS, {
    lambda: "λ₁",
    log_stretch: "log Λ₁",
    lambda_min: "λ_min",
    gap: "λ₁ − λ₂",
    anisotropy: "λ₁ − λ_min",
  });
  assert.deepEqual(automaticRange(-0.5, 2, "lambda"), [-2, 2]);
  assert.deepEqual(automaticRange(-3, 1, "lambda_min"), [-3, 3]);
  assert.deepEqual(automaticRange(0.25, 2, "gap"), [0, 2]);
  assert.deepEqual(automaticRange(Number.NaN, Number.NaN, "anisotropy"), [0, 1]);
  assert.deepEqual(automaticRange(0, 0, "gap"), [0, 1]);
});

const GAP: ColourSettings = {
  cmap: "viridis",
  vmin: null,
  vmax: null,
  quantity: "gap",
  factor: 1,
  boundary: false,
};

function entry(k: number, cmap = "viridis"): number[] {
  return [...colormapLut(cmap).subarray(4 * k, 4 * k + 4)];
}

test("the renderer colours the gap over [0, max], and skips tiles without λ₂", () => {
  install(1);
  const canvas = new FakeCanvas();
  const renderer = new Renderer(canvas as unknown as HTMLCanvasElement);
  // gap: bottom row 0.75, 0; top row 0.5, 1 → limits [0, 1]: entries 192, 0, 128, 255
  const a = tile([0, 0, 0], [0, 1, 0, 1], [1, 0.5, 0.5, 2], [0.25, 0.5, 0, 1]);
  const b = tile([0, 0, 1], [1, 2, 0, 1], [5, 5, 5, 5]); // no λ₂: not drawn for the gap
  const view = new Viewport([0, 2, 0, 1], 40, 20);
  assert.deepEqual(renderer.draw(view, [a, b], GAP), [0, 1]); // b's λ₁ = 5 does not count
  assert.deepEqual(canvas.pixel(5, 15), entry(192));
  assert.deepEqual(canvas.pixel(15, 15), entry(0));
  assert.deepEqual(canvas.pixel(5, 5), entry(128));
  assert.deepEqual(canvas.pixel(15, 5), entry(255));
  assert.deepEqual(canvas.pixel(30, 10), [0, 0, 0, 0], "b is not drawn");
  // λ_min, symmetric about 0 (here −1 .. 1: λ_min 0.25, 0.5, 0, 1)
  const shown = renderer.draw(view, [a, b], { ...GAP, quantity: "lambda_min", cmap: "RdBu_r" });
  assert.deepEqual(shown, [-1, 1]);
  assert.deepEqual(canvas.pixel(15, 5), entry(255, "RdBu_r"));
  assert.deepEqual(canvas.pixel(5, 5), entry(128, "RdBu_r"));
  // back to λ₁: both tiles drawn again, with no new message from Python
  assert.deepEqual(renderer.draw(view, [a, b], { ...GAP, quantity: "lambda" }), [-5, 5]);
  assert.notDeepEqual(canvas.pixel(30, 10), [0, 0, 0, 0]);
});

test("hover reads the shown quantity; Fit colours fits it", () => {
  const store = new TileStore();
  store.generation = 1;
  const coarse = tile([0, 0, 0], [0, 2, 0, 2], [3, 3, 3, 3]); // no λ₂
  const fine = tile([1, 0, 0], [0, 1, 0, 1], [1, 0.5, 0.5, 2], [0.25, 0.5, 0, 1]);
  assert.ok(store.add(coarse) && store.add(fine));
  const reading = readAt(store, 0.25, 0.25, { factor: 1, quantity: "gap" });
  assert.equal(reading.value, 0.75);
  assert.equal(
    hoverText(reading, QUANTITY_LABELS.gap),
    "u 0.2500  v 0.2500  λ₁ − λ₂ 0.7500  class 0",
  );
  assert.equal(readAt(store, 1.5, 1.5, { factor: 1, quantity: "gap" }).value, null);
  assert.equal(readAt(store, 1.5, 1.5, { factor: 2, quantity: "log_stretch" }).value, 6); // λ₁ × depth
  const extent: Extent = [0, 1, 0, 1];
  assert.deepEqual(visibleRange(store.drawOrder(), extent, { factor: 1, quantity: "gap" }), [0, 1]);
  assert.deepEqual(visibleRange(store.drawOrder(), extent, { factor: 1 }), [0.5, 2]);
});
