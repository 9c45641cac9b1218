import assert from "node:assert/strict";
import { test } from "node:test";
import {
  dataRequestMessage,
  decodeError,
  decodeTile,
  type ErrorMessage,
  inputRequestMessage,
  keyString,
  MAX_VIEW_PIXELS,
  type PredictionDtype,
  type TileMessage,
  viewMessage,
} from "../src/protocol";

function tileMsg(
  tilePx: number,
  hasDirection: boolean,
  predictionDtype: PredictionDtype = "uint8",
): TileMessage {
  return {
    kind: "tile",
    z: 2,
    i: -1,
    j: 3,
    generation: 7,
    model_version: 1,
    tile_px: tilePx,
    extent: [0.75, 1, -0.25, 0],
    vmin: -1,
    vmax: 2,
    has_direction: hasDirection,
    dtype: "float32",
    prediction_dtype: predictionDtype,
    direction_dtype: hasDirection ? "angle_uint16" : null,
  };
}

type Kind = "f32" | "u16" | "u8";
/** Values written little-endian into `buffer` at byte `offset`; returns a DataView on them. */
function viewAt(buffer: ArrayBuffer, offset: number, values: number[], kind: Kind = "f32") {
  const size = { f32: 4, u16: 2, u8: 1 }[kind];
  const dv = new DataView(buffer, offset, values.length * size);
  values.forEach((v, k) => {
    if (kind === "f32") dv.setFloat32(4 * k, v, true);
    else if (kind === "u16") dv.setUint16(2 * k, v, true);
    else dv.setUint8(k, v);
  });
  return dv;
}

const seq = (n: number, start: number) => Array.from({ length: n }, (_, k) => start + k + 0.5);
const f32 = (values: number[]) => values.map(Math.fround);

test("decodeTile: DataViews at aligned non-zero offsets into one shared buffer", () => {
  const buf = new ArrayBuffer(4 + 16 + 4 + 8 + 8);
  const ftle = viewAt(buf, 4, seq(4, 0));
  const pred = viewAt(buf, 20, [0, 1, 255, 254], "u8");
  // axes 0, π/2 (k = 32767.5 rounds to 32768), 3π/4 and none
  const dir = viewAt(buf, 24, [0, 32768, 49151, 65535], "u16");
  const d = decodeTile(tileMsg(2, true), [ftle, pred, dir]);
  assert.deepEqual(Array.from(d.ftle), seq(4, 0));
  assert.deepEqual(Array.from(d.prediction), [0, 1, NaN, 254]);
  const step = Math.PI / 65535;
  const axis = (k: number) => [Math.cos(k * step), Math.sin(k * step)];
  assert.deepEqual(
    Array.from(d.direction!),
    f32([...axis(0), ...axis(32768), ...axis(49151), NaN, NaN]),
  );
  assert.ok(Math.abs(d.direction![2]! + 2.4e-5) < 1e-6 && d.direction![3] === 1);
  assert.ok(Math.abs(d.direction![4]! + Math.SQRT1_2) < 3e-5);
  assert.deepEqual(d.key, [2, -1, 3]);
  assert.equal(d.ftle.buffer, buf, "aligned buffers are viewed in place, not copied");
  assert.equal(d.ftle.byteOffset, 4);
});

test("decodeTile: predictions as uint8, uint16 and float32, none as NaN", () => {
  const buf = new ArrayBuffer(64);
  const ftle = () => viewAt(new ArrayBuffer(16), 0, [1, 2, 3, 4]);
  const u16 = viewAt(buf, 3, [300, 0, 65535, 65534], "u16"); // odd offset: read, not viewed
  assert.deepEqual(Array.from(decodeTile(tileMsg(2, false, "uint16"), [ftle(), u16]).prediction), [
    300,
    0,
    NaN,
    65534,
  ]);
  const u8 = viewAt(buf, 13, [255, 7, 0, 3], "u8");
  assert.deepEqual(Array.from(decodeTile(tileMsg(2, false, "uint8"), [ftle(), u8]).prediction), [
    NaN,
    7,
    0,
    3,
  ]);
  const wide = viewAt(buf, 32, [70000, NaN, 0, 1]);
  assert.deepEqual(
    Array.from(decodeTile(tileMsg(2, false, "float32"), [ftle(), wide]).prediction),
    [70000, NaN, 0, 1],
  );
});

test("decodeTile: unaligned byteOffsets are copied correctly", () => {
  const buf = new ArrayBuffer(64);
  const ftle = viewAt(buf, 1, [1.25, -2, NaN, 3e38]);
  const pred = viewAt(buf, 19, [2, 0, 1, 2], "u8");
  const d = decodeTile(tileMsg(2, false), [ftle, pred]);
  assert.deepEqual(Array.from(d.ftle), [1.25, -2, NaN, Math.fround(3e38)]);
  assert.deepEqual(Array.from(d.prediction), [2, 0, 1, 2]);
  assert.equal(d.direction, null);
  assert.notEqual(d.ftle.buffer, buf);
});

test("decodeTile: plain ArrayBuffers and typed arrays are accepted", () => {
  const ftle = new Float32Array([1, 2, 3, 4]).buffer;
  const pred = new Uint8Array([4, 3, 2, 1]);
  const d = decodeTile(tileMsg(2, false), [ftle, pred]);
  assert.deepEqual(Array.from(d.ftle), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(d.prediction), [4, 3, 2, 1]);
  const dir = new Uint16Array([0, 0, 0, 0]).buffer;
  assert.deepEqual(
    Array.from(decodeTile(tileMsg(2, true), [ftle, pred, dir]).direction!),
    [1, 0, 1, 0, 1, 0, 1, 0],
  );
});

