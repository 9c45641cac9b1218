import assert from "node:assert/strict";
import { test } from "node:test";
import { type DecodedTile, decodeTile } from "../src/protocol";
import { BOUNDARY_RGBA, boundaryNeighbours, markBoundary } from "../src/renderer";

const T = 16;

/** Class at global pixel (row i from the bottom, column j) of a 2T × 2T field. */
type Classes = (i: number, j: number) => number;

/** Two lines through the field's centre, nearly vertical and nearly horizontal: both cross a seam
 * along most of their length (the seams are at row T and column T). */
const crossing: Classes = (i, j) => {
  const u = j + 0.5 - T;
  const v = i + 0.5 - T;
  return (u > 0.1 * v ? 1 : 0) + (v > 0.1 * u ? 2 : 0);
};

/** The predictions of the field's tile (a, b): rows a·T.., columns b·T.. */
function tilePrediction(classes: Classes, a: number, b: number, t = T): Float32Array {
  const out = new Float32Array(t * t);
  for (let i = 0; i < t; i++)
    for (let j = 0; j < t; j++) out[i * t + j] = classes(a * t + i, b * t + j);
  return out;
}

/** Which pixels markBoundary marks (image rows: row 0 at the top). */
function marks(prediction: Float32Array, t: number, n?: Parameters<typeof markBoundary>[3]) {
  const out = new Uint8ClampedArray(4 * t * t);
  markBoundary(prediction, t, out, n);
  const marked: boolean[][] = [];
  for (let r = 0; r < t; r++) {
    marked.push([]);
    for (let c = 0; c < t; c++) {
      const p = 4 * (r * t + c);
      marked[r]!.push(BOUNDARY_RGBA.every((x, k) => out[p + k] === x));
    }
  }
  return marked;
}

/** The 2T × 2T marks (image rows) of the four tiles marked one by one, with or without their
 * right and upper neighbours' predictions. */
function stitched(classes: Classes, seams: boolean): boolean[][] {
  const image = Array.from({ length: 2 * T }, () => new Array<boolean>(2 * T).fill(false));
  for (const a of [0, 1]) {
    for (const b of [0, 1]) {
      const right = b === 0 ? tilePrediction(classes, a, 1) : null;
      const up = a === 0 ? tilePrediction(classes, 1, b) : null;
      const m = marks(tilePrediction(classes, a, b), T, seams ? { right, up } : undefined);
      // tile row r (image) is field image row (1 - a)·T + r
      for (let r = 0; r < T; r++)
        for (let c = 0; c < T; c++) image[(1 - a) * T + r]![b * T + c] = m[r]![c]!;
    }
  }
  return image;
}

/** The 8-connected components of the marked pixels. */
function components(image: boolean[][]): number {
  const seen = image.map((row) => row.map(() => false));
  let count = 0;
  for (let r = 0; r < image.length; r++) {
    for (let c = 0; c < image[r]!.length; c++) {
      if (!image[r]![c] || seen[r]![c]) continue;
      count += 1;
      const stack = [[r, c]];
      seen[r]![c] = true;
      while (stack.length) {
        const [y, x] = stack.pop()!;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y! + dy;
            const xx = x! + dx;
            if (image[yy]?.[xx] && !seen[yy]![xx]) {
              seen[yy]![xx] = true;
              stack.push([yy, xx]);
            }
          }
        }
      }
    }
  }
  return count;
}

test("tiles marked with their neighbours' edges: the boundary as if the field were one tile", () => {
  const whole = marks(tilePrediction(crossing, 0, 0, 2 * T), 2 * T);
  assert.deepEqual(stitched(crossing, true), whole);
  // both lines, unbroken across both seams: one connected set of marks, every row and column met
  const image = stitched(crossing, true);
  assert.equal(components(image), 1);
  for (let k = 0; k < 2 * T; k++) {
    assert.ok(image[k]!.some(Boolean), `row ${k}`);
    assert.ok(
      image.some((row) => row[k]),
      `column ${k}`,
    );
  }
  // tile by tile alone, the lines break where they run along the seams
  const alone = stitched(crossing, false);
  assert.ok(components(alone) > 1);
  assert.ok(alone.some((row) => !row.some(Boolean)));
});

test("a boundary along a seam is marked on the tile left of (below) it", () => {
  for (const classes of [
    (_i: number, j: number) => (j >= T ? 1 : 0),
    (i: number) => (i >= T ? 1 : 0),
  ]) {
    const image = stitched(classes, true);
    assert.deepEqual(image, marks(tilePrediction(classes, 0, 0, 2 * T), 2 * T));
    assert.equal(image.flat().filter(Boolean).length, 2 * T);
    assert.equal(components(image), 1);
  }
  // no class change across the seams: nothing marked
  assert.ok(
    !stitched(() => 3, true)
      .flat()
      .some(Boolean),
  );
});

/** A tile (z, i, j) of a pyramid with base side 1, `t` pixels a side, of `version`. */
function tile(z: number, i: number, j: number, t = 2, version = 0): DecodedTile {
  const side = 2 ** -z;
  return decodeTile(
    {
      kind: "tile",
      z,
      i,
      j,
      generation: 0,
      model_version: version,
      tile_px: t,
      extent: [j * side, (j + 1) * side, i * side, (i + 1) * side],
      vmin: 0,
      vmax: 0,
      has_direction: false,
      dtype: "float32",
      prediction_dtype: "float32",
      direction_dtype: null,
    },
    [new Float32Array(t * t), new Float32Array(t * t)],
  );
}

test("boundaryNeighbours: the right and upper tiles of the same level, size and model version", () => {
  const a = tile(3, 5, 7);
  const right = tile(3, 5, 8);
  const up = tile(3, 6, 7);
  const others = [tile(2, 2, 4), tile(3, 4, 7), tile(3, 5, 6), tile(3, 6, 8), tile(4, 10, 16)];
  const n = boundaryNeighbours([a, right, up, ...others]);
  assert.equal(n.get(a)?.right, right);
  assert.equal(n.get(a)?.up, up);
  assert.equal(n.get(right)?.right ?? null, null);
  assert.equal(n.get(right)?.up ?? null, others[3]);
  // another tile size or model version is no neighbour (its pixels do not meet ours)
  const m = boundaryNeighbours([a, tile(3, 5, 8, 4), tile(3, 6, 7, 2, 1)]);
  assert.equal(m.get(a)?.right ?? null, null);
  assert.equal(m.get(a)?.up ?? null, null);
});
