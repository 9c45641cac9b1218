/**
 * The protocol fixtures shared with Python (tests/widget/test_protocol.py):
 *
 * - `fixtures/protocol-python.json`, written by `ftle_widget/widget/protocol.py`: every kind of
 *   message Python sends (content, buffers as base64) with what the browser must decode from it
 *   (null stands for NaN). Each is decoded here with protocol.ts and handled by a Session.
 * - `fixtures/protocol-js.json`, written here from protocol.ts's builders: every kind of message
 *   the browser sends, with what it means; Python parses each and compares. This test checks that
 *   the committed file is what the builders build today; regenerate it with
 *   `FTLE_WIDGET_UPDATE_FIXTURES=1 npm test`.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { finestPixel, type Resolution } from "../src/gestures";
import {
  type Buffer,
  dataRequestMessage,
  decodeData,
  decodeError,
  decodeInput,
  decodeRidges,
  decodeTile,
  type Extent,
  FROM_PYTHON_KINDS,
  type FromPython,
  flyRequestMessage,
  inputRequestMessage,
  MAX_VIEW_PIXELS,
  stateRequestMessage,
  TO_PYTHON_KINDS,
  type ToPython,
  viewMessage,
} from "../src/protocol";
import { Session } from "../src/session";
import { TileStore } from "../src/tiles";
import { tileExtent, Viewport } from "../src/viewport";
import { fakeModel } from "./fake-model";

const PYTHON_FIXTURE = new URL("../test/fixtures/protocol-python.json", import.meta.url);
const JS_FIXTURE = new URL("../test/fixtures/protocol-js.json", import.meta.url);

interface PythonEntry {
  name: string;
  content: FromPython;
  buffers: string[];
  decoded: Record<string, unknown>;
}

const python = JSON.parse(readFileSync(PYTHON_FIXTURE, "utf8")) as {
  limits: {
    max_view_pixels: number;
    /** Planes' resolutions (plane_info) and views, with Python's finest_pixel there. */
    float64: { resolution: Resolution; extent: Extent; finest_pixel: number }[];
  };
  messages: PythonEntry[];
};

/** The entry's buffers as anywidget hands them over: DataViews, here at odd byte offsets. */
function buffersOf(entry: PythonEntry): DataView[] {
  return entry.buffers.map((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    return new DataView(padded.buffer, 3, bytes.length);
  });
}

/** Float32 values as the fixture writes them: NaN as null. */
const values = (a: Float32Array) => Array.from(a, (x) => (Number.isNaN(x) ? null : x));

/** What protocol.ts decodes from a message, in the fixture's terms. */
function decode(msg: FromPython, buffers: readonly Buffer[]): Record<string, unknown> {
  switch (msg.kind) {
    case "tile": {
      const d = decodeTile(msg, buffers);
      return {
        key: [...d.key],
        ftle: values(d.ftle),
        prediction: values(d.prediction),
        direction: d.direction && values(d.direction),
        lambda_2: d.lambda2 ? values(d.lambda2) : null,
        lambda_min: d.lambdaMin ? values(d.lambdaMin) : null,
      };
    }
    case "data": {
      const d = decodeData(msg, buffers);
      return { count: d.count, labels: d.labels, uv: values(d.uv), cls: values(d.cls) };
    }
    case "input": {
      const d = decodeInput(msg, buffers);
      return { shape: d.shape, values: values(d.values) };
    }
    case "error": {
      const d = decodeError(msg);
      assert.equal(d.message, msg.message);
      return { key: [...d.key], generation: d.generation };
    }
    case "reset":
      assert.deepEqual(buffers, []);
      return {};
    case "state":
      assert.deepEqual(buffers, []);
      return { state: JSON.parse(msg.json) };
    case "ridges": {
      const d = decodeRidges(msg, buffers);
      return { generation: d.generation, lines: d.lines.map((l) => [...l]), heights: d.heights };
    }
  }
}

test("every message Python sends decodes to what Python meant", () => {
  assert.ok(python.messages.length >= FROM_PYTHON_KINDS.length);
  for (const entry of python.messages) {
    assert.deepEqual(decode(entry.content, buffersOf(entry)), entry.decoded, entry.name);
  }
});

test("the fixture holds every kind of FromPython, and no other", () => {
  const kinds = new Set(python.messages.map((e) => e.content.kind));
  assert.deepEqual([...kinds].sort(), [...FROM_PYTHON_KINDS].sort());
});

