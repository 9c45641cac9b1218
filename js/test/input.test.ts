import assert from "node:assert/strict";
import { test } from "node:test";
import { InputThrottle, inputPixels } from "../src/overlays/input";
import type { DecodedInput } from "../src/protocol";

test("InputThrottle: one outstanding request; the newest held move goes out on the reply", () => {
  const th = new InputThrottle(500);
  assert.deepEqual(th.move(1, 2, 0), { kind: "input_request", id: 1, u: 1, v: 2 });
  assert.equal(th.waiting, true);
  assert.equal(th.move(3, 4, 10), null);
  assert.equal(th.move(5, 6, 20), null); // replaces (3, 4)
  assert.deepEqual(th.reply(1, 30), {
    draw: true,
    send: { kind: "input_request", id: 2, u: 5, v: 6 },
  });
  assert.deepEqual(th.reply(2, 40), { draw: true, send: null });
  assert.equal(th.waiting, false);
  // nothing outstanding: a move goes out at once, unless at the position last sent
  assert.equal(th.move(5, 6, 50), null);
  assert.equal(th.waiting, false);
  assert.deepEqual(th.move(7, 8, 60), { kind: "input_request", id: 3, u: 7, v: 8 });
});

test("InputThrottle: after the timeout the held move goes out without a reply", () => {
  const th = new InputThrottle(500);
  th.move(0, 0, 0);
  assert.equal(th.move(1, 1, 100), null);
  assert.equal(th.tick(499), null);
  assert.deepEqual(th.tick(500), { kind: "input_request", id: 2, u: 1, v: 1 });
  assert.equal(th.tick(510), null); // nothing held
  // the late reply to request 1 is still drawn (newer than anything drawn) …
  assert.deepEqual(th.reply(1, 520), { draw: true, send: null });
  assert.equal(th.move(2, 2, 530), null, "… but request 2 is still outstanding");
  assert.deepEqual(th.reply(2, 540), {
    draw: true,
    send: { kind: "input_request", id: 3, u: 2, v: 2 },
  });
  assert.equal(th.reply(2, 550).draw, false, "a reply already drawn is not drawn again");
});

test("InputThrottle: replies older than the newest drawn are ignored; forget re-sends", () => {
  const th = new InputThrottle(500);
  th.move(0, 0, 0);
  th.tick(600);
  th.move(1, 0, 600);
  assert.deepEqual(th.reply(2, 700), { draw: true, send: null });
  assert.equal(th.reply(1, 710).draw, false);
  assert.equal(th.move(1, 0, 720), null, "same position as last sent");
  th.forget();
  assert.deepEqual(th.move(1, 0, 730), { kind: "input_request", id: 3, u: 1, v: 0 });
});

function input(
  shape: [number, number, number],
  values: number[],
  vmin: number,
  vmax: number,
): DecodedInput {
  return {
    message: {
      kind: "input",
      id: 1,
      shape: shape[0] === 1 ? shape.slice(1) : shape,
      vmin,
      vmax,
    },
    shape,
    values: new Float32Array(values),
  };
}

test("inputPixels: grey levels clipped to [vmin, vmax], NaN black, RGB for three channels", () => {
  const grey = inputPixels(input([1, 2, 3], [-1, 0, 0.25, 0.5, 1, NaN], 0, 1));
  // biome-ignore format: a table laid out by hand
  assert.deepEqual(Array.from(grey), [
    0, 0, 0, 255, 0, 0, 0, 255, 64, 64, 64, 255,
    128, 128, 128, 255, 255, 255, 255, 255, 0, 0, 0, 255,
  ]);
  const rgb = inputPixels(input([3, 1, 2], [0, 10, 5, 10, 10, 0], 0, 10));
  assert.deepEqual(Array.from(rgb), [0, 128, 255, 255, 255, 255, 0, 255]);
  const flat = inputPixels(input([1, 1, 2], [3, NaN], 3, 3));
  assert.deepEqual(Array.from(flat), [128, 128, 128, 255, 0, 0, 0, 255]);
});