test("decodeTile: wrong lengths throw, naming the array and both lengths", () => {
  const ok = () => new DataView(new ArrayBuffer(16));
  const bytes = (n: number) => new DataView(new ArrayBuffer(n));
  assert.throws(
    () => decodeTile(tileMsg(2, false), [bytes(12), bytes(4)]),
    /ftle should hold 4 float32 values \(16 bytes\), got 12 bytes \(3 values\)/,
  );
  assert.throws(
    () => decodeTile(tileMsg(2, false), [ok(), new DataView(new ArrayBuffer(20), 1, 17)]),
    /prediction should hold 4 uint8 values \(4 bytes\), got 17 bytes/,
  );
  assert.throws(
    () => decodeTile(tileMsg(2, false), [ok(), ok()]), // the float32 layout of before
    /prediction should hold 4 uint8 values \(4 bytes\), got 16 bytes/,
  );
  assert.throws(
    () => decodeTile(tileMsg(2, false, "uint16"), [ok(), bytes(7)]),
    /prediction should hold 4 uint16 values \(8 bytes\), got 7 bytes/,
  );
  assert.throws(
    () => decodeTile(tileMsg(2, false, "float32"), [ok(), bytes(4)]),
    /prediction should hold 4 float32 values \(16 bytes\), got 4 bytes \(1 values\)/,
  );
  assert.throws(
    () => decodeTile(tileMsg(2, true), [ok(), bytes(4), bytes(32)]), // float32 pairs, as before
    /direction should hold 4 uint16 values \(8 bytes\), got 32 bytes \(16 values\)/,
  );
  assert.throws(
    () => decodeTile(tileMsg(2, true), [ok(), bytes(4)]),
    /expected 3 buffers \(ftle, prediction, direction\), got 2/,
  );
  assert.throws(() => decodeTile(tileMsg(2, false), [ok(), ok(), ok()]), /expected 2 buffers/);
  assert.throws(
    () => decodeTile(tileMsg(0, false), [ok(), ok()]),
    /tile_px must be a positive integer/,
  );
});

test("decodeTile: an unknown or missing dtype throws, naming the field", () => {
  const ok = () => [new DataView(new ArrayBuffer(16)), new DataView(new ArrayBuffer(4))];
  const bad =
    (fields: Record<string, unknown>, buffers = ok()) =>
    () =>
      decodeTile({ ...tileMsg(2, false), ...fields } as TileMessage, buffers);
  for (const dtype of ["int8", "float64", "toString", null, undefined, 8]) {
    assert.throws(
      bad({ prediction_dtype: dtype }),
      /prediction_dtype must be one of uint8, uint16, float32/,
    );
  }
  assert.throws(
    bad({ direction_dtype: "angle_uint16" }),
    /direction_dtype must be null with has_direction false/,
  );
  const three = [...ok(), new DataView(new ArrayBuffer(8))];
  for (const dtype of [null, undefined, "float32", "angle_uint8"]) {
    assert.throws(
      bad({ has_direction: true, direction_dtype: dtype }, three),
      /direction_dtype must be "angle_uint16" with has_direction true/,
    );
  }
});

test("viewMessage and keyString", () => {
  const ext = [0, 1, 2, 3] as const;
  assert.deepEqual(viewMessage(4, ext, 640, 480), {
    kind: "view",
    generation: 4,
    extent: [0, 1, 2, 3],
    width: 640,
    height: 480,
  });
  assert.equal(keyString([-2, 0, -7]), "-2/0/-7");
});

test("viewMessage: whole pixels in [1, MAX_VIEW_PIXELS], as Python accepts", () => {
  const size = (w: number, h: number) => {
    const m = viewMessage(1, [0, 1, 0, 1], w, h);
    return [m.width, m.height];
  };
  assert.equal(MAX_VIEW_PIXELS, 4096);
  assert.deepEqual(size(300.4, 199.5), [300, 200]);
  assert.deepEqual(size(4096.4, 4097), [4096, 4096]);
  assert.deepEqual(size(1e9, Infinity), [4096, 4096]);
  assert.deepEqual(size(0.2, -5), [1, 1]);
  assert.deepEqual(size(NaN, 0), [1, 1]);
});

test("the request builders", () => {
  assert.deepEqual(dataRequestMessage(), { kind: "data_request" });
  assert.deepEqual(inputRequestMessage(3, 0.5, -2), {
    kind: "input_request",
    id: 3,
    u: 0.5,
    v: -2,
  });
});

test("decodeError: the key and generation, checked", () => {
  const msg = (key: unknown, generation: unknown) =>
    ({ kind: "error", message: "tile (1, 2, -3): boom", key, generation }) as ErrorMessage;
  assert.deepEqual(decodeError(msg([1, 2, -3], 9)), {
    key: [1, 2, -3],
    generation: 9,
    message: "tile (1, 2, -3): boom",
  });
  assert.throws(() => decodeError(msg(undefined, 9)), /key must be \[z, i, j\]/);
  assert.throws(() => decodeError(msg([1, 2], 9)), /key must be \[z, i, j\]/);
  assert.throws(() => decodeError(msg([1, 2, 0.5], 9)), /key must be/);
  assert.throws(() => decodeError(msg([1, 2, 3], -1)), /generation must be a non-negative integer/);
  assert.throws(
    () => decodeError({ kind: "tile" } as unknown as ErrorMessage),
    /expected an "error" message/,
  );
});
