import assert from "node:assert/strict";
import { test } from "node:test";
import { limitLabel, limitLines, stripOf } from "../src/overlays/colorbar";
import { dragLimits, grab, MIN_SPAN, typedLimits } from "../src/overlays/limits";

const H = 420;

test("the strip and the limit lines above and below it", () => {
  const { top, bottom } = stripOf(H);
  assert.deepEqual([top, bottom], [32, 398]);
  const lines = limitLines(H);
  assert.ok(lines.vmax >= 14 && lines.vmax + 14 <= top); // under the quantity's name
  assert.ok(lines.vmin >= bottom && lines.vmin + 14 <= H);
  assert.deepEqual(stripOf(150), { top: 32, bottom: 128 });
});

test("a press grabs vmax in the strip's upper half, vmin in its lower half", () => {
  assert.equal(grab(40, H), "vmax");
  assert.equal(grab(200, H), "vmax");
  assert.equal(grab(230, H), "vmin");
  assert.equal(grab(397, H), "vmin");
  assert.equal(grab(10, H), null); // the quantity's name
  assert.equal(grab(415, H), null); // vmin's line
});

test("a drag moves the grabbed end with the pointer, the other stays", () => {
  const length = 398 - 1 - 32; // pixels for the whole range
  const drag = { end: "vmax" as const, y0: 50, lo: -1, hi: 1 };
  assert.deepEqual(dragLimits(drag, 50, H), [-1, 1]);
  const [lo, hi] = dragLimits(drag, 50 + length / 4, H); // a quarter of the strip down
  assert.equal(lo, -1);
  assert.ok(Math.abs(hi - 0.5) < 1e-12);
  assert.ok(Math.abs(dragLimits(drag, 50 - length / 2, H)[1] - 2) < 1e-12); // up: beyond
  // it stops MIN_SPAN of the range short of the other
  assert.deepEqual(dragLimits(drag, 2000, H), [-1, -1 + 2 * MIN_SPAN]);
  const low = { end: "vmin" as const, y0: 300, lo: -1, hi: 1 };
  const [a, b] = dragLimits(low, 300 - length / 4, H); // up raises vmin
  assert.ok(Math.abs(a + 0.5) < 1e-12 && b === 1);
  assert.deepEqual(dragLimits(low, -2000, H), [1 - 2 * MIN_SPAN, 1]);
});

test("a typed limit, with the other in use; or why not", () => {
  assert.deepEqual(typedLimits(" 0.5 ", "vmax", -1, 1), [-1, 0.5]);
  assert.deepEqual(typedLimits("-2e-3", "vmin", -1, 1), [-0.002, 1]);
  assert.equal(typedLimits("abc", "vmin", -1, 1), "vmin must be a finite number, not 'abc'");
  assert.equal(typedLimits("", "vmax", -1, 1), "vmax must be a finite number, not ''");
  assert.equal(
    typedLimits("Infinity", "vmax", -1, 1),
    "vmax must be a finite number, not 'Infinity'",
  );
  assert.equal(typedLimits("2", "vmin", -1, 1), "vmin must be below vmax, not 2 ≥ 1");
  assert.equal(typedLimits("-1", "vmax", -1, 1), "vmin must be below vmax, not -1 ≥ -1");
});

test("limits are written with 4 significant digits, powers of ten when needed", () => {
  assert.equal(limitLabel(1), "1");
  assert.equal(limitLabel(-0.123456), "-0.1235");
  assert.equal(limitLabel(1234.5678), "1235");
  assert.equal(limitLabel(12345), "1.23e+4");
  assert.equal(limitLabel(1.5e-7), "1.50e-7");
  assert.equal(limitLabel(0), "0");
});
