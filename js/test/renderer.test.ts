/**
 * The renderer's output pixels, through a fake 2D canvas (fake-canvas.ts) that draws what the
 * renderer asks for: which tiles are drawn where, rows flipped, at the device pixel ratio,
 * through which LUT entry, finer over coarser, with the automatic limits over what is shown.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { colormapLut } from "../src/colormap";
import type { DecodedTile, Extent, TileKey } from "../src/protocol";
import {
  BOUNDARY_RGBA,
  type ColourSettings,
  FAILED_FILL,
  FAILED_STRIPE,
  Renderer,
} from "../src/renderer";
import { TileStore } from "../src/tiles";
import { Viewport } from "../src/viewport";
import { created, FakeCanvas, install } from "./fake-canvas";
import { tileMessage } from "./fake-tile";

/** A t × t tile of `key` over `extent`: values[i * t + j] at row i (from v0), column j. */
function tile(
  key: TileKey,
  extent: Extent,
  values: number[],
  prediction: number[] = values.map(() => 0),
): DecodedTile {
  const message = tileMessage(key, extent, Math.sqrt(values.length));
  const ftle = new Float32Array(values);
  return { message, key, ftle, prediction: new Float32Array(prediction), direction: null };
}

const FIXED: ColourSettings = {
  cmap: "RdBu_r",
  vmin: -1,
  vmax: 1,
  quantity: "lambda",
  factor: 1,
  boundary: false,
};

/** LUT entry k of `cmap`, as RGBA. */
function entry(k: number, cmap = "RdBu_r"): number[] {
  return [...colormapLut(cmap).subarray(4 * k, 4 * k + 4)];
}

/** A renderer on a fresh fake canvas at device pixel ratio `ratio`. */
function setup(ratio = 1) {
  install(ratio);
  const canvas = new FakeCanvas();
  return { canvas, renderer: new Renderer(canvas as unknown as HTMLCanvasElement) };
}

test("a tile is stretched onto its extent, row 0 at the bottom, each pixel through the LUT", () => {
  const { canvas, renderer } = setup();
  // [0, 1]²: bottom row −1, −0.5; top row 0.5, 1 (vmin −1, vmax 1: LUT entries 0, 64, 192, 255)
  const a = tile([0, 0, 0], [0, 1, 0, 1], [-1, -0.5, 0.5, 1]);
  const b = tile([0, 0, 1], [1, 2, 0, 1], [0]); // entry 128
  const view = new Viewport([0, 2, 0, 1], 40, 20); // 20 CSS pixels per plane unit
  assert.deepEqual(renderer.draw(view, [a, b], FIXED), [-1, 1]);
  assert.deepEqual([canvas.width, canvas.height], [40, 20]);
  const quadrants: [number, number, number][] = [
    [5, 15, 0], // bottom left: −1
    [15, 15, 64], // bottom right: −0.5
    [5, 5, 192], // top left: 0.5
    [15, 5, 255], // top right: 1
  ];
  for (const [x, y, k] of quadrants) assert.deepEqual(canvas.pixel(x, y), entry(k), `${x}, ${y}`);
  // each tile pixel covers exactly its 10 × 10 screen pixels
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 20; x++) {
      const k = y < 10 ? (x < 10 ? 192 : 255) : x < 10 ? 0 : 64;
      assert.deepEqual(canvas.pixel(x, y), entry(k), `${x}, ${y}`);
    }
  }
  for (let x = 20; x < 40; x++) assert.deepEqual(canvas.pixel(x, 10), entry(128));
  // another colormap: the same entries of its LUT, no message needed
  renderer.draw(view, [a, b], { ...FIXED, cmap: "viridis" });
  assert.deepEqual(canvas.pixel(5, 5), entry(192, "viridis"));
  assert.deepEqual(canvas.pixel(30, 10), entry(128, "viridis"));
});

test("a view part way across a tile: the tile is placed by the view's transform", () => {
  const { canvas, renderer } = setup();
  const a = tile([0, 0, 0], [0, 1, 0, 1], [-1, -0.5, 0.5, 1]);
  // u in [0.25, 1.25], v in [0.25, 0.75]: 40 px per unit, the tile spans x −10..30, y −10..30
  renderer.draw(new Viewport([0.25, 1.25, 0.25, 0.75], 40, 20), [a], FIXED);
  assert.deepEqual(canvas.pixel(0, 0), entry(192)); // (u, v) ≈ (0.26, 0.74): top left
  assert.deepEqual(canvas.pixel(9, 19), entry(0)); // (0.49, 0.26): bottom left
  assert.deepEqual(canvas.pixel(10, 9), entry(255)); // (0.51, 0.51): top right
  assert.deepEqual(canvas.pixel(29, 10), entry(64)); // (0.99, 0.49): bottom right
  assert.deepEqual(canvas.pixel(30, 10), [0, 0, 0, 0]); // u > 1: no tile, cleared
});

