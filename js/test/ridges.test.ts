import assert from "node:assert/strict";
import { test } from "node:test";
import {
  drawRidges,
  RIDGE_HALO,
  RIDGE_HALO_WIDTH,
  RIDGE_INK,
  RIDGE_WIDTH,
  ridgePaths,
} from "../src/overlays/ridges";
import type { DecodedRidges } from "../src/protocol";
import { Viewport } from "../src/viewport";
import { FakeCanvas } from "./fake-canvas";

const ridges: DecodedRidges = {
  generation: 3,
  lines: [new Float64Array([-1, 0, 0, 1, 1, 0]), new Float64Array([0.5, -0.5])],
  heights: [2, null],
};

test("ridges go to the screen as the field does: u right, v up", () => {
  const view = new Viewport([-2, 2, -1, 1], 400, 200); // 100 CSS px per plane unit
  const [arc, dot] = ridgePaths(view, ridges);
  assert.deepEqual(arc, [100, 100, 200, 0, 300, 100]);
  assert.deepEqual(dot, [250, 150]);
  const moved = ridgePaths(view.pan(50, 0), ridges)[0]!; // they move with a pan at once
  assert.deepEqual(moved.slice(0, 2), [150, 100]);
});

test("each polyline is stroked, halo first, then the line; single points are not", () => {
  const view = new Viewport([-2, 2, -1, 1], 400, 200);
  const ctx = new FakeCanvas().getContext("2d");
  drawRidges(ctx as unknown as CanvasRenderingContext2D, view, ridges);
  const names = ctx.calls.map((c) => c.name);
  assert.deepEqual(
    ctx.calls.filter((c) => c.name === "stroke").map((c) => c.args),
    [
      [RIDGE_HALO, RIDGE_HALO_WIDTH],
      [RIDGE_INK, RIDGE_WIDTH],
    ],
  );
  assert.equal(names.filter((n) => n === "moveTo").length, 2); // the arc, once per pass
  assert.deepEqual(
    ctx.calls.filter((c) => c.name === "lineTo").map((c) => c.args),
    [
      [200, 0],
      [300, 100],
      [200, 0],
      [300, 100],
    ],
  );
  const none = new FakeCanvas().getContext("2d");
  drawRidges(none as unknown as CanvasRenderingContext2D, view, null);
  drawRidges(none as unknown as CanvasRenderingContext2D, view, { ...ridges, lines: [] });
  assert.deepEqual(none.calls, []);
});
