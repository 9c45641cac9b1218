import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_STEP_MS, MIN_STEP_MS, type PlayState, playStart, playStep } from "../src/layers";

const at = (shown: number, done: number, total: number, elapsedMs: number): PlayState => ({
  shown,
  layers: 4,
  done,
  total,
  elapsedMs,
});

test("play waits at a layer until its tiles are in and the least time has passed", () => {
  assert.equal(playStep(at(1, 3, 8, 5000)), "wait"); // tiles still coming
  assert.equal(playStep(at(1, 8, 8, MIN_STEP_MS - 1)), "wait"); // in (cached), too soon
  assert.equal(playStep(at(1, 8, 8, MIN_STEP_MS)), 2);
  assert.equal(playStep(at(3, 8, 8, 2000)), 4);
  assert.equal(playStep(at(2, 0, 0, MIN_STEP_MS)), 3); // nothing asked: nothing to wait for
});

test("play stops at the last layer, and moves on from a layer whose tiles never come", () => {
  assert.equal(playStep(at(4, 8, 8, MIN_STEP_MS)), "stop");
  assert.equal(playStep(at(4, 2, 8, MIN_STEP_MS)), "wait"); // the last one's tiles first
  assert.equal(playStep(at(2, 2, 8, MAX_STEP_MS)), 3);
  assert.equal(playStep(at(2, 2, 8, 150), 100, 200), "wait");
  assert.equal(playStep(at(2, 2, 8, 250), 100, 200), 3);
});

test("a whole play from layer 1 to L, one layer per completed view", () => {
  let current = playStart(4, 4);
  const shown = [current];
  for (let step = 0; step < 10; step++) {
    const next = playStep(at(current, 8, 8, MIN_STEP_MS));
    if (next === "stop") break;
    if (next === "wait") continue;
    current = next;
    shown.push(next);
  }
  assert.deepEqual(shown, [1, 2, 3, 4]);
});

test("play starts at the next layer, or at 1 from the last layer or the endpoint", () => {
  assert.equal(playStart(2, 4), 3);
  assert.equal(playStart(4, 4), 1);
  assert.equal(playStart(0, 4), 1);
});
