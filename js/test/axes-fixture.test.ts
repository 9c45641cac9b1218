/**
 * `fixtures/axes-js.json`: what the front end writes on its axes and colorbar (tick values, tick
 * labels, colour-limit labels, where the axes' marks and labels go), for Python's PNG export to
 * match (`tests/widget/test_picture.py`). This test checks that the committed file is what the
 * code gives today; regenerate it with `FTLE_WIDGET_UPDATE_FIXTURES=1 npm test`.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { layoutAxes } from "../src/overlays/axes";
import { limitLabel, limitLines, stripOf } from "../src/overlays/colorbar";
import { niceTicks, tickLabel, tickStep } from "../src/overlays/ticks";
import { Viewport } from "../src/viewport";

const FIXTURE = new URL("../test/fixtures/axes-js.json", import.meta.url);

/** A seeded generator (an LCG): the same numbers on every run. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function build() {
  const random = lcg(20240611);
  const ranges: [number, number][] = [
    [-1.5, 1.5],
    [0, 10],
    [-4, 4],
    [0.4310001, 0.4310031],
    [0.1234567, 0.1234568],
    [-1.5, -1.5 + 3e-12],
    [1.2345678901, 1.2345678902],
    [1e-9, 1e-9 + 1e-15],
    [-2e-7, -1.99e-7],
    [12345.6, 12345.6001],
    [98765432, 98765433],
    [0, 4e-7],
    [0, 40000],
    [-0.03, 0.07],
    [2.5, 2.5000000001],
    [1, 1],
  ];
  for (let k = 0; k < 30; k++) {
    const centre = (random() - 0.5) * 10 ** Math.floor(random() * 12 - 6);
    const half = Math.abs(centre || 1) * 10 ** -Math.floor(random() * 12) + 1e-300;
    ranges.push([centre - half, centre + half]);
  }
  const ticks = ranges.flatMap(([lo, hi]) =>
    [2, 4, 7].map((count) => {
      const values = niceTicks(lo, hi, count);
      const step = hi > lo ? tickStep(lo, hi, count) : null;
      return {
        lo,
        hi,
        count,
        ticks: values,
        step,
        labels: values.map((t) => tickLabel(t, step ?? undefined)),
        bare: values.map((t) => tickLabel(t)),
      };
    }),
  );
  // biome-ignore format: many numbers a line
  const limits = [
    -4, 4, 0, 0.5, -0.12345, 1 / 3, 2 / 3, 123.456, 9999.5, 10000, 0.001, 0.00099, -1e-9, 1.5e21,
    0.00012345, 98765.4321, 2.5, 0.125, 1.0005, -2.0005,
  ].map((x) => ({ x, text: limitLabel(x) }));
  const views = [
    new Viewport([-1.5, 1.5, -1.5, 1.5], 420, 420),
    new Viewport([-3, 3, -1, 1], 630, 210),
    new Viewport([-1, 1, -4, 4], 150, 420),
    new Viewport([0, 3, 0, 3], 420, 420),
    new Viewport([0.1234567, 0.1234568, -0.5000001, -0.5], 420, 420),
    Viewport.fit([1.2345678901, 1.2345678902, 2, 2 + 1e-10], 420, 420),
    Viewport.fit([0.25, 0.25 + 4e-14, 0.5, 0.5 + 4e-14], 420, 420),
    Viewport.fit([1e-9, 1e-9 + 1e-15, -1e-9, -1e-9 + 1e-15], 420, 420),
    Viewport.fit([-2.2, 1.7, -0.4, 0.9], 333, 150),
    Viewport.fit([-2.2, 1.7, -0.4, 0.9], 96, 48),
  ];
  /** About 11px sans-serif: 6.2 px per character, 8 px above the baseline, 1 below. */
  const measure = (text: string) => ({ width: 6.2 * text.length, ascent: 8, descent: 1 });
  const axes = views.map((view) => ({
    extent: view.extent,
    width: view.width,
    height: view.height,
    layout: layoutAxes(view, measure),
  }));
  const colorbar = [150, 211, 420].map((height) => ({
    height,
    strip: stripOf(height),
    limits: limitLines(height),
  }));
  /** V8's 10 ** n, which tickStep uses (one ulp off 10ⁿ for some n). */
  const pow10: [number, number][] = [];
  for (let n = -330; n <= 308; n++) pow10.push([n, 10 ** n]);
  return { ticks, limits, axes, colorbar, pow10 };
}

test("the axes fixture shared with Python is what the code gives today", () => {
  const text = `${JSON.stringify(build(), null, 1)}\n`;
  if (process.env.FTLE_WIDGET_UPDATE_FIXTURES) writeFileSync(FIXTURE, text);
  assert.deepEqual(JSON.parse(readFileSync(FIXTURE, "utf8")), JSON.parse(text));
});
