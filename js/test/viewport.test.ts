import assert from "node:assert/strict";
import { test } from "node:test";
import type { Extent, TileKey } from "../src/protocol";
import { covering, levelFor, pyRound, tileExtent, tileSide, Viewport } from "../src/viewport";
import reference from "./fixtures/python-reference.json";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b)), `${a} ≉ ${b}`);

const vp = new Viewport([-2, 3, -1, 1.5], 800, 400);

test("toScreen: corners and orientation (y down, v up)", () => {
  assert.deepEqual(vp.toScreen(-2, 1.5), [0, 0]);
  assert.deepEqual(vp.toScreen(3, -1), [800, 400]);
  assert.deepEqual(vp.toScreen(0.5, 0.25), [400, 200]);
  assert.deepEqual(vp.toPlane(0, 400), [-2, -1]);
});

test("toPlane(toScreen(p)) = p and toScreen(toPlane(s)) = s", () => {
  for (const [u, v] of [
    [0, 0],
    [-1.7, 1.2],
    [2.9, -0.99],
    [10, -30],
  ] as const) {
    const [x, y] = vp.toScreen(u, v);
    const [u2, v2] = vp.toPlane(x, y);
    close(u2, u);
    close(v2, v);
  }
  for (const [x, y] of [
    [0, 0],
    [13.5, 377],
    [799, 1],
  ] as const) {
    const [u, v] = vp.toPlane(x, y);
    const [x2, y2] = vp.toScreen(u, v);
    close(x2, x);
    close(y2, y);
  }
});

test("pixelSize is the larger of the two pixel sizes", () => {
  assert.equal(vp.pixelSize(), Math.max(5 / 800, 2.5 / 400));
  assert.equal(new Viewport([0, 4, 0, 1], 100, 100).pixelSize(), 0.04);
});

test("pan moves the plane by exactly the dragged distance", () => {
  const [x, y] = [123, 45];
  const p = vp.toPlane(x, y);
  const moved = vp.pan(30, -20);
  const q = moved.toScreen(p[0], p[1]);
  close(q[0], x + 30);
  close(q[1], y - 20);
  // 30 px right = 30 · 5/800 plane units, 20 px up = 20 · 2.5/400 plane units.
  close(moved.u0, -2 - 30 * (5 / 800));
  close(moved.v0, -1 - 20 * (2.5 / 400));
  close(moved.u1 - moved.u0, 5);
  close(moved.v1 - moved.v0, 2.5);
});

test("zoomAt keeps the plane point under the cursor fixed", () => {
  for (const factor of [2, 0.5, 1.1, 10]) {
    const [x, y] = [611, 97];
    const p = vp.toPlane(x, y);
    const z = vp.zoomAt(x, y, factor);
    const q = z.toPlane(x, y);
    close(q[0], p[0]);
    close(q[1], p[1]);
    close(z.u1 - z.u0, 5 / factor);
    close(z.v1 - z.v0, 2.5 / factor);
  }
  assert.throws(() => vp.zoomAt(0, 0, 0), RangeError);
});

test("zoomToBox: exact box, aspect-preserving box, degenerate box", () => {
  const exact = vp.zoomToBox(400, 100, 200, 300, false); // corners in any order
  const [ua, va] = vp.toPlane(200, 300);
  const [ub, vb] = vp.toPlane(400, 100);
  assert.deepEqual(exact.extent, [ua, ub, va, vb]);
  assert.equal(exact.width, 800);

  // 200×200 px box on an 800×400 view with equal u/v pixel ratios (5/800 vs 2.5/400):
  // grown along u to 400×200 px about the box centre.
  const kept = vp.zoomToBox(200, 100, 400, 300);
  const [cu, cv] = vp.toPlane(300, 200);
  close(0.5 * (kept.u0 + kept.u1), cu);
  close(0.5 * (kept.v0 + kept.v1), cv);
  close(kept.u1 - kept.u0, 400 * (5 / 800));
  close(kept.v1 - kept.v0, 200 * (2.5 / 400));
  close((kept.u1 - kept.u0) / kept.width / ((kept.v1 - kept.v0) / kept.height), 1);
  assert.ok(
    kept.u0 <= exact.u0 && kept.u1 >= exact.u1 && kept.v0 <= exact.v0 && kept.v1 >= exact.v1,
  );

  assert.equal(vp.zoomToBox(10, 10, 10, 50), vp);
});

