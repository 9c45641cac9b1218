/**
 * Messages exchanged with the Python side of the widget (its twin: `ftle_widget/widget/protocol.py`;
 * the fixtures of `test/protocol-fixture.test.ts` check that both sides agree).
 *
 * JS → Python, built here only: {@link ViewMessage} ({@link viewMessage}),
 * {@link DataRequestMessage} ({@link dataRequestMessage}, once, on render) and
 * {@link InputRequestMessage} ({@link inputRequestMessage}, hover pictures),
 * {@link StateRequestMessage} and {@link FlyRequestMessage} (toolbar buttons). Python → JS:
 * {@link TileMessage}, {@link DataMessage}, {@link InputMessage} and {@link RidgesMessage}
 * (with binary buffers), {@link ErrorMessage} (a tile that failed), {@link StateMessage} and
 * {@link ResetMessage}.
 */

/** The largest view side, in pixels, that Python accepts (`MAX_VIEW_PIXELS` of Python). */
export const MAX_VIEW_PIXELS = 4096;

/** (u0, u1, v0, v1): a rectangle of the plane, u horizontal, v vertical (upwards). */
export type Extent = readonly [u0: number, u1: number, v0: number, v1: number];

/** (z, i, j): level z, row i (along v), column j (along u). */
export type TileKey = readonly [z: number, i: number, j: number];

/** Whether two extents are the same numbers. */
export function sameExtent(a: Extent | null | undefined, b: Extent | null | undefined): boolean {
  return Boolean(a && b) && a!.length === b!.length && a!.every((x, k) => x === b![k]);
}

/**
 * The generation of tiles Python pushes unasked (the home view, computed when the widget is
 * made; shared.ts); requests count from 1. Python's `protocol.PUSHED`.
 */
export const PUSHED = 0;

/** What the user sees, sent whenever the view changes; `generation` increases per request. */
export interface ViewMessage {
  kind: "view";
  generation: number;
  extent: Extent;
  /** CSS pixels, whole, in [1, {@link MAX_VIEW_PIXELS}]. */
  width: number;
  height: number;
}

/**
 * One computed tile. Its binary buffers (little-endian) are, in order, `ftle` (float32,
 * row-major `tile_px × tile_px`), `prediction` (class indices as {@link TileMessage.prediction_dtype},
 * same layout), when `has_direction`, `direction` ({@link TileMessage.direction_dtype}), then
 * {@link TileMessage.lower} float32 buffers of the lower exponents. Row 0 lies at v0, the bottom
 * of the tile in plane coordinates.
 */
export interface TileMessage {
  kind: "tile";
  z: number;
  i: number;
  j: number;
  generation: number;
  model_version: number;
  tile_px: number;
  extent: Extent;
  /** Finite range of the tile's FTLE values; null when it has none (JSON has no NaN). */
  vmin: number | null;
  vmax: number | null;
  /**
   * The divisor of log Λ₁ = depth·λ₁ the tile was computed with (its layer's: a view moving
   * through layers holds tiles of several); absent in a stored tile (the `depth` trait then).
   */
  depth?: number;
  has_direction: boolean;
  /** The precision the tile was computed in; `ftle` is float32 either way. */
  dtype: "float32" | "float64";
  /**
   * What `prediction` holds: class indices as uint8 (255: none) or uint16 (65535: none), or as
   * float32 (NaN: none) beyond 65534 classes. "None" decodes to NaN.
   */
  prediction_dtype: PredictionDtype;
  /**
   * What `direction` holds: "angle_uint16", `tile_px²` axes k·π/65535 of the direction (du, dv)
   * (65535: none, decoded to NaN), decoded to (cos, sin); null when the tile has none.
   */
  direction_dtype: DirectionDtype | null;
  /**
   * The lower exponents' buffers (float32, `tile_px²` each) after the others: 0 (or absent, an
   * older kernel), none; 1, `lambda_2`, which is λ_min too (J has two singular values); 2,
   * `lambda_2` then `lambda_min`.
   */
  lower?: number;
}

/** The encodings of a tile's prediction, with the value meaning "no class" (NaN). */
export const PREDICTION_DTYPES = { uint8: 255, uint16: 65535, float32: Number.NaN } as const;
export type PredictionDtype = keyof typeof PREDICTION_DTYPES;
/** A tile's directions as axes, angles k·π/{@link ANGLE_STEPS}; {@link NO_DIRECTION}: none. */
export type DirectionDtype = "angle_uint16";
export const ANGLE_STEPS = 65535;
export const NO_DIRECTION = 65535;

