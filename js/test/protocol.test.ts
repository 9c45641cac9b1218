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
  type TileMessage,
  viewMessage,
} from "../src/protocol";

function tileMsg(tilePx: number, hasDirection: boolean): TileMessage {
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
  };
}

/** Float32 values written little-endian into `buffer` at byte `offset`; returns a DataView on them. */
function viewAt(buffer: ArrayBuffer, offset: number, values: number[]): DataView {
  const dv = new DataView(buffer, offset, values.length * 4);
  values.forEach((v, k) => {
    dv.setFloat32(4 * k, v, true);
  });
  return dv;
}

const seq = (n: number, start: number) => Array.from({ length: n }, (_, k) => start + k + 0.5);

test("decodeTile: DataViews at aligned non-zero offsets into one shared buffer", () => {
  const buf = new ArrayBuffer(4 + 16 + 16 + 32 + 8);
  const ftle = viewAt(buf, 4, seq(4, 0));
  const pred = viewAt(buf, 20, [0, 1, 1, 0]);
  const dir = viewAt(buf, 36, seq(8, 100));
  const d = decodeTile(tileMsg(2, true), [ftle, pred, dir]);
  assert.deepEqual(Array.from(d.ftle), seq(4, 0));
  assert.deepEqual(Array.from(d.prediction), [0, 1, 1, 0]);
  assert.deepEqual(Array.from(d.direction!), seq(8, 100));
  assert.deepEqual(d.key, [2, -1, 3]);
  assert.equal(d.ftle.buffer, buf, "aligned buffers are viewed in place, not copied");
  assert.equal(d.ftle.byteOffset, 4);
});

test("decodeTile: unaligned byteOffsets are copied correctly", () => {
  const buf = new ArrayBuffer(64);
  const ftle = viewAt(buf, 1, [1.25, -2, NaN, 3e38]);
  const pred = viewAt(buf, 19, [2, 0, 1, 2]);
  const d = decodeTile(tileMsg(2, false), [ftle, pred]);
  assert.deepEqual(Array.from(d.ftle), [1.25, -2, NaN, Math.fround(3e38)]);
  assert.deepEqual(Array.from(d.prediction), [2, 0, 1, 2]);
  assert.equal(d.direction, null);
  assert.notEqual(d.ftle.buffer, buf);
});

test("decodeTile: plain ArrayBuffers and typed arrays are accepted", () => {
  const ftle = new Float32Array([1, 2, 3, 4]).buffer;
  const pred = new Uint8Array(new Float32Array([4, 3, 2, 1]).buffer);
  const d = decodeTile(tileMsg(2, false), [ftle, pred]);
  assert.deepEqual(Array.from(d.ftle), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(d.prediction), [4, 3, 2, 1]);
});

test("decodeTile: wrong lengths throw, naming the array and both lengths", () => {
  const ok = () => new DataView(new ArrayBuffer(16));
  assert.throws(
    () => decodeTile(tileMsg(2, false), [new DataView(new ArrayBuffer(12)), ok()]),
    /ftle should hold 4 float32 values \(16 bytes\), got 12 bytes \(3 values\)/,
  );
  assert.throws(
    () => decodeTile(tileMsg(2, false), [ok(), new DataView(new ArrayBuffer(20), 1, 17)]),
    /prediction should hold 4 float32 values \(16 bytes\), got 17 bytes/,
  );
  assert.throws(
    () => decodeTile(tileMsg(2, true), [ok(), ok(), ok()]),
    /direction should hold 8 float32 values \(32 bytes\), got 16 bytes/,
  );
  assert.throws(
    () => decodeTile(tileMsg(2, true), [ok(), ok()]),
    /expected 3 buffers \(ftle, prediction, direction\), got 2/,
  );
  assert.throws(() => decodeTile(tileMsg(2, false), [ok(), ok(), ok()]), /expected 2 buffers/);
  assert.throws(
    () => decodeTile(tileMsg(0, false), [ok(), ok()]),
    /tile_px must be a positive integer/,
  );
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
