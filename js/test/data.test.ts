import assert from "node:assert/strict";
import { test } from "node:test";
import { classColour, TABLEAU10, UNLABELLED } from "../src/overlays/data";
import {
  type DataMessage,
  decodeData,
  decodeInput,
  decodeTile,
  type InputMessage,
} from "../src/protocol";

function viewAt(buffer: ArrayBuffer, offset: number, values: number[]): DataView {
  const dv = new DataView(buffer, offset, values.length * 4);
  values.forEach((v, k) => {
    dv.setFloat32(4 * k, v, true);
  });
  return dv;
}

const msg = (count: number, labels = ["a", "b"]): DataMessage => ({ kind: "data", count, labels });

test("decodeData: DataViews at non-zero offsets, aligned (in place) and unaligned (copied)", () => {
  const buf = new ArrayBuffer(64);
  const uv = viewAt(buf, 8, [0.5, -1.25, 2, 3, -0.75, 0]);
  const cls = viewAt(buf, 33, [0, 1, -1]);
  const d = decodeData(msg(3), [uv, cls]);
  assert.equal(d.count, 3);
  assert.deepEqual(d.labels, ["a", "b"]);
  assert.deepEqual(Array.from(d.uv), [0.5, -1.25, 2, 3, -0.75, 0]);
  assert.deepEqual(Array.from(d.cls), [0, 1, -1]);
  assert.equal(d.uv.buffer, buf);
  assert.equal(d.uv.byteOffset, 8);
  assert.notEqual(d.cls.buffer, buf);
});

test("decodeData: no points with empty or absent buffers", () => {
  for (const bufs of [
    undefined,
    [],
    [new DataView(new ArrayBuffer(0)), new DataView(new ArrayBuffer(0))],
  ]) {
    const d = decodeData(msg(0, []), bufs);
    assert.equal(d.count, 0);
    assert.equal(d.uv.length, 0);
    assert.equal(d.cls.length, 0);
  }
});

test("decodeData: wrong lengths and counts throw, naming the array", () => {
  const f32 = (n: number) => new DataView(new ArrayBuffer(4 * n));
  assert.throws(
    () => decodeData(msg(2), [f32(3), f32(2)]),
    /decodeData: uv should hold 4 float32 values \(16 bytes\), got 12 bytes \(3 values\)/,
  );
  assert.throws(
    () => decodeData(msg(2), [f32(4), f32(4)]),
    /decodeData: cls should hold 2 float32 values \(8 bytes\), got 16 bytes/,
  );
  assert.throws(
    () => decodeData(msg(2), [f32(4)]),
    /decodeData: expected 2 buffers \(uv, cls\), got 1/,
  );
  assert.throws(() => decodeData(msg(2), undefined), /expected 2 buffers/);
  assert.throws(() => decodeData(msg(-1), []), /count must be a non-negative integer, got -1/);
  assert.throws(() => decodeData(msg(1.5), []), /count must be a non-negative integer/);
});