/** A tile of the request `generation` failed: the browser stops waiting for it. */
export interface ErrorMessage {
  kind: "error";
  message: string;
  generation: number;
  /** The tile that failed. */
  key: TileKey;
}

/** The plane changed: every held tile is stale. */
export interface ResetMessage {
  kind: "reset";
}

/** Sent once on render: asks for the data points ({@link DataMessage}). */
export interface DataRequestMessage {
  kind: "data_request";
}

/**
 * The data points on the plane, replacing any held before (Python may send one at any time,
 * e.g. after a plane change). Buffers, in order: `uv` (float32, `count × 2`, interleaved (u, v)
 * plane coordinates) and `cls` (float32, `count` class indices, −1 = unlabelled). With
 * `count` 0 the buffers may be empty or absent.
 */
export interface DataMessage {
  kind: "data";
  count: number;
  /** Class names, index = class id. */
  labels: string[];
}

/** Asks for the input at plane point (u, v), to show as a picture; `id` increases per request. */
export interface InputRequestMessage {
  kind: "input_request";
  id: number;
  u: number;
  v: number;
}

/**
 * The reply to an {@link InputRequestMessage}: one float32 buffer of `prod(shape)` values,
 * row-major, `shape` [H, W] or [C, H, W] with C 1 or 3; [vmin, vmax] maps onto black..white.
 */
export interface InputMessage {
  kind: "input";
  id: number;
  shape: number[];
  vmin: number;
  vmax: number;
}

/** Asks for the view's state (the toolbar's "Copy view"): Python answers {@link StateMessage}. */
export interface StateRequestMessage {
  kind: "state_request";
}

/** The view's `state()` as JSON text (plane, extent, layer, colours, overlays, epoch). */
export interface StateMessage {
  kind: "state";
  json: string;
}

/**
 * Asks Python to fly to a ridge (the toolbar's "Fly to ridge"): the strongest in view, or the
 * one nearest the plane point (u, v) (null, null: the view's centre).
 */
export interface FlyRequestMessage {
  kind: "fly_request";
  which: "strongest" | "nearest";
  u: number | null;
  v: number | null;
}

/**
 * The ridges of the view of `generation` (the ridge overlay): one float64 buffer of (u, v) plane
 * points, ridge after ridge, `counts[k]` points for ridge k (strongest first), and each
 * ridge's height (null where not finite).
 */
export interface RidgesMessage {
  kind: "ridges";
  generation: number;
  counts: number[];
  heights: (number | null)[];
}

export type FromPython =
  | TileMessage
  | ErrorMessage
  | ResetMessage
  | DataMessage
  | InputMessage
  | StateMessage
  | RidgesMessage;
export type ToPython =
  | ViewMessage
  | DataRequestMessage
  | InputRequestMessage
  | StateRequestMessage
  | FlyRequestMessage;

// Every kind of each union, once: a kind missing here, or one the union lacks, fails to type check.
const FROM_PYTHON: { readonly [K in FromPython["kind"]]: null } = {
  tile: null,
  error: null,
  reset: null,
  data: null,
  input: null,
  state: null,
  ridges: null,
};
const TO_PYTHON: { readonly [K in ToPython["kind"]]: null } = {
  view: null,
  data_request: null,
  input_request: null,
  state_request: null,
  fly_request: null,
};
/** The kinds of the messages Python sends ({@link FromPython}). */
export const FROM_PYTHON_KINDS = Object.keys(FROM_PYTHON) as readonly FromPython["kind"][];
/** The kinds of the messages the browser sends ({@link ToPython}). */
export const TO_PYTHON_KINDS = Object.keys(TO_PYTHON) as readonly ToPython["kind"][];

/** A binary buffer as anywidget hands it over (DataView), or a plain buffer or typed array. */
export type Buffer = DataView | ArrayBuffer | ArrayBufferView;

/** A tile's arrays, decoded. */
export interface DecodedTile {
  message: TileMessage;
  key: TileKey;
  /** `tile_px²` values, row-major, row 0 at v0. */
  ftle: Float32Array;
  /** `tile_px²` class indices (as float32, NaN: none), same layout as `ftle`. */
  prediction: Float32Array;
  /**
   * `tile_px² × 2` values (pairs per pixel: the unit vector along the pixel's axis, NaN: none),
   * or null when the tile has none.
   */
  direction: Float32Array | null;
  /** λ₂ and λ_min (the same array where J has two singular values), `tile_px²` each; absent or
   * null when the tile was computed without them. */
  lambda2?: Float32Array | null;
  lambdaMin?: Float32Array | null;
}

