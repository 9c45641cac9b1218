import assert from "node:assert/strict";
import { test } from "node:test";
import {
  boxOf,
  cursorFor,
  FLOAT64_MARGIN,
  FLOAT64_ULPS,
  finestPixel,
  fitExtent,
  type Gesture,
  IDLE,
  limitZoom,
  MIN_BOX,
  move,
  type PointerAt,
  press,
  type Resolution,
  release,
  resized,
  WHEEL_RATE,
  wheelFactor,
  wheelStep,
  wheelZoom,
} from "../src/gestures";
import type { Extent } from "../src/protocol";
import { Viewport } from "../src/viewport";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b)), `${a} ≉ ${b}`);
const closeExtent = (got: Extent, want: readonly number[]) => {
  assert.equal(got.length, 4);
  got.forEach((x, k) => {
    close(x, want[k]!);
  });
};

/** 0.01 plane units per CSS pixel both ways. */
const view = new Viewport([0, 4, 0, 2], 400, 200);
/** A pointer at canvas (x, y); the canvas's top-left corner at client (10, 20). */
const at = (x: number, y: number): PointerAt => ({ x, y, clientX: x + 10, clientY: y + 20 });

test("wheel: factor exp(−deltaY · 0.002); up zooms in, down out, 0 keeps the view", () => {
  assert.equal(WHEEL_RATE, 0.002);
  close(wheelFactor(-100), Math.exp(0.2));
  close(wheelFactor(120), Math.exp(-0.24));
  assert.equal(wheelFactor(0), 1);
  closeExtent(wheelZoom(view, 123, 45, 0).extent, [0, 4, 0, 2]);
});

test("wheel zooms about the cursor: the plane point under it stays, the rest scales by 1/f", () => {
  // cursor at canvas (100, 50): plane (1, 1.5)
  const f = Math.exp(0.2);
  const zoomed = wheelZoom(view, 100, 50, -100);
  closeExtent(zoomed.extent, [1 - 1 / f, 1 + 3 / f, 1.5 - 1.5 / f, 1.5 + 0.5 / f]);
  assert.equal(zoomed.width, 400);
  assert.equal(zoomed.height, 200);
  const [u, v] = zoomed.toPlane(100, 50);
  close(u, 1);
  close(v, 1.5);
  // zooming out by the opposite delta comes back
  closeExtent(wheelZoom(zoomed, 100, 50, 100).extent, [0, 4, 0, 2]);
  // zoom out at the centre: the extent grows symmetrically, e^0.24 times
  const g = Math.exp(0.24);
  closeExtent(wheelZoom(view, 200, 100, 120).extent, [2 - 2 * g, 2 + 2 * g, 1 - g, 1 + g]);
});

test("press: a box with shift or in box mode (canvas position), else a pan (client)", () => {
  assert.deepEqual(press(at(30, 40), false, false), { kind: "pan", x: 40, y: 60 });
  const box = { kind: "box", x0: 30, y0: 40, x1: 30, y1: 40 };
  assert.deepEqual(press(at(30, 40), true, false), box);
  assert.deepEqual(press(at(30, 40), false, true), box);
  assert.deepEqual(press(at(30, 40), true, true), box);
});

test("drag pans: the plane follows the pointer, step by step", () => {
  let gesture = press(at(100, 100), false, false);
  // 40 px right and 20 px up: the plane follows the pointer, the view moves −0.4 in u, −0.2 in v
  let step = move(view, gesture, at(140, 80));
  closeExtent(step.view.extent, [-0.4, 3.6, -0.2, 1.8]);
  assert.deepEqual(step.gesture, { kind: "pan", x: 150, y: 100 });
  assert.equal(step.draw, true);
  assert.equal(step.request, true);
  // the plane point that was under the pointer is under it again
  const [u, v] = step.view.toPlane(140, 80);
  const [u0, v0] = view.toPlane(100, 100);
  close(u, u0);
  close(v, v0);
  // the next move pans by the delta since the last one only: 10 px left, 30 px down
  gesture = step.gesture;
  step = move(step.view, gesture, at(130, 110));
  closeExtent(step.view.extent, [-0.3, 3.7, 0.1, 2.1]);
  assert.deepEqual(step.gesture, { kind: "pan", x: 140, y: 130 });
  // a move that does not move still asks for a redraw and a request, as before
  const still = move(step.view, step.gesture, at(130, 110));
  closeExtent(still.view.extent, [-0.3, 3.7, 0.1, 2.1]);
  assert.equal(still.draw, true);
  assert.equal(still.request, true);
});

test("a pan's release: idle, nothing to draw, nothing to ask", () => {
  const step = release(view, { kind: "pan", x: 5, y: 6 });
  assert.equal(step.view, view);
  assert.deepEqual(step.gesture, IDLE);
  assert.equal(step.draw, false);
  assert.equal(step.request, false);
  assert.equal(cursorFor(step.gesture, false), "grab");
});

