import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ColourTraits,
  checkColours,
  DEFAULT_CMAP,
  DEFAULT_HEIGHT,
  HEIGHTS,
  heightOf,
  progressOf,
  resolutionOf,
  type Traits,
} from "../src/model";
import type { DecodedTile } from "../src/protocol";
import { Renderer } from "../src/renderer";
import { fakeModel } from "./fake-model";

const GOOD: Partial<Traits> = {
  cmap: "viridis",
  vmin: -1,
  vmax: 2,
  quantity: "log_stretch",
  depth: 4,
  show_boundary: false,
};

/** A model with traits the front end may be sent (values of any type). */
const model = (traits: Record<string, unknown>) =>
  fakeModel({ ...GOOD, ...traits } as Partial<Traits>).model;

test("valid colour traits pass through untouched, with no notes", () => {
  const c = checkColours(model({}), "RdBu_r");
  const expected = { cmap: "viridis", vmin: -1, vmax: 2, quantity: "log_stretch", factor: 4 };
  assert.deepEqual(c.settings, { ...expected, boundary: false });
  assert.equal(c.label, "log Λ₁");
  assert.deepEqual(c.notes, []);
  const auto = checkColours(model({ vmin: null, vmax: null, quantity: "lambda" }), "RdBu_r");
  assert.deepEqual([auto.settings.vmin, auto.settings.vmax, auto.settings.factor], [null, null, 1]);
  assert.deepEqual(auto.notes, []);
});

test("an unknown colormap falls back to the one given (the last valid), and says so", () => {
  for (const cmap of ["jet", "toString", "", 3, null, undefined]) {
    const c = checkColours(model({ cmap }), "magma");
    assert.equal(c.settings.cmap, "magma", String(cmap));
    assert.equal(c.notes.length, 1);
    assert.match(c.notes[0]!, /^unknown colormap .*: showing magma/);
  }
  assert.deepEqual(checkColours(model({ cmap: "jet" }), "magma").notes, [
    "unknown colormap 'jet': showing magma",
  ]);
  // a fallback that is itself unknown gives the default
  assert.equal(checkColours(model({ cmap: "jet" }), "hot").settings.cmap, DEFAULT_CMAP);
  assert.equal(DEFAULT_CMAP, "RdBu_r");
});

test("ColourTraits remembers the last valid colormap (else RdBu_r)", () => {
  const traits: Record<string, unknown> = { ...GOOD, cmap: "jet" };
  const { model } = fakeModel(traits as Partial<Traits>);
  const reader = new ColourTraits();
  assert.equal(reader.read(model).settings.cmap, "RdBu_r");
  traits.cmap = "plasma";
  assert.equal(reader.read(model).settings.cmap, "plasma");
  traits.cmap = "jet";
  const c = reader.read(model);
  assert.equal(c.settings.cmap, "plasma");
  assert.deepEqual(c.notes, ["unknown colormap 'jet': showing plasma"]);
});

test("non-finite, non-numeric or reversed vmin/vmax fall back to the automatic limits", () => {
  const cases: [unknown, unknown, RegExp][] = [
    [NaN, 1, /^vmin NaN is not a finite number: automatic limits$/],
    [-1, Infinity, /^vmax Infinity is not a finite number: automatic limits$/],
    ["0", 1, /^vmin '0' is not a finite number/],
    [2, 1, /^vmin 2 is not below vmax 1: automatic limits$/],
    [1, 1, /^vmin 1 is not below vmax 1/],
  ];
  for (const [vmin, vmax, note] of cases) {
    const c = checkColours(model({ vmin, vmax }), "RdBu_r");
    assert.deepEqual([c.settings.vmin, c.settings.vmax], [null, null], `${vmin}, ${vmax}`);
    assert.equal(c.notes.length, 1);
    assert.match(c.notes[0]!, note);
  }
  // one limit set, the other automatic: fine
  const one = checkColours(model({ vmin: null, vmax: 3 }), "RdBu_r");
  assert.deepEqual([one.settings.vmin, one.settings.vmax, one.notes], [null, 3, []]);
});

test("an unknown quantity is shown as λ₁, and says so", () => {
  const c = checkColours(model({ quantity: "lyapunov" }), "RdBu_r");
  assert.equal(c.settings.factor, 1);
  assert.equal(c.label, "λ₁");
  assert.deepEqual(c.notes, ["unknown quantity 'lyapunov': showing λ₁"]);
  // several problems: one note each
  const all = checkColours(model({ quantity: 7, cmap: "jet", vmin: 5, vmax: 0 }), "RdBu_r");
  assert.equal(all.notes.length, 3);
});

test("a limit set beyond the automatic other one gives the automatic limits", () => {
  const renderer = new Renderer(null as unknown as HTMLCanvasElement);
  const tile = {
    key: [0, 0, 0],
    ftle: new Float32Array([-0.5, 0.25, 0, 0]),
    message: { extent: [0, 1, 0, 1], tile_px: 2 },
  } as unknown as DecodedTile;
  const s = {
    cmap: "RdBu_r",
    vmin: null,
    vmax: null,
    quantity: "log_stretch" as const,
    factor: 2,
    boundary: false,
  };
  assert.deepEqual(renderer.limits([tile], s, [0, 1, 0, 1]), [-1, 1]);
  assert.deepEqual(renderer.limits([tile], { ...s, vmin: 0.5 }, [0, 1, 0, 1]), [0.5, 1]);
  assert.deepEqual(renderer.limits([tile], { ...s, vmin: 1 }, [0, 1, 0, 1]), [-1, 1]);
  assert.deepEqual(renderer.limits([tile], { ...s, vmax: -3 }, [0, 1, 0, 1]), [-1, 1]);
  assert.deepEqual(renderer.limits([tile], { ...s, vmin: 3, vmax: 4 }, [0, 1, 0, 1]), [3, 4]);
});

test("height: the trait rounded into [150, 2000]; 420 when it is not a number", () => {
  const h = (height: unknown) => heightOf(model({ height }));
  assert.equal(DEFAULT_HEIGHT, 420);
  assert.deepEqual(HEIGHTS, [150, 2000]);
  assert.deepEqual([h(600), h(299.6), h(10), h(1e9)], [600, 300, 150, 2000]);
  for (const bad of [undefined, null, "300", NaN, Infinity]) assert.equal(h(bad), 420);
});

test("progress: done, total and phase; null when it holds no numbers", () => {
  const p = (progress: unknown) => progressOf(model({ progress }));
  assert.deepEqual(p([3, 40, "coarse"]), { done: 3, total: 40, phase: "coarse" });
  assert.deepEqual(p([3, 40]), { done: 3, total: 40, phase: "" }); // an older kernel side
  assert.equal(p(undefined), null);
  assert.equal(p(["3", 40, "view"]), null);
});

test("resolution: four finite numbers with shortest > 0, else none (no zoom limit)", () => {
  const r = { origin: 0, u: 1, v: 1, shortest: 1 };
  const of = (resolution: unknown) => resolutionOf(model({ plane_info: { resolution } as never }));
  assert.deepEqual(of(r), r);
  assert.equal(of(undefined), null);
  assert.equal(of({ ...r, shortest: 0 }), null);
  assert.equal(of({ ...r, u: NaN }), null);
  assert.equal(of({ ...r, v: "1" }), null);
  assert.equal(resolutionOf(model({ plane_info: undefined as never })), null);
});