/** Data points, decoded. */
export interface DecodedData {
  count: number;
  labels: string[];
  /** `count × 2` values: u, v of point k at 2k, 2k + 1. */
  uv: Float32Array;
  /** `count` class indices (−1: unlabelled). */
  cls: Float32Array;
}

/** An input picture, decoded. */
export interface DecodedInput {
  message: InputMessage;
  /** [C, H, W] with C 1 or 3 ([H, W] becomes [1, H, W]). */
  shape: [c: number, h: number, w: number];
  /** `C·H·W` values, row-major. */
  values: Float32Array;
}

/** A failed tile, decoded. */
export interface DecodedError {
  key: TileKey;
  generation: number;
  message: string;
}

/**
 * The view request for a given generation. `width` and `height` (CSS pixels, fractional as a
 * layout gives them) are rounded to whole pixels and clamped to [1, {@link MAX_VIEW_PIXELS}]:
 * Python refuses other sizes.
 */
export function viewMessage(
  generation: number,
  extent: Extent,
  width: number,
  height: number,
): ViewMessage {
  return {
    kind: "view",
    generation,
    extent: [extent[0], extent[1], extent[2], extent[3]],
    width: viewPixels(width),
    height: viewPixels(height),
  };
}

/** A CSS size as whole pixels in [1, {@link MAX_VIEW_PIXELS}] (NaN: 1). */
function viewPixels(size: number): number {
  const n = Math.round(size);
  return Number.isNaN(n) ? 1 : Math.min(MAX_VIEW_PIXELS, Math.max(1, n));
}

/** The request for the data points (sent once, on render). */
export function dataRequestMessage(): DataRequestMessage {
  return { kind: "data_request" };
}

/** The request for the view's state (the toolbar's "Copy view"). */
export function stateRequestMessage(): StateRequestMessage {
  return { kind: "state_request" };
}

/** The toolbar's "Fly to ridge": the strongest ridge, or the one nearest (u, v). */
export function flyRequestMessage(
  which: "strongest" | "nearest",
  u: number | null = null,
  v: number | null = null,
): FlyRequestMessage {
  return { kind: "fly_request", which, u, v };
}

/** A ridges message decoded: each ridge's (u, v) points interleaved, and its height. */
export interface DecodedRidges {
  generation: number;
  lines: Float64Array[];
  heights: (number | null)[];
}

/**
 * A ridges message's polylines (copied out of the buffer). Throws an Error when the counts are
 * not non-negative integers, the heights do not match them, or the buffer has the wrong length.
 */
export function decodeRidges(
  msg: RidgesMessage,
  buffers: readonly Buffer[] | undefined,
): DecodedRidges {
  if (msg.kind !== "ridges") {
    throw new Error(`decodeRidges: expected a "ridges" message, got "${String(msg.kind)}"`);
  }
  const counts: unknown = msg.counts;
  if (!Array.isArray(counts) || !counts.every((c) => Number.isInteger(c) && c >= 0)) {
    throw new Error(`decodeRidges: counts must be integers ≥ 0, got ${JSON.stringify(counts)}`);
  }
  if (!Array.isArray(msg.heights) || msg.heights.length !== counts.length) {
    throw new Error("decodeRidges: one height per ridge");
  }
  const g = msg.generation;
  if (!Number.isInteger(g) || g < 0) {
    throw new Error(`decodeRidges: generation must be a non-negative integer, got ${String(g)}`);
  }
  const bufs = buffers ?? [];
  if (bufs.length !== 1) throw new Error(`decodeRidges: expected 1 buffer, got ${bufs.length}`);
  const total = counts.reduce((a: number, c: number) => a + c, 0);
  const bytes = bytesOf(bufs[0]!, 2 * total, "float64", "decodeRidges: points").slice();
  const points = new Float64Array(bytes.buffer);
  const lines: Float64Array[] = [];
  let at = 0;
  for (const c of counts as number[]) {
    lines.push(points.subarray(2 * at, 2 * (at + c)));
    at += c;
  }
  const heights = msg.heights.map((h) => (typeof h === "number" ? h : null));
  return { generation: g, lines, heights };
}

/** The request for the input at plane point (u, v), as picture `id`. */
export function inputRequestMessage(id: number, u: number, v: number): InputRequestMessage {
  return { kind: "input_request", id, u, v };
}

/** A readable "z/i/j" string for a key, usable as a Map key. */
export function keyString(key: TileKey): string {
  return `${key[0]}/${key[1]}/${key[2]}`;
}

