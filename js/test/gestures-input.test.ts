import assert from "node:assert/strict";
import { test } from "node:test";
import {
  KEY_PAN,
  KEY_ZOOM,
  keyStep,
  LINE_PIXELS,
  PAGE_PIXELS,
  PINCH_GAIN,
  pinchStep,
  type Resolution,
  WHEEL_RATE,
  wheelFactor,
  wheelPixels,
} from "../src/gestures";
import { Viewport } from "../src/viewport";

const view = new Viewport([-2, 2, -1, 1], 400, 200); // 0.01 plane units per pixel

function close(actual: readonly number[], expected: readonly number[], tol = 1e-12) {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => {
    assert.ok(Math.abs(a - (expected[i] as number)) <= tol, `${actual} vs ${expected}`);
  });
}

test("wheel deltas in lines and pages weigh as d3-zoom's, a ctrl-wheel (pinch) ten times", () => {
  assert.equal(wheelPixels(-3), -3);
  assert.equal(wheelPixels(-3, 1), -3 * LINE_PIXELS);
  assert.equal(wheelPixels(1, 2), PAGE_PIXELS);
  assert.equal(wheelPixels(-2, 0, true), -2 * PINCH_GAIN);
  // one line zooms as d3-zoom's 0.05 per line (0.002 per pixel), here with e instead of 2
  assert.ok(Math.abs(Math.log(wheelFactor(wheelPixels(-1, 1))) - LINE_PIXELS * WHEEL_RATE) < 1e-15);
  assert.equal(LINE_PIXELS * WHEEL_RATE, 0.05);
  assert.equal(PAGE_PIXELS * WHEEL_RATE, 1);
});

test("+ and − zoom about the centre, = and _ too", () => {
  for (const [key, factor] of [
    ["+", KEY_ZOOM],
    ["=", KEY_ZOOM],
    ["-", 1 / KEY_ZOOM],
    ["_", 1 / KEY_ZOOM],
  ] as const) {
    const step = keyStep(view, key);
    assert.ok(step && step.kind === "view");
    close(step.view.extent, [-2 / factor, 2 / factor, -1 / factor, 1 / factor]);
    assert.equal(step.limited, false);
  }
});

test("arrows pan by a tenth of the canvas towards the arrow; 0 and Home reset; others pass", () => {
  const du = KEY_PAN * 4;
  const dv = KEY_PAN * 2;
  const expected: Record<string, number[]> = {
    ArrowLeft: [-2 - du, 2 - du, -1, 1],
    ArrowRight: [-2 + du, 2 + du, -1, 1],
    ArrowUp: [-2, 2, -1 + dv, 1 + dv],
    ArrowDown: [-2, 2, -1 - dv, 1 - dv],
  };
  for (const [key, extent] of Object.entries(expected)) {
    const step = keyStep(view, key);
    assert.ok(step && step.kind === "view", key);
    close(step.view.extent, extent);
  }
  assert.deepEqual(keyStep(view, "0"), { kind: "reset" });
  assert.deepEqual(keyStep(view, "Home"), { kind: "reset" });
  assert.equal(keyStep(view, "a"), null);
  assert.equal(keyStep(view, "Enter"), null);
});

test("+ stops where float64 runs out", () => {
  const resolution: Resolution = { origin: 0, u: 1, v: 1, shortest: 1 };
  const tiny = new Viewport([1e5, 1e5 + 1.6e-7, 1e5, 1e5 + 0.8e-7], 400, 200); // 4e-10 a pixel
  const step = keyStep(tiny, "+", resolution);
  assert.ok(step && step.kind === "view");
  assert.equal(step.limited, true);
  assert.ok(step.view.pixelSize() >= 16 * Number.EPSILON * 1e5);
});

test("a pinch zooms by the ratio of the fingers' distances about their midpoint", () => {
  // fingers 100 px apart about the centre, spread to 200 px: 2× about the centre
  const step = pinchStep(
    view,
    [
      [150, 100],
      [250, 100],
    ],
    [
      [100, 100],
      [300, 100],
    ],
  );
  close(step.view.extent, [-1, 1, -0.5, 0.5]);
  // the plane point under the midpoint follows the midpoint (a two-finger pan), and zooms there
  const before = [
    [50, 50],
    [90, 80],
  ] as const;
  const after = [
    [120, 70],
    [200, 130],
  ] as const; // the midpoint moves by (90, 35), the distance doubles (50 → 100)
  const moved = pinchStep(view, before, after);
  const [pu, pv] = view.toPlane(70, 65);
  close(moved.view.toPlane(160, 100), [pu, pv], 1e-12);
  assert.ok(Math.abs(moved.view.pixelSize() - view.pixelSize() / 2) < 1e-15);
  // fingers at one spot: a pan only
  const still = pinchStep(
    view,
    [
      [10, 10],
      [10, 10],
    ],
    [
      [20, 10],
      [20, 10],
    ],
  );
  close(still.view.extent, view.pan(10, 0).extent);
});