test("resize keeps centre and pixel size", () => {
  const r = vp.resize(400, 800);
  close(0.5 * (r.u0 + r.u1), 0.5);
  close(0.5 * (r.v0 + r.v1), 0.25);
  close((r.u1 - r.u0) / 400, 5 / 800);
  close((r.v1 - r.v0) / 800, 2.5 / 400);
});

test("Viewport rejects bad extents and sizes", () => {
  assert.throws(() => new Viewport([1, 0, 0, 1], 10, 10), RangeError);
  assert.throws(() => new Viewport([0, 1, 0, NaN], 10, 10), RangeError);
  assert.throws(() => new Viewport([0, 1, 0, 1], 0, 10), RangeError);
});

test("pyRound rounds half to even like Python's round()", () => {
  // Python: [round(x) for x in (0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -7.5)]
  // biome-ignore format: a table laid out by hand
  const cases: [number, number][] = [
    [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, 0], [-1.5, -2], [-2.5, -2], [-7.5, -8],
    [2.5000000000000004, 3], [2.4999999999999996, 2], [0.49999999999999994, 0], [-3.2, -3], [7, 7],
  ];
  for (const [x, r] of cases) assert.equal(pyRound(x), r, `round(${x})`);
  assert.ok(Object.is(pyRound(-0.4), 0), "no negative zero");
  assert.throws(() => pyRound(Infinity), RangeError);
  assert.throws(() => pyRound(NaN), RangeError);
});

test("levelFor: log2 giving 2.5 → 2 and 3.5 → 4 (ties to even), and Python's results", () => {
  // Quotients base/(tilePx·pixel) whose log2 is exactly x.5 in both Python and JS (Python's
  // 2**2.5, 2**3.5, 2**-1.5). Python: Pyramid(q, 1).level_for(View((0.0, 1.0, 0.0, 1.0), 1, 1))
  assert.equal(Math.log2(5.656854249492381), 2.5);
  assert.equal(levelFor(5.656854249492381, 1, 1), 2);
  assert.equal(Math.log2(11.313708498984761), 3.5);
  assert.equal(levelFor(11.313708498984761, 1, 1), 4);
  assert.equal(Math.log2(0.3535533905932738), -1.5);
  assert.equal(levelFor(0.3535533905932738, 1, 1), -2);
  assert.equal(levelFor(1, 64, 1 / 64 / 8), 3);
  assert.equal(levelFor(1, 256, 4 / 256), -2);
  for (const c of reference.levelFor) {
    assert.equal(levelFor(c.base, c.tile_px, c.pixel), c.level, JSON.stringify(c));
  }
});

test("tileSide and tileExtent", () => {
  assert.equal(tileSide(1, 3), 0.125);
  assert.equal(tileSide(3, -2), 12);
  assert.deepEqual(tileExtent(1, [3, -1, 2]), [0.25, 0.375, -0.125, 0]);
});

const keys = (k: [number, number, number][]): TileKey[] => k;

test("covering matches Python: base 1, z 3, extent (-0.3, 0.55, 0.1, 0.42)", () => {
  const ext: Extent = [-0.3, 0.55, 0.1, 0.42];
  // python3 -c "from ftle_widget.tiles import Pyramid; print(Pyramid(1.0, 64).covering((-0.3,0.55,0.1,0.42), 3))"
  // biome-ignore format: a table laid out by hand
  assert.deepEqual(covering(ext, 3, 1.0), keys([
    [3, 2, 1], [3, 2, 0], [3, 1, 1], [3, 1, 0], [3, 3, 0], [3, 3, 1], [3, 2, 2], [3, 2, -1],
    [3, 1, 2], [3, 1, -1], [3, 0, 0], [3, 0, 1], [3, 3, 2], [3, 3, -1], [3, 0, 2], [3, 0, -1],
    [3, 2, -2], [3, 2, 3], [3, 1, -2], [3, 1, 3], [3, 3, -2], [3, 3, 3], [3, 0, -2], [3, 0, 3],
    [3, 2, -3], [3, 2, 4], [3, 1, -3], [3, 1, 4], [3, 3, -3], [3, 3, 4], [3, 0, -3], [3, 0, 4],
  ]));
  // ... .covering((-0.3,0.55,0.1,0.42), 3, margin=1)
  // biome-ignore format: a table laid out by hand
  assert.deepEqual(covering(ext, 3, 1.0, 1), keys([
    [3, 2, 1], [3, 2, 0], [3, 1, 1], [3, 1, 0], [3, 3, 0], [3, 3, 1], [3, 2, 2], [3, 2, -1],
    [3, 1, 2], [3, 1, -1], [3, 0, 0], [3, 0, 1], [3, 3, 2], [3, 3, -1], [3, 0, 2], [3, 0, -1],
    [3, 4, 0], [3, 4, 1], [3, 2, -2], [3, 2, 3], [3, 1, -2], [3, 1, 3], [3, -1, 0], [3, -1, 1],
    [3, 4, 2], [3, 4, -1], [3, 3, -2], [3, 3, 3], [3, 0, -2], [3, 0, 3], [3, -1, 2], [3, -1, -1],
    [3, 4, -2], [3, 4, 3], [3, 2, -3], [3, 2, 4], [3, 1, -3], [3, 1, 4], [3, -1, -2], [3, -1, 3],
    [3, 3, -3], [3, 3, 4], [3, 0, -3], [3, 0, 4], [3, 4, -3], [3, 4, 4], [3, -1, -3], [3, -1, 4],
    [3, 2, -4], [3, 2, 5], [3, 1, -4], [3, 1, 5], [3, 3, -4], [3, 3, 5], [3, 0, -4], [3, 0, 5],
    [3, 4, -4], [3, 4, 5], [3, -1, -4], [3, -1, 5],
  ]));
});