/**
 * The tile's arrays as Float32Arrays. The `ftle` buffer is viewed in place when its bytes start
 * at a 4-byte aligned offset (no copy), else copied; the prediction and direction are decoded
 * from their dtypes (see {@link TileMessage}). Throws an Error naming the array when a buffer is
 * missing or has the wrong length, or naming the field when a dtype is unknown or does not go
 * with `has_direction`.
 */
export function decodeTile(msg: TileMessage, buffers: readonly Buffer[]): DecodedTile {
  if (msg.kind !== "tile") {
    throw new Error(`decodeTile: expected a "tile" message, got "${String(msg.kind)}"`);
  }
  const t = msg.tile_px;
  if (!Number.isInteger(t) || t <= 0) {
    throw new Error(`decodeTile: tile_px must be a positive integer, got ${String(t)}`);
  }
  const lower = msg.lower ?? 0;
  if (lower !== 0 && lower !== 1 && lower !== 2) {
    throw new Error(`decodeTile: lower must be 0, 1 or 2, got ${JSON.stringify(lower)}`);
  }
  const names = msg.has_direction ? ["ftle", "prediction", "direction"] : ["ftle", "prediction"];
  names.push(...["lambda_2", "lambda_min"].slice(0, lower));
  if (buffers.length !== names.length) {
    throw new Error(
      `decodeTile: expected ${names.length} buffers (${names.join(", ")}), got ${buffers.length}`,
    );
  }
  const pd: unknown = msg.prediction_dtype;
  const known: readonly unknown[] = Object.keys(PREDICTION_DTYPES);
  if (!known.includes(pd)) {
    throw new Error(
      `decodeTile: prediction_dtype must be one of ${known.join(", ")}, got ${JSON.stringify(pd)}`,
    );
  }
  const dd: unknown = msg.direction_dtype;
  if (msg.has_direction ? dd !== "angle_uint16" : dd !== null) {
    throw new Error(
      `decodeTile: direction_dtype must be ${msg.has_direction ? '"angle_uint16"' : "null"} ` +
        `with has_direction ${String(msg.has_direction)}, got ${JSON.stringify(dd)}`,
    );
  }
  const n = t * t;
  const ftle = toFloat32(buffers[0]!, n, "decodeTile: ftle");
  const prediction = decodePrediction(buffers[1]!, n, pd as PredictionDtype);
  const direction = msg.has_direction ? decodeDirection(buffers[2]!, n) : null;
  const at = msg.has_direction ? 3 : 2;
  const lambda2 = lower > 0 ? toFloat32(buffers[at]!, n, "decodeTile: lambda_2") : null;
  const lambdaMin = lower > 1 ? toFloat32(buffers[at + 1]!, n, "decodeTile: lambda_min") : lambda2;
  const key: TileKey = [msg.z, msg.i, msg.j];
  return { message: msg, key, ftle, prediction, direction, lambda2, lambdaMin };
}

/** `n` class indices held as `dtype`, as float32 with "none" as NaN. */
function decodePrediction(buf: Buffer, n: number, dtype: PredictionDtype): Float32Array {
  const what = "decodeTile: prediction";
  if (dtype === "float32") return toFloat32(buf, n, what);
  const wide = dtype === "uint16";
  const bytes = bytesOf(buf, n, dtype, what);
  const none = PREDICTION_DTYPES[dtype];
  const out = new Float32Array(n);
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let k = 0; k < n; k++) {
    const c = wide ? data.getUint16(2 * k, true) : bytes[k]!;
    out[k] = c === none ? Number.NaN : c;
  }
  return out;
}

/** `n` uint16 axes → `n` (cos, sin) pairs, NaN where none. */
function decodeDirection(buf: Buffer, n: number): Float32Array {
  const bytes = bytesOf(buf, n, "uint16", "decodeTile: direction");
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(2 * n);
  const step = Math.PI / ANGLE_STEPS;
  for (let k = 0; k < n; k++) {
    const a = data.getUint16(2 * k, true);
    const angle = a === NO_DIRECTION ? Number.NaN : a * step;
    out[2 * k] = Math.cos(angle);
    out[2 * k + 1] = Math.sin(angle);
  }
  return out;
}

/**
 * A data message's points as Float32Arrays (viewed in place or copied as in
 * {@link decodeTile}). Throws an Error when the count is not a non-negative integer, or a
 * buffer is missing or has the wrong length.
 */