/** A field's JSON type as a name: "number", …, with "|null" where the field may be null. */
type Base<T> = T extends string
  ? "string"
  : T extends number
    ? "number"
    : T extends boolean
      ? "boolean"
      : T extends readonly unknown[]
        ? "array"
        : "object";
type JsonType<T> = null extends T ? `${Base<NonNullable<T>>}|null` : Base<T>;
type Fields<M> = { readonly [F in keyof M]-?: JsonType<M[F]> };

/**
 * The fields of each message Python sends, as protocol.ts declares them: the type checker holds
 * this table to the interfaces (a field missing, added, or declared nullable or not differently
 * fails to compile), and the test below holds Python's messages to the table.
 */
const FIELDS: { readonly [K in FromPython["kind"]]: Fields<Extract<FromPython, { kind: K }>> } = {
  tile: {
    kind: "string",
    z: "number",
    i: "number",
    j: "number",
    generation: "number",
    model_version: "number",
    tile_px: "number",
    extent: "array",
    vmin: "number|null",
    vmax: "number|null",
    depth: "number",
    has_direction: "boolean",
    dtype: "string",
    prediction_dtype: "string",
    direction_dtype: "string|null",
    lower: "number",
  },
  error: { kind: "string", message: "string", generation: "number", key: "array" },
  reset: { kind: "string" },
  state: { kind: "string", json: "string" },
  ridges: { kind: "string", generation: "number", counts: "array", heights: "array" },
  data: { kind: "string", count: "number", labels: "array" },
  input: { kind: "string", id: "number", shape: "array", vmin: "number", vmax: "number" },
};

const jsonType = (x: unknown) => (x === null ? "null" : Array.isArray(x) ? "array" : typeof x);

test("Python's messages have the fields protocol.ts declares, null only where declared", () => {
  const nulls = new Set<string>();
  for (const { name, content } of python.messages) {
    const declared: Record<string, string> = FIELDS[content.kind];
    assert.deepEqual(Object.keys(content).sort(), Object.keys(declared).sort(), name);
    for (const [field, value] of Object.entries(content)) {
      const allowed = declared[field]!.split("|");
      assert.ok(allowed.includes(jsonType(value)), `${name}: ${field} is ${jsonType(value)}`);
      if (value === null) nulls.add(`${content.kind}.${field}`);
    }
  }
  // and every field declared nullable is null in some message Python sends
  const nullable = Object.entries(FIELDS).flatMap(([kind, fields]) =>
    Object.entries(fields)
      .filter(([, type]) => type.endsWith("|null"))
      .map(([field]) => `${kind}.${field}`),
  );
  assert.deepEqual([...nulls].sort(), nullable.sort());
});

test("the view size limit is Python's", () => {
  assert.equal(python.limits.max_view_pixels, MAX_VIEW_PIXELS);
});

test("the browser's float64 bound is never finer than Python's finest_pixel, nor much coarser", () => {
  assert.ok(python.limits.float64.length >= 16);
  for (const { resolution, extent, finest_pixel } of python.limits.float64) {
    const bound = finestPixel(resolution, extent);
    assert.ok(finest_pixel <= bound && bound <= 4 * finest_pixel, `${extent}: ${bound}`);
  }
});