test("finer tiles cover coarser ones in the store's draw order; off-screen tiles are skipped", () => {
  const { canvas, renderer } = setup();
  const store = new TileStore();
  const child = tile([1, 0, 0], [0, 1, 0, 1], [-0.5]); // entry 64
  const parent = tile([0, 0, 0], [0, 2, 0, 2], [0.5]); // entry 192
  const far = tile([1, 5, 5], [5, 6, 5, 6], [0]);
  for (const t of [child, far, parent]) assert.ok(store.add(t));
  const before = created.length;
  const ctx = canvas.getContext("2d");
  renderer.draw(new Viewport([0, 2, 0, 2], 20, 20), store.drawOrder(), FIXED);
  assert.deepEqual(canvas.pixel(2, 17), entry(64), "the child, bottom left");
  assert.deepEqual(canvas.pixel(12, 17), entry(192), "the parent beside it");
  assert.deepEqual(canvas.pixel(2, 2), entry(192), "the parent above it");
  const drawn = ctx.calls.filter((c) => c.name === "drawImage").map((c) => c.args.slice(1));
  assert.deepEqual(drawn, [
    [0, 0, 20, 20], // the parent first …
    [0, 10, 10, 10], // … then the child over its bottom-left quarter
  ]);
  assert.equal(created.length - before, 2, "the far tile is not even coloured");
});

test("at device pixel ratio 2 the canvas has twice the pixels, the tiles the same place", () => {
  const { canvas, renderer } = setup(2);
  const a = tile([0, 0, 0], [0, 1, 0, 1], [-1, -0.5, 0.5, 1]);
  renderer.draw(new Viewport([0, 1, 0, 1], 20, 20), [a], FIXED);
  assert.deepEqual([canvas.width, canvas.height], [40, 40]);
  assert.deepEqual(canvas.pixel(19, 19), entry(192)); // CSS (9.5, 9.5): top left
  assert.deepEqual(canvas.pixel(20, 19), entry(255));
  assert.deepEqual(canvas.pixel(19, 20), entry(0));
  assert.deepEqual(canvas.pixel(39, 39), entry(64));
});

test("automatic limits: symmetric about 0 over what is shown, never over tiles off screen", () => {
  const { canvas, renderer } = setup();
  const auto: ColourSettings = { ...FIXED, vmin: null, vmax: null };
  const shown = tile([0, 0, 0], [0, 1, 0, 1], [-0.5, 0.25, 0.1, 0]);
  const offScreen = tile([0, 0, 5], [5, 6, 0, 1], [100]);
  const view = new Viewport([0, 1, 0, 1], 20, 20);
  assert.deepEqual(renderer.draw(view, [shown, offScreen], auto), [-0.5, 0.5]);
  // 0.25 in [−0.5, 0.5]: entry 192 (bottom right quadrant)
  assert.deepEqual(canvas.pixel(15, 15), entry(192));
  const log = { ...auto, factor: 4, quantity: "log_stretch" } as const;
  assert.deepEqual(renderer.draw(view, [shown, offScreen], log), [-2, 2]);
  // a tile that carries its depth (a layer slider's) is scaled by its own, not the trait's
  const own = tile([0, 0, 0], [0, 1, 0, 1], [-0.5, 0.25, 0.1, 0]);
  (own.message as { depth?: number }).depth = 3;
  assert.deepEqual(renderer.draw(view, [own], log), [-1.5, 1.5]);
  // a tile half in view: only its pixels whose centres are in view count
  const half = tile([0, 0, 1], [1, 2, 0, 1], [0.75, -50, 0.75, -50]); // −50 at u = 1.75
  const wide = new Viewport([0, 1.5, 0, 1], 30, 20);
  assert.deepEqual(renderer.draw(wide, [shown, half, offScreen], auto), [-0.75, 0.75]);
  // a coarse tile's pixel under a finer one is not shown
  const coarse = tile([-1, 0, 0], [0, 2, 0, 2], [9, 9, 9, 9]);
  assert.deepEqual(renderer.draw(view, [coarse, shown], auto), [-0.5, 0.5]);
  assert.deepEqual(
    renderer.draw(new Viewport([0, 2, 0, 2], 20, 20), [coarse, shown], auto),
    [-9, 9],
  );
  // nothing shown (or only NaN): [−1, 1]; one limit set: the other automatic
  assert.deepEqual(renderer.draw(view, [offScreen], auto), [-1, 1]);
  assert.deepEqual(renderer.draw(view, [tile([0, 0, 0], [0, 1, 0, 1], [NaN])], auto), [-1, 1]);
  assert.deepEqual(renderer.draw(view, [shown, offScreen], { ...auto, vmax: 0.25 }), [-0.5, 0.25]);
});

