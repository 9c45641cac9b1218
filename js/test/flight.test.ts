import assert from "node:assert/strict";
import { test } from "node:test";
import { between, ease, FLIGHT_MS, Flight } from "../src/flight";
import { Viewport } from "../src/viewport";

const close = (a: number, b: number, tol = 1e-12) =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test("ease runs from 0 to 1, flat at both ends, symmetric", () => {
  assert.equal(ease(0), 0);
  assert.equal(ease(1), 1);
  assert.equal(ease(0.5), 0.5);
  assert.ok(ease(0.01) < 0.001 && ease(0.99) > 0.999);
  assert.equal(ease(-1), 0);
  assert.equal(ease(2), 1);
});

test("a zoom flies at an even pace in scale and keeps its fixed point where it is", () => {
  const a = new Viewport([-2, 2, -1, 1], 400, 200);
  // a 16× zoom about the plane point (1, 0.5), at 3/4 of the width and a quarter from the top
  const b = a.zoomAt(300, 50, 16);
  assert.deepEqual(between(a, b, 0), a);
  assert.deepEqual(between(a, b, 1), b);
  const half = between(a, b, 0.5);
  assert.ok(close(half.u1 - half.u0, 4 / 4)); // √16 = 4× in: halfway in log scale
  for (const t of [0.1, 0.3, 0.5, 0.8]) {
    const v = between(a, b, t);
    const [x, y] = v.toScreen(1, 0.5);
    assert.ok(close(x, 300, 1e-9) && close(y, 50, 1e-9), `${t}: ${x}, ${y}`);
    assert.ok(close((v.v1 - v.v0) / (v.u1 - v.u0), 0.5)); // square pixels all the way
  }
});

test("a pan flies in a straight line at constant size", () => {
  const a = new Viewport([0, 1, 0, 1], 100, 100);
  const b = new Viewport([3, 4, -2, -1], 100, 100);
  const v = between(a, b, 0.25);
  assert.ok(close(v.u0, 0.75) && close(v.v0, -0.5) && close(v.u1 - v.u0, 1));
});

test("a flight draws in-between views, then lands on the destination; a gesture lands it", async () => {
  const frames: (() => void)[] = [];
  globalThis.requestAnimationFrame = ((cb: () => void) => frames.push(cb)) as never;
  globalThis.cancelAnimationFrame = (() => {
    frames.length = 0;
  }) as never;
  const drawn: (Viewport | null)[] = [];
  const flight = new Flight(() => drawn.push(flight.view));
  const a = new Viewport([-1, 1, -1, 1], 100, 100);
  const b = new Viewport([0, 0.5, 0, 0.5], 100, 100);
  flight.start(a, b);
  assert.equal(drawn.length, 1);
  assert.ok(close(drawn[0]!.u0, -1, 1e-6) && close(drawn[0]!.u1, 1, 1e-6)); // t ≈ 0: where it was
  await new Promise((r) => setTimeout(r, FLIGHT_MS / 2));
  frames.shift()?.();
  const middle = drawn.at(-1)!;
  assert.ok(middle.u1 - middle.u0 < 2 && middle.u1 - middle.u0 > 0.5, "in between");
  await new Promise((r) => setTimeout(r, FLIGHT_MS));
  frames.shift()?.();
  assert.equal(drawn.at(-1), null); // landed: the view itself is drawn
  assert.equal(flight.view, null);
  flight.start(a, b);
  flight.land(); // a gesture
  assert.equal(flight.view, null);
  assert.equal(frames.length, 0);
  flight.start(b, b); // nowhere to go: drawn at once
  assert.equal(flight.view, null);
});