test("moves without a gesture change nothing", () => {
  const step = move(view, IDLE, at(200, 100));
  assert.equal(step.view, view);
  assert.equal(step.gesture, IDLE);
  assert.equal(step.draw, false);
  assert.equal(step.request, false);
  assert.deepEqual(release(view, IDLE), { view, gesture: IDLE, draw: false, request: false });
});

test("box zoom: the box follows the pointer, the release zooms to it keeping the aspect", () => {
  const start = press(at(100, 50), true, false);
  const step = move(view, start, at(300, 100));
  assert.equal(step.view, view); // the view waits for the release
  assert.deepEqual(step.gesture, { kind: "box", x0: 100, y0: 50, x1: 300, y1: 100 });
  assert.deepEqual(boxOf(step.gesture), { kind: "box", x0: 100, y0: 50, x1: 300, y1: 100 });
  assert.equal(step.draw, true);
  assert.equal(step.request, false);
  // the box is u 1..3, v 1..1.5 (2 × 0.5); at the canvas's 2:1 it becomes 2 × 1 about its centre
  const done = release(step.view, step.gesture);
  closeExtent(done.view.extent, [1, 3, 0.75, 1.75]);
  assert.deepEqual(done.gesture, IDLE);
  assert.equal(boxOf(done.gesture), null);
  assert.equal(done.draw, true);
  assert.equal(done.request, true);
  // a tall box grows along u instead; corners in any order give the same view
  const tall: Gesture = { kind: "box", x0: 250, y0: 150, x1: 150, y1: 50 };
  closeExtent(release(view, tall).view.extent, [1, 3, 0.5, 1.5]);
});

test("box zoom: a box of at most MIN_BOX px along either axis is a click (erased, no zoom)", () => {
  assert.equal(MIN_BOX, 3);
  for (const [dx, dy] of [
    [3, 50],
    [50, 3],
    [-3, -50],
    [0, 0],
  ] as const) {
    const step = release(view, { kind: "box", x0: 100, y0: 100, x1: 100 + dx, y1: 100 + dy });
    assert.equal(step.view, view);
    assert.deepEqual(step.gesture, IDLE);
    assert.equal(step.draw, true); // the box is erased
    assert.equal(step.request, false);
  }
  // 4 px is enough: a 4 × 4 box at the top-left corner, 0.04 × 0.04 of the plane
  const small = release(view, { kind: "box", x0: 0, y0: 0, x1: 4, y1: 4 });
  closeExtent(small.view.extent, [-0.02, 0.06, 1.96, 2]);
  assert.equal(small.request, true);
});

test("cursor: grabbing while panning, crosshair in box mode, else grab", () => {
  assert.equal(cursorFor(IDLE, false), "grab");
  assert.equal(cursorFor(IDLE, true), "crosshair");
  assert.equal(cursorFor({ kind: "pan", x: 0, y: 0 }, false), "grabbing");
  assert.equal(cursorFor({ kind: "box", x0: 0, y0: 0, x1: 1, y1: 1 }, false), "grab");
  assert.equal(cursorFor({ kind: "box", x0: 0, y0: 0, x1: 1, y1: 1 }, true), "crosshair");
});

test("reset (double-click): the home extent grown about its centre to square pixels", () => {
  const home: Extent = [-1.5, 1.5, -1.5, 1.5];
  closeExtent(fitExtent(home, 600, 300).extent, [-3, 3, -1.5, 1.5]);
  closeExtent(fitExtent(home, 300, 600).extent, [-1.5, 1.5, -3, 3]);
  closeExtent(fitExtent(home, 420, 420).extent, [-1.5, 1.5, -1.5, 1.5]);
  // from anywhere: a zoomed and panned view comes back to the same
  const away = move(
    wheelZoom(fitExtent(home, 600, 300), 10, 10, -500),
    press(at(0, 0), false, false),
    at(50, 70),
  );
  assert.notDeepEqual(away.view.extent, fitExtent(home, 600, 300).extent);
  closeExtent(fitExtent(home, away.view.width, away.view.height).extent, [-3, 3, -1.5, 1.5]);
});

test("resize: same centre and scale on the new size; null when the size is the same", () => {
  assert.equal(resized(view, 400, 200), null);
  const wider = resized(view, 600, 200)!;
  closeExtent(wider.extent, [-1, 5, 0, 2]);
  assert.equal(wider.width, 600);
  const shorter = resized(view, 400, 100)!;
  closeExtent(shorter.extent, [0, 4, 0.5, 1.5]);
  assert.equal(shorter.height, 100);
});

// ---------------------------------------------------------------------- float64's limit
const standard: Resolution = { origin: 0, u: 1, v: 1, shortest: 1 };