test("a tile is coloured once per colour setting: pans with fixed limits only move it", () => {
  const { canvas, renderer } = setup();
  const a = tile([0, 0, 0], [0, 1, 0, 1], [-1, -0.5, 0.5, 1]);
  const puts = () => created.flatMap((c) => c.getContext("2d").calls).length;
  renderer.draw(new Viewport([0, 1, 0, 1], 20, 20), [a], FIXED);
  const colourings = created.length;
  const calls = puts();
  renderer.draw(new Viewport([0.5, 1.5, 0, 1], 20, 20), [a], FIXED);
  assert.equal(created.length, colourings);
  assert.equal(puts(), calls, "no recolouring");
  assert.deepEqual(canvas.pixel(5, 5), entry(255)); // (0.75, 0.75): the tile moved left
  assert.deepEqual(canvas.pixel(15, 5), [0, 0, 0, 0]);
  renderer.draw(new Viewport([0.5, 1.5, 0, 1], 20, 20), [a], { ...FIXED, vmax: 3 });
  assert.ok(puts() > calls, "recoloured for the new limits");
  assert.deepEqual(canvas.pixel(5, 5), entry(128)); // 1 in [−1, 3]
});

test("the decision boundary is drawn where the class changes, across the tiles' seam", () => {
  const { canvas, renderer } = setup();
  // 2 × 2 tiles side by side: class 0 left of u = 1.5, 1 right of it (inside the right tile)
  const left = tile([0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]);
  const right = tile([0, 0, 1], [1, 2, 0, 1], [0, 0, 0, 0], [0, 1, 0, 1]);
  const view = new Viewport([0, 2, 0, 1], 40, 20);
  renderer.draw(view, [left, right], { ...FIXED, boundary: true });
  const marked = (x: number, y: number) =>
    canvas.pixel(x, y).every((c, k) => c === BOUNDARY_RGBA[k]);
  for (const y of [2, 17]) {
    // the right tile's first column (class 0 beside class 1) is marked; nothing else is
    const row = Array.from({ length: 40 }, (_, x) => marked(x, y));
    assert.deepEqual(
      row.map((m, x) => (m ? x : -1)).filter((x) => x >= 0),
      Array.from({ length: 10 }, (_, k) => 20 + k),
    );
  }
  // the left tile's last column meets the right tile's first column, same class: unmarked
  assert.deepEqual(canvas.pixel(15, 5), entry(128));
  // now the seam: class 1 from u = 1 on
  const rightOnes = tile([0, 0, 1], [1, 2, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1]);
  renderer.draw(view, [left, rightOnes], { ...FIXED, boundary: true });
  assert.ok(marked(15, 5) && marked(15, 15), "the left tile's last column, at the seam");
  assert.ok(!marked(25, 5) && !marked(5, 5));
  renderer.draw(view, [left, rightOnes], FIXED);
  assert.ok(!marked(15, 5), "boundary off: not marked");
});

test("failed extents are filled grey and striped, clipped to the view", () => {
  const { canvas, renderer } = setup();
  const a = tile([0, 0, 0], [0, 1, 0, 1], [1]);
  renderer.draw(new Viewport([0, 2, 0, 1], 40, 20), [a], FIXED, [[0.5, 3, 0, 0.5]]);
  const grey = FAILED_FILL.match(/\d+/g)!.map(Number);
  assert.deepEqual(canvas.pixel(15, 15), [...grey, 255]); // over the tile
  assert.deepEqual(canvas.pixel(39, 19), [...grey, 255]); // beyond it, up to the view's edge
  assert.deepEqual(canvas.pixel(9, 15), entry(255)); // u < 0.5: the tile
  assert.deepEqual(canvas.pixel(15, 9), entry(255)); // v > 0.5: the tile
  const calls = canvas.getContext("2d").calls;
  const fill = calls.find((c) => c.name === "fillRect")!;
  assert.deepEqual(fill.args, [10, 10, 30, 10, FAILED_FILL]); // clipped at x = 40
  assert.deepEqual(
    calls.filter((c) => c.name === "stroke").map((c) => c.args),
    [[FAILED_STRIPE, 2]],
  );
});
