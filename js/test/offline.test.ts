import assert from "node:assert/strict";
import { test } from "node:test";
import { deflateSync } from "node:zlib";
import {
  answer,
  decodeStored,
  fromPlanes,
  halfToFloat,
  inflate,
  type Manifest,
  NEEDS_KERNEL,
  OFFLINE,
  OfflineModel,
} from "../src/offline";

test("float16 bits become the float32 they stand for", () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x3555), 0.333251953125); // 1/3 rounded to float16
  assert.equal(halfToFloat(0x7bff), 65504); // the largest
  assert.equal(halfToFloat(0x0001), 2 ** -24); // the smallest subnormal
  assert.equal(halfToFloat(0x0400), 2 ** -14); // the smallest normal
  assert.equal(halfToFloat(0x7c00), Number.POSITIVE_INFINITY);
  assert.equal(halfToFloat(0xfc00), Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.ok(Object.is(halfToFloat(0x8000), -0));
});

test("float16 planes: high bytes, then low bytes", () => {
  const bytes = Uint8Array.from([9, 0x3c, 0xc0, 0x00, 0x00, 9]); // 1.0 and -2.0 at offset 1
  assert.deepEqual([...fromPlanes(bytes, 1, 2)], [1, -2]);
});

/** A pyramid of base side 4 with 1-pixel tiles, holding the given keys. */
function manifest(keys: [number, number, number][]): Manifest {
  return {
    base_side: 4,
    tile_px: 1,
    level: 1,
    levels: [0, 2],
    model_version: 3,
    tiles: keys.map(([z, i, j]) => [z, i, j, 1, "float32", false]),
    data: null,
  };
}

/** Each tile: λ₁ k + 1 as float16 planes, class k as a byte (255 for the last: NaN). */
function raw(count: number): Uint8Array {
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const bits = [0x3c00, 0x4000, 0x4200, 0x4400][k]!; // 1, 2, 3, 4
    out.push(bits >> 8, bits & 0xff, k === count - 1 ? 255 : k);
  }
  return Uint8Array.from(out);
}

test("stored tiles decode to the protocol's tile messages", async () => {
  const m = manifest([
    [0, 0, 0],
    [1, 0, 1],
  ]);
  const inflated = await inflate(new Uint8Array(deflateSync(raw(2))));
  const [a, b] = decodeStored(m, inflated);
  assert.deepEqual(a!.message.extent, [0, 4, 0, 4]);
  assert.deepEqual(b!.message.extent, [2, 4, 0, 2]);
  assert.equal(b!.message.model_version, 3);
  assert.deepEqual([...a!.arrays[0]!], [1]);
  assert.deepEqual([...a!.arrays[1]!], [0]);
  assert.deepEqual([...b!.arrays[0]!], [2]);
  assert.ok(Number.isNaN(b!.arrays[1]![0]));
  assert.equal(b!.message.vmin, 2);
});

test("a request gets its level's tiles and the coarser ones; beyond them, a kernel", () => {
  const keys: [number, number, number][] = [
    [0, 0, 0],
    [1, 0, 0],
    [1, 0, 1],
    [1, 1, 0],
    [1, 1, 1],
    [2, 0, 0],
  ];
  const m = manifest(keys);
  const tiles = decodeStored(m, expand(keys.length));
  const zs = (found: ReturnType<typeof answer>) => found.tiles.map((t) => t.message.z);
  // level 1 (pixels of 2 plane units): all of level 1 over [0, 4]², and level 0 under it
  const one = answer(m, tiles, [0, 4, 0, 4], 2, 2);
  assert.deepEqual(zs(one).sort(), [0, 1, 1, 1, 1]);
  assert.equal(one.beyond, false);
  // level 2 where only (2, 0, 0) is stored: it and the tiles under it, and beyond
  const two = answer(m, tiles, [0, 2, 0, 2], 2, 2);
  assert.deepEqual(zs(two).sort(), [0, 1, 2]);
  assert.equal(two.beyond, true);
  assert.equal(answer(m, tiles, [0, 1, 0, 1], 1, 1).beyond, false); // (2, 0, 0) itself
  // finer than the finest level: the finest drawn, stretched, and beyond
  const finer = answer(m, tiles, [0, 0.25, 0, 0.25], 1, 1);
  assert.deepEqual(zs(finer).sort(), [0, 1, 2]);
  assert.equal(finer.beyond, true);
  // coarser than the coarsest: beyond
  assert.equal(answer(m, tiles, [0, 16, 0, 16], 2, 2).beyond, true);
});

/** The raw bytes of `count` tiles (λ₁ 1 each, class 0). */
function expand(count: number): Uint8Array {
  return Uint8Array.from({ length: 3 * count }, (_, k) => [0x3c, 0x00, 0][k % 3]!);
}

test("the offline model answers a view request with its generation and the status", async () => {
  const keys: [number, number, number][] = [
    [0, 0, 0],
    [1, 0, 0],
  ];
  const m = manifest(keys);
  const model = new OfflineModel({ status: "" }, m, decodeStored(m, expand(2)));
  const got: { kind: string; generation: number; z: number }[] = [];
  const statuses: unknown[] = [];
  model.on("msg:custom", (msg) => got.push(msg as (typeof got)[number]));
  model.on("change:status", () => statuses.push(model.get("status")));
  model.send({ kind: "view", generation: 7, extent: [0, 2, 0, 2], width: 1, height: 1 });
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(
    got.map((g) => [g.kind, g.generation, g.z]),
    [
      ["tile", 7, 0],
      ["tile", 7, 1],
    ],
  );
  assert.deepEqual(statuses, [OFFLINE]);
  model.send({ kind: "view", generation: 8, extent: [0, 4, 0, 4], width: 2, height: 2 });
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(statuses, [OFFLINE, NEEDS_KERNEL]); // level 1 is stored at (0, 0) only
});