test("finestPixel: 16 ulps of the largest coordinate or input component; 0 without a plane", () => {
  assert.equal(FLOAT64_ULPS, 16);
  const eps = Number.EPSILON;
  close(finestPixel(standard, [0.25, 0.26, 0.5, 0.51]), 16 * eps * (0.255 + 0.505));
  close(finestPixel(standard, [-2, -1, 0, 1]), 16 * eps * 2);
  // origin far away, short directions: the input's magnitude over the shorter direction
  const far: Resolution = { origin: 1000, u: 2, v: 0.5, shortest: 0.5 };
  close(finestPixel(far, [0, 1, 0, 1]), 16 * eps * ((1000 + 0.5 * 2 + 0.5 * 0.5) / 0.5));
  assert.equal(finestPixel(null, [0, 1e-300, 0, 1e-300]), 0);
  assert.ok(finestPixel(standard, [0, 1e-300, 0, 1e-300]) > 0); // no zero bound at the origin
});

test("wheel zooms stop where float64 runs out, about the cursor, and say so", () => {
  let shown = new Viewport([0.25, 0.25 + 4e-12, 0.5, 0.5 + 2e-12], 400, 200);
  const [pu, pv] = shown.toPlane(100, 50);
  let limited = false;
  for (let k = 0; k < 40 && !limited; k++) {
    const step = wheelStep(shown, 100, 50, -500, standard);
    assert.ok(step.view.pixelSize() >= FLOAT64_MARGIN * finestPixel(standard, step.view.extent));
    ({ view: shown, limited } = step);
  }
  assert.ok(limited, "a deep enough zoom is stopped");
  const bound = finestPixel(standard, shown.extent);
  assert.ok(shown.pixelSize() < 1.1 * FLOAT64_MARGIN * bound, "as far in as it resolves");
  const [u, v] = shown.toPlane(100, 50);
  const pixel = shown.pixelSize();
  assert.ok(Math.abs(u - pu) < 0.1 * pixel && Math.abs(v - pv) < 0.1 * pixel); // under the cursor
  // wheeling on changes nothing more; zooming out is never limited
  const again = wheelStep(shown, 100, 50, -500, standard);
  assert.ok(again.limited && Math.abs(again.view.pixelSize() / shown.pixelSize() - 1) < 0.05);
  const out = wheelStep(shown, 100, 50, 500, standard);
  assert.equal(out.limited, false);
  assert.ok(out.view.pixelSize() > shown.pixelSize());
  // without a resolution, or well above the bound: the plain wheel zoom
  assert.deepEqual(
    wheelStep(view, 100, 50, -100, null).view.extent,
    wheelZoom(view, 100, 50, -100).extent,
  );
  assert.deepEqual(wheelStep(view, 100, 50, -100, standard), {
    view: wheelZoom(view, 100, 50, -100),
    limited: false,
  });
});

test("a box zoom beyond float64 is grown about the box's centre to where it resolves", () => {
  const deep = new Viewport([0.25, 0.25 + 4e-13, 0.5, 0.5 + 2e-13], 400, 200);
  const box: Gesture = { kind: "box", x0: 100, y0: 50, x1: 104, y1: 54 }; // 4e-15 wide
  const free = release(deep, box);
  assert.equal(free.limited, undefined);
  const step = release(deep, box, standard);
  assert.equal(step.limited, true);
  assert.equal(step.request, true);
  const pixel = step.view.pixelSize();
  const bound = finestPixel(standard, step.view.extent);
  assert.ok(pixel >= FLOAT64_MARGIN * bound && pixel < 1.1 * FLOAT64_MARGIN * bound);
  const [cu, cv] = free.view.toPlane(200, 100);
  const [su, sv] = step.view.toPlane(200, 100);
  assert.ok(Math.abs(su - cu) < 0.1 * pixel && Math.abs(sv - cv) < 0.1 * pixel); // same centre
  // a resolvable box is as before, with no `limited`
  const plain = release(view, { kind: "box", x0: 100, y0: 50, x1: 300, y1: 100 }, standard);
  assert.deepEqual(plain, release(view, { kind: "box", x0: 100, y0: 50, x1: 300, y1: 100 }));
});

test("limitZoom grows a view finer than float64 resolves, about its centre by default", () => {
  const tiny = Viewport.fit([1e-9, 1e-9 + 1e-22, -1e-9, -1e-9 + 1e-22], 420, 420);
  const { view: grown, limited } = limitZoom(tiny, standard);
  assert.ok(limited);
  assert.ok(grown.pixelSize() >= FLOAT64_MARGIN * finestPixel(standard, grown.extent));
  const [u, v] = grown.toPlane(210, 210);
  assert.ok(Math.abs(u - (1e-9 + 5e-23)) < 1e-24 && Math.abs(v - (-1e-9 + 5e-23)) < 1e-24);
  assert.deepEqual(limitZoom(view, standard), { view, limited: false });
});