export function decodeData(msg: DataMessage, buffers: readonly Buffer[] | undefined): DecodedData {
  if (msg.kind !== "data") {
    throw new Error(`decodeData: expected a "data" message, got "${String(msg.kind)}"`);
  }
  const n = msg.count;
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`decodeData: count must be a non-negative integer, got ${String(n)}`);
  }
  const labels = Array.isArray(msg.labels) ? msg.labels.map(String) : [];
  const bufs = buffers ?? [];
  if (n === 0 && bufs.length === 0) {
    return { count: 0, labels, uv: new Float32Array(0), cls: new Float32Array(0) };
  }
  if (bufs.length !== 2) {
    throw new Error(`decodeData: expected 2 buffers (uv, cls), got ${bufs.length}`);
  }
  const uv = toFloat32(bufs[0]!, 2 * n, "decodeData: uv");
  const cls = toFloat32(bufs[1]!, n, "decodeData: cls");
  return { count: n, labels, uv, cls };
}

/**
 * An input message's picture. Throws an Error when the shape is not [H, W] or [C, H, W] with
 * C 1 or 3 (positive integers), or the buffer is missing or has the wrong length.
 */
export function decodeInput(
  msg: InputMessage,
  buffers: readonly Buffer[] | undefined,
): DecodedInput {
  if (msg.kind !== "input") {
    throw new Error(`decodeInput: expected an "input" message, got "${String(msg.kind)}"`);
  }
  const s = Array.isArray(msg.shape) ? msg.shape : [];
  const shape: [number, number, number] | null =
    s.length === 2 ? [1, s[0]!, s[1]!] : s.length === 3 ? [s[0]!, s[1]!, s[2]!] : null;
  if (!shape?.every((d) => Number.isInteger(d) && d > 0) || (shape[0] !== 1 && shape[0] !== 3)) {
    throw new Error(
      `decodeInput: shape must be [H, W] or [C, H, W] with C 1 or 3, got ${JSON.stringify(msg.shape)}`,
    );
  }
  const bufs = buffers ?? [];
  if (bufs.length !== 1) {
    throw new Error(`decodeInput: expected 1 buffer (values), got ${bufs.length}`);
  }
  const values = toFloat32(bufs[0]!, shape[0] * shape[1] * shape[2], "decodeInput: values");
  return { message: msg, shape, values };
}

/**
 * A failed tile's key and generation. Throws an Error when the key is not three integers or the
 * generation is not a non-negative integer.
 */
export function decodeError(msg: ErrorMessage): DecodedError {
  if (msg.kind !== "error") {
    throw new Error(`decodeError: expected an "error" message, got "${String(msg.kind)}"`);
  }
  const k: unknown = msg.key;
  if (!Array.isArray(k) || k.length !== 3 || !k.every((x) => Number.isInteger(x))) {
    throw new Error(`decodeError: key must be [z, i, j] (integers), got ${JSON.stringify(k)}`);
  }
  const g = msg.generation;
  if (!Number.isInteger(g) || g < 0) {
    throw new Error(`decodeError: generation must be a non-negative integer, got ${String(g)}`);
  }
  return { key: [k[0], k[1], k[2]], generation: g, message: String(msg.message) };
}

/**
 * `expected` float32 values of `buf` (`what` names them in errors, e.g. "decodeTile: ftle").
 * A buffer whose bytes start at a 4-byte aligned offset is viewed in place; an unaligned one
 * is copied.
 */
function toFloat32(buf: Buffer, expected: number, what: string): Float32Array {
  const bytes = bytesOf(buf, expected, "float32", what);
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, expected);
  // Float32Array views need 4-byte alignment: copy the bytes into a fresh buffer.
  return new Float32Array(bytes.slice().buffer);
}

const SIZES = { uint8: 1, uint16: 2, float32: 4, float64: 8 } as const;

/**
 * The bytes of `buf` (viewed in place), which must hold `expected` values of `type`; an Error
 * naming `what` otherwise.
 */
function bytesOf(
  buf: Buffer,
  expected: number,
  type: keyof typeof SIZES,
  what: string,
): Uint8Array {
  const size = SIZES[type];
  let bytes: Uint8Array;
  if (ArrayBuffer.isView(buf)) {
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } else if (buf instanceof ArrayBuffer) {
    bytes = new Uint8Array(buf);
  } else {
    throw new Error(`${what} is not a DataView, typed array or ArrayBuffer`);
  }
  const n = bytes.byteLength;
  if (n !== expected * size) {
    throw new Error(
      `${what} should hold ${expected} ${type} values (${expected * size} bytes), ` +
        `got ${n} bytes` +
        (n % size === 0 ? ` (${n / size} values)` : ""),
    );
  }
  return bytes;
}
