import assert from "node:assert/strict";
import { test } from "node:test";
import { niceTicks, tickLabel, tickStep } from "../src/overlays/ticks";

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

/** Tick values and labels niceTicks/tickLabel give over [lo, hi]. */
function labelled(lo: number, hi: number, count: number): [number[], string[]] {
  const ticks = niceTicks(lo, hi, count);
  const step = tickStep(lo, hi, count);
  return [ticks, ticks.map((t) => tickLabel(t, step))];
}

test("tick labels follow the tick step: distinct at deep zoom, each reading its value", () => {
  const ranges: [number, number][] = [
    [0.1234567, 0.1234568],
    [-1.5, -1.5 + 3e-12],
    [1.2345678901, 1.2345678902],
    [1e-9, 1e-9 + 1e-15],
    [-2e-7, -1.99e-7],
    [12345.6, 12345.6001],
    [98765432, 98765433],
    [0.1234567 - 4e-8, 0.1234567 + 4e-8],
  ];
  for (const [lo, hi] of ranges) {
    for (const count of [2, 4, 6]) {
      const [ticks, labels] = labelled(lo, hi, count);
      const step = tickStep(lo, hi, count);
      assert.ok(ticks.length >= (count > 2 ? 2 : 1), `${lo}..${hi}: ${ticks}`);
      assert.equal(new Set(labels).size, labels.length, `${lo}..${hi}: ${labels.join(" ")}`);
      ticks.forEach((t, k) => {
        assert.ok(Math.abs(Number(labels[k]) - t) <= step * 1e-3, `${labels[k]} for ${t}`);
      });
    }
  }
  // the example of issue 12: the labels differ
  const [, labels] = labelled(0.1234567, 0.1234568, 4);
  assert.deepEqual(labels, [
    "0.1234567",
    "0.12345672",
    "0.12345674",
    "0.12345676",
    "0.12345678",
    "0.1234568",
  ]);
});

test("tick labels with the step are as short as before where that sufficed", () => {
  assert.deepEqual(labelled(-1.5, 1.5, 5)[1], ["-1.5", "-1", "-0.5", "0", "0.5", "1", "1.5"]);
  assert.deepEqual(labelled(0, 10, 5)[1], ["0", "2", "4", "6", "8", "10"]);
  assert.deepEqual(labelled(0, 4e-7, 2)[1], ["0", "2.0e-7", "4.0e-7"]);
  assert.deepEqual(labelled(0, 40000, 2)[1], ["0", "2.0e+4", "4.0e+4"]);
  assert.equal(tickStep(-1.5, 1.5, 5), 0.5);
});

test("hover coordinates carry enough digits that adjacent pixels read differently", async () => {
  const { hoverText } = await import("../src/overlays/hover");
  const reading = { u: 0.5, v: -0.25, value: 1.5, prediction: 0, dtype: "float32" as const };
  // the home view's pixels (3 units on 420 px) need no more than the 4 decimals shown before
  assert.equal(hoverText(reading, "λ₁", [], 3 / 420), "u 0.5000  v -0.2500  λ₁ 1.5000  class 0");
  const coordinates = (u: number, v: number, pixel: number) => {
    const m = /^u (\S+) {2}v (\S+) /.exec(hoverText({ ...reading, u, v }, "λ₁", [], pixel));
    assert.ok(m);
    return [m[1]!, m[2]!] as const;
  };
  for (const pixel of [1e-2, 3e-4, 1e-5, 7e-8, 1e-10, 2.5e-12]) {
    for (const x of [0.1234567, -1.5, 0, 1e-5, -3.3e-4, 0.05, 12.75, -7654.321, 12345.678]) {
      if (Math.abs(x) * 1e-15 > pixel / 100) continue; // beyond float64
      const [u, v] = coordinates(x, x, pixel);
      const [u1, v1] = coordinates(x + pixel, x - pixel, pixel);
      assert.notEqual(u, u1, `u ${x} (pixel ${pixel}): ${u} = ${u1}`);
      assert.notEqual(v, v1, `v ${x} (pixel ${pixel}): ${v} = ${v1}`);
      assert.ok(Math.abs(Number(u) - x) <= pixel / 2, `${u} for ${x}`);
      assert.ok(u.length <= 22, u);
    }
  }
});
