import assert from "node:assert/strict";
import { test } from "node:test";
import { niceTicks, tickLabel } from "../src/overlays/ticks";

test("niceTicks picks 1-2-5 steps inside the range", () => {
  assert.deepEqual(niceTicks(-1.5, 1.5, 5), [-1.5, -1, -0.5, 0, 0.5, 1, 1.5]);
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(-4, 4, 5), [-4, -2, 0, 2, 4]);
  assert.deepEqual(niceTicks(0.4310001, 0.4310031, 3), [0.431001, 0.431002, 0.431003]);
  assert.deepEqual(niceTicks(1, 1), []);
  assert.deepEqual(niceTicks(2, 1), []);
});

test("tickLabel is short", () => {
  assert.equal(tickLabel(0), "0");
  assert.equal(tickLabel(0.5), "0.5");
  assert.equal(tickLabel(-1.5), "-1.5");
  assert.equal(tickLabel(2e-7), "2.0e-7");
  assert.equal(tickLabel(0.1 + 0.2), "0.3");
});
