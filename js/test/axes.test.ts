import assert from "node:assert/strict";
import { test } from "node:test";
import { type AxesLayout, type Box, layoutAxes } from "../src/overlays/axes";
import { Viewport } from "../src/viewport";

/** About 11px sans-serif: 6.2 px per character, digits 8 px tall above the baseline. */
const measure = (text: string) => ({ width: 6.2 * text.length, ascent: 8, descent: 0 });

/** The gap between two boxes (negative where they overlap). */
function gap(a: Box, b: Box): number {
  const dx = Math.max(a.x - (b.x + b.width), b.x - (a.x + a.width));
  const dy = Math.max(a.y - (b.y + b.height), b.y - (a.y + a.height));
  return Math.max(dx, dy);
}

/** A tick mark as the box its 1-px line covers. */
const tickBox = (t: AxesLayout["ticks"][number]): Box => ({
  x: Math.min(t.x0, t.x1) - 0.5,
  y: Math.min(t.y0, t.y1) - 0.5,
  width: Math.abs(t.x1 - t.x0) + 1,
  height: Math.abs(t.y1 - t.y0) + 1,
});

const VIEWS: [string, Viewport][] = [
  ["home", new Viewport([-1.5, 1.5, -1.5, 1.5], 420, 420)],
  ["wide", new Viewport([-3, 3, -1, 1], 630, 210)],
  ["narrow", new Viewport([-1, 1, -4, 4], 150, 420)],
  ["deep", new Viewport([0.1234567, 0.1234568, -0.5000001, -0.5], 420, 420)],
  ["deeper", Viewport.fit([1.2345678901, 1.2345678902, 2, 2 + 1e-10], 420, 420)],
  ["float64", Viewport.fit([0.25, 0.25 + 4e-14, 0.5, 0.5 + 4e-14], 420, 420)],
  ["tiny", Viewport.fit([1e-9, 1e-9 + 1e-15, -1e-9, -1e-9 + 1e-15], 420, 420)],
];

test("axes labels: inside the canvas, apart from each other and from every tick mark", () => {
  for (const [name, view] of VIEWS) {
    const { ticks, labels } = layoutAxes(view, measure);
    const u = labels.filter((l) => l.axis === "u");
    const v = labels.filter((l) => l.axis === "v");
    assert.ok(u.length >= 2 && v.length >= 2, `${name}: ${u.length} u, ${v.length} v labels`);
    for (const [k, a] of labels.entries()) {
      assert.ok(a.x >= 1 && a.x + a.width <= view.width - 1, `${name}: ${a.text} off the canvas`);
      assert.ok(a.y >= 1 && a.y + a.height <= view.height - 1, `${name}: ${a.text} off the canvas`);
      for (const b of labels.slice(k + 1)) {
        // the corner labels of both axes included
        assert.ok(gap(a, b) >= 2, `${name}: ${a.axis} ${a.text} meets ${b.axis} ${b.text}`);
      }
      // a tick mark that touches a label reads as a minus sign ("–1")
      for (const t of ticks) {
        assert.ok(gap(a, tickBox(t)) >= 2, `${name}: ${a.text} touches a ${t.axis} tick`);
      }
    }
    for (const axis of [u, v]) {
      assert.equal(new Set(axis.map((l) => l.text)).size, axis.length, `${name}: same labels`);
    }
  }
});

test("axes labels: each beside its own tick and reading its value", () => {
  for (const [name, view] of VIEWS) {
    const { ticks, labels } = layoutAxes(view, measure);
    const step = (axis: "u" | "v") => {
      const [a, b] = ticks.filter((t) => t.axis === axis).map((t) => t.value);
      return Math.abs(b! - a!);
    };
    for (const label of labels) {
      const tick = ticks.find((t) => t.axis === label.axis && t.value === label.value);
      assert.ok(tick, `${name}: no tick for ${label.text}`);
      const within = step(label.axis) * 1e-3 + Math.abs(label.value) * 4e-16; // a few ulps
      assert.ok(Math.abs(Number(label.text) - label.value) <= within, label.text);
      if (label.axis === "u") {
        // centred on its tick unless shifted to stay on the canvas; above it
        const centre = label.x + label.width / 2;
        const room = label.x <= 10 || label.x + label.width >= view.width - 3;
        assert.ok(room || Math.abs(centre - tick.x0) <= 1, `${name}: ${label.text}`); // ticks snap to pixels
        assert.ok(label.y + label.height < Math.min(tick.y0, tick.y1), `${name}: ${label.text}`);
      } else {
        // next to its tick: just above it (or just below, at the top edge)
        const y = tick.y0;
        const near = Math.min(Math.abs(label.y + label.height - y), Math.abs(label.y - y));
        assert.ok(near <= 4, `${name}: ${label.text} ${near} px from its tick`);
      }
    }
  }
});

test("the home view labels every tick; at a shared corner the u label stays", () => {
  const home = layoutAxes(new Viewport([-1.5, 1.5, -1.5, 1.5], 420, 420), measure);
  const values = (l: AxesLayout, axis: string) =>
    l.ticks.filter((t) => t.axis === axis).map((t) => t.value);
  const text = (l: AxesLayout, axis: string) =>
    l.labels.filter((t) => t.axis === axis).map((t) => t.text);
  assert.deepEqual(values(home, "u"), [-1, 0, 1]);
  assert.deepEqual(values(home, "v"), [-1.5, -1, -0.5, 0, 0.5, 1, 1.5]);
  assert.deepEqual(text(home, "u"), ["-1", "0", "1"]);
  assert.deepEqual(text(home, "v"), ["-1.5", "-1", "-0.5", "0", "0.5", "1", "1.5"]);
  // ticks at u = 0 and v = 0 both in the bottom-left corner
  const corner = layoutAxes(new Viewport([0, 3, 0, 3], 420, 420), measure);
  assert.deepEqual(values(corner, "v")[0], 0);
  assert.deepEqual(text(corner, "u"), ["0", "1", "2", "3"]);
  assert.deepEqual(text(corner, "v"), ["0.5", "1", "1.5", "2", "2.5", "3"]);
});