test("decodeInput: shapes [H, W] and [C, H, W]; bad shapes and lengths throw", () => {
  const input = (shape: number[]): InputMessage => ({
    kind: "input",
    id: 1,
    shape,
    vmin: 0,
    vmax: 1,
  });
  const buf = new ArrayBuffer(4 + 4 * 6);
  const d = decodeInput(input([2, 3]), [viewAt(buf, 4, [0, 1, 2, 3, 4, 5])]);
  assert.deepEqual(d.shape, [1, 2, 3]);
  assert.deepEqual(Array.from(d.values), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(
    decodeInput(input([3, 1, 2]), [viewAt(new ArrayBuffer(24), 0, [1, 2, 3, 4, 5, 6])]).shape,
    [3, 1, 2],
  );
  assert.throws(
    () => decodeInput(input([2, 2, 2]), [viewAt(new ArrayBuffer(32), 0, [])]),
    /C 1 or 3, got \[2,2,2\]/,
  );
  assert.throws(() => decodeInput(input([4]), []), /shape must be/);
  assert.throws(() => decodeInput(input([2, 0]), []), /shape must be/);
  assert.throws(
    () => decodeInput(input([2, 3]), [viewAt(new ArrayBuffer(20), 0, [1, 2, 3, 4, 5])]),
    /decodeInput: values should hold 6 float32 values/,
  );
  assert.throws(() => decodeInput(input([2, 3]), []), /expected 1 buffer/);
});

test("classColour: Tableau10 by class id, grey when unlabelled", () => {
  assert.equal(classColour(0), "#4e79a7");
  assert.equal(classColour(1), "#f28e2c");
  assert.equal(classColour(9), "#bab0ab");
  assert.equal(classColour(12), TABLEAU10[2]);
  assert.equal(classColour(-1), UNLABELLED);
  assert.equal(classColour(NaN), UNLABELLED);
  assert.equal(classColour(0.5), UNLABELLED);
});

test("hover names the predicted class with the data's labels when it has them", async () => {
  const { hoverText } = await import("../src/overlays/hover");
  const reading = { u: 0.5, v: -0.25, value: 1.5, prediction: 0, dtype: "float32" as const };
  assert.equal(hoverText(reading, "λ₁"), "u 0.5000  v -0.2500  λ₁ 1.5000  class 0");
  assert.ok(hoverText(reading, "λ₁", ["-1", "1"]).endsWith("class -1"));
  assert.ok(hoverText({ ...reading, prediction: 7 }, "λ₁", ["a", "b"]).endsWith("class 7"));
  assert.ok(hoverText({ ...reading, prediction: null }, "λ₁", ["a"]).endsWith("λ₁ 1.5000"));
});

test("hover says float64 when the tile under the cursor was computed in float64", async () => {
  const { hoverText, readAt } = await import("../src/overlays/hover");
  const { TileStore } = await import("../src/tiles");
  const reading = { u: 0.5, v: -0.25, value: 1.5, prediction: 0, dtype: "float64" as const };
  assert.equal(hoverText(reading, "λ₁"), "u 0.5000  v -0.2500  λ₁ 1.5000  class 0 · float64");
  assert.equal(
    hoverText({ ...reading, prediction: null }, "log Λ₁"),
    "u 0.5000  v -0.2500  log Λ₁ 1.5000 · float64",
  );
  assert.ok(!hoverText({ ...reading, dtype: "float32" }, "λ₁").includes("float64"));
  assert.ok(!hoverText({ ...reading, dtype: null }, "λ₁").includes("float64"));
  // readAt takes the precision from the finest tile holding the point
  const store = new TileStore();
  const tile = (z: number, dtype: "float32" | "float64") => {
    const side = 2 ** -z;
    return decodeTile(
      {
        kind: "tile",
        z,
        i: 0,
        j: 0,
        generation: 0,
        model_version: 0,
        tile_px: 1,
        extent: [0, side, 0, side],
        vmin: 2,
        vmax: 2,
        has_direction: false,
        dtype,
        prediction_dtype: "float32",
        direction_dtype: null,
      },
      [new Float32Array([2]), new Float32Array([1])],
    );
  };
  store.add(tile(0, "float32"));
  assert.equal(readAt(store, 0.75, 0.75, { factor: 1 }).dtype, "float32");
  store.add(tile(1, "float64"));
  const deep = readAt(store, 0.25, 0.25, { factor: 1 });
  assert.deepEqual(deep, { u: 0.25, v: 0.25, value: 2, prediction: 1, dtype: "float64" });
  assert.ok(hoverText(deep, "λ₁").endsWith("class 1 · float64"));
  assert.equal(readAt(store, 0.75, 0.75, { factor: 1 }).dtype, "float32");
  assert.equal(readAt(store, 5, 5, { factor: 1 }).dtype, null);
});