test("the session handles every message Python sends", () => {
  for (const entry of python.messages) {
    const { model, fire } = fakeModel({ status: "", error: "", plane_info: {} });
    const store = new TileStore();
    const inputs: unknown[] = [];
    const problems: string[] = [];
    const session = new Session(model, store, {
      view: () => new Viewport([0, 1, 0, 1], 64, 64),
      redraw: () => {},
      data: () => {},
      input: (input) => inputs.push(input),
      status: (text) => {
        if (/^decode/.test(text)) problems.push(text);
      },
      pictures: () => {},
      extent: () => {},
    });
    const generation = "generation" in entry.content ? entry.content.generation : 0;
    while (session.generation < generation) session.request();
    const kept = store.add(decodeTile({ ...held, generation }, heldBuffers()));
    assert.ok(kept);
    fire("msg:custom", entry.content, buffersOf(entry));
    assert.deepEqual(problems, [], entry.name);
    const { decoded } = entry;
    switch (entry.content.kind) {
      case "tile":
        assert.equal(store.size, 2, entry.name);
        assert.ok(
          store.drawOrder().some((t) => t.key.join() === (decoded.key as number[]).join()),
          entry.name,
        );
        break;
      case "data":
        assert.equal(session.data?.count, decoded.count, entry.name);
        assert.deepEqual(session.data?.labels, decoded.labels, entry.name);
        break;
      case "input":
        assert.equal(inputs.length, 1);
        break;
      case "error":
        assert.deepEqual(
          store.failures().map((f) => [...f.key]),
          [decoded.key],
        );
        // placed by the held tile's geometry (base side 1), to be drawn as failed
        assert.deepEqual(
          store.extentOf(decoded.key as [number, number, number]),
          tileExtent(1, decoded.key as [number, number, number]),
        );
        break;
      case "reset":
        assert.equal(store.size, 0);
        break;
      case "state":
        assert.equal(store.size, 1); // nothing drawn changes
        break;
      case "ridges":
        assert.equal(session.ridges?.lines.length, (decoded.lines as unknown[]).length);
        assert.equal(store.size, 1);
        break;
    }
    session.destroy();
  }
});

/** A tile held before each message arrives (level 0, side 1: the pyramid's geometry). */
const held = {
  kind: "tile",
  z: 0,
  i: 0,
  j: 0,
  generation: 0,
  model_version: 0,
  tile_px: 1,
  extent: [0, 1, 0, 1],
  vmin: 0,
  vmax: 0,
  has_direction: false,
  dtype: "float32",
  prediction_dtype: "float32",
  direction_dtype: null,
} as const;
const heldBuffers = () => [new Float32Array([0]), new Float32Array([0])];

/** Every message the browser sends, built by protocol.ts, with what it means to Python. */
function jsFixture(): { messages: { content: ToPython; meant: Record<string, unknown> }[] } {
  const home: Extent = [-1.5, 1.5, -1.5, 1.5];
  const negative: Extent = [-2.5, -0.5, -3.25, -1];
  return {
    messages: [
      {
        content: viewMessage(1, home, 420, 420),
        meant: { generation: 1, extent: home, width: 420, height: 420 },
      },
      // a layout's fractional CSS sizes: whole pixels
      {
        content: viewMessage(12, negative, 640.4, 479.6),
        meant: { generation: 12, extent: negative, width: 640, height: 480 },
      },
      // sizes Python refuses: clamped to [1, MAX_VIEW_PIXELS]
      {
        content: viewMessage(13, [0.125, 0.25, 1e-9, 2e-9], 5000.7, 0.25),
        meant: {
          generation: 13,
          extent: [0.125, 0.25, 1e-9, 2e-9],
          width: MAX_VIEW_PIXELS,
          height: 1,
        },
      },
      { content: dataRequestMessage(), meant: {} },
      { content: inputRequestMessage(1, 0.25, -0.75), meant: { id: 1, u: 0.25, v: -0.75 } },
      {
        content: inputRequestMessage(2, -1234.5, 1e-7),
        meant: { id: 2, u: -1234.5, v: 1e-7 },
      },
      { content: stateRequestMessage(), meant: {} },
      { content: flyRequestMessage("strongest"), meant: { which: "strongest", u: null, v: null } },
      {
        content: flyRequestMessage("nearest", -0.25, 1e-9),
        meant: { which: "nearest", u: -0.25, v: 1e-9 },
      },
    ],
  };
}

test("the committed protocol-js.json is what protocol.ts's builders build", () => {
  const fixture = jsFixture();
  const text = `${JSON.stringify(fixture, null, 1)}\n`;
  if (process.env.FTLE_WIDGET_UPDATE_FIXTURES) writeFileSync(JS_FIXTURE, text);
  assert.equal(
    readFileSync(JS_FIXTURE, "utf8"),
    text,
    "regenerate: FTLE_WIDGET_UPDATE_FIXTURES=1 npm test (in js/), then run tests/widget/test_protocol.py",
  );
  // each message says what it means, and every kind of ToPython is there
  for (const { content, meant } of fixture.messages) {
    assert.deepEqual(content, { kind: content.kind, ...meant });
  }
  const kinds = new Set(fixture.messages.map((m) => m.content.kind));
  assert.deepEqual([...kinds].sort(), [...TO_PYTHON_KINDS].sort());
});