test("covering matches Python: negative z and exact ties", () => {
  // Pyramid(1.0, 64).covering((-0.3,0.55,0.1,0.42), -1)
  assert.deepEqual(
    covering([-0.3, 0.55, 0.1, 0.42], -1, 1.0),
    keys([
      [-1, 0, 0],
      [-1, 0, -1],
    ]),
  );
  // Pyramid(3.0, 64).covering((-2.5,4.1,-7.3,1.2), -2, margin=1)
  // biome-ignore format: a table laid out by hand
  assert.deepEqual(covering([-2.5, 4.1, -7.3, 1.2], -2, 3.0, 1), keys([
    [-2, -1, 0], [-2, -1, -1], [-2, 0, 0], [-2, 0, -1], [-2, -2, 0], [-2, -2, -1], [-2, -1, 1],
    [-2, -1, -2], [-2, 0, 1], [-2, 0, -2], [-2, 1, 0], [-2, 1, -1], [-2, -2, 1], [-2, -2, -2],
    [-2, 1, 1], [-2, 1, -2],
  ]));
  // Pyramid(1.0, 64).covering((-0.5,0.5,-0.5,0.5), 2): four-way ties keep i-major order
  // biome-ignore format: a table laid out by hand
  assert.deepEqual(covering([-0.5, 0.5, -0.5, 0.5], 2, 1.0), keys([
    [2, -1, -1], [2, -1, 0], [2, 0, -1], [2, 0, 0], [2, -2, -1], [2, -2, 0], [2, -1, -2],
    [2, -1, 1], [2, 0, -2], [2, 0, 1], [2, 1, -1], [2, 1, 0], [2, -2, -2], [2, -2, 1],
    [2, 1, -2], [2, 1, 1],
  ]));
});

test(`covering matches Python on ${reference.covering.length} generated cases`, () => {
  for (const c of reference.covering) {
    const got = covering(c.extent as unknown as Extent, c.z, c.base, c.margin);
    assert.deepEqual(got, c.keys, JSON.stringify({ ...c, keys: undefined }));
  }
});

test("fit grows the extent about its centre to square pixels, keeping all of it visible", () => {
  const wide = Viewport.fit([-1.5, 1.5, -1.5, 1.5], 600, 300);
  assert.deepEqual([wide.v0, wide.v1], [-1.5, 1.5]);
  assert.ok(Math.abs(wide.u0 + 3) < 1e-12 && Math.abs(wide.u1 - 3) < 1e-12);
  assert.ok(Math.abs((wide.u1 - wide.u0) / wide.width - (wide.v1 - wide.v0) / wide.height) < 1e-15);
  const tall = Viewport.fit([0, 2, 10, 11], 100, 400);
  assert.deepEqual([tall.u0, tall.u1], [0, 2]);
  assert.ok(Math.abs(tall.v0 - 6.5) < 1e-12 && Math.abs(tall.v1 - 14.5) < 1e-12);
  const same = Viewport.fit([0, 4, 0, 2], 200, 100);
  assert.deepEqual(same.extent, [0, 4, 0, 2]);
  assert.throws(() => Viewport.fit([1, 0, 0, 1], 10, 10), /bad extent/);
});
