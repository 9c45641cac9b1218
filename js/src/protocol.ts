/**
 * Messages exchanged with the Python side of the widget.
 *
 * JS → Python: {@link ViewMessage}. Python → JS: {@link TileMessage} (with binary buffers),
 * {@link ProgressMessage} and {@link ErrorMessage}.
 */

/** (u0, u1, v0, v1): a rectangle of the plane, u horizontal, v vertical (upwards). */
export type Extent = readonly [u0: number, u1: number, v0: number, v1: number];

/** (z, i, j): level z, row i (along v), column j (along u). */
export type TileKey = readonly [z: number, i: number, j: number];

/** What the user sees, sent whenever the view changes; `generation` increases per request. */
export interface ViewMessage {
  kind: "view";
  generation: number;
  extent: Extent;
  /** CSS pixels. */
  width: number;
  height: number;
}

/**
 * One computed tile. Its binary buffers are, in order, `ftle` and `prediction` (float32,
 * row-major `tile_px × tile_px`) and, when `has_direction`, `direction` (float32, row-major
 * `tile_px × tile_px × 2`). Row 0 lies at v0, the bottom of the tile in plane coordinates.
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
  /** Finite range of the tile's FTLE values (NaN when it has none). */
  vmin: number;
  vmax: number;
  has_direction: boolean;
  /** The precision the tile was computed in; the buffers are float32 either way. */
  dtype: "float32" | "float64";
}

export interface ProgressMessage {
  kind: "progress";
  done: number;
  total: number;
  generation: number;
}

export interface ErrorMessage {
  kind: "error";
  message: string;
  generation: number;
  /** The tile the error concerns, if any. */
  key?: TileKey;
}

export type FromPython = TileMessage | ProgressMessage | ErrorMessage;
export type ToPython = ViewMessage;

/** A binary buffer as anywidget hands it over (DataView), or a plain buffer or typed array. */
export type Buffer = DataView | ArrayBuffer | ArrayBufferView;

/** A tile's arrays, decoded. */
export interface DecodedTile {
  message: TileMessage;
  key: TileKey;
  /** `tile_px²` values, row-major, row 0 at v0. */
  ftle: Float32Array;
  /** `tile_px²` class indices (as float32), same layout as `ftle`. */
  prediction: Float32Array;
  /** `tile_px² × 2` values (pairs per pixel), or null when the tile has none. */
  direction: Float32Array | null;
}

/** The view request for a given generation. */
export function viewMessage(
  generation: number,
  extent: Extent,
  width: number,
  height: number,
): ViewMessage {
  return { kind: "view", generation, extent: [extent[0], extent[1], extent[2], extent[3]], width, height };
}

/** A readable "z/i/j" string for a key, usable as a Map key. */
export function keyString(key: TileKey): string {
  return `${key[0]}/${key[1]}/${key[2]}`;
}

/**
 * The tile's arrays as Float32Arrays. A buffer whose bytes start at a 4-byte aligned offset
 * is viewed in place (no copy); an unaligned one is copied. Throws an Error naming the array
 * when a buffer is missing or has the wrong length.
 */
export function decodeTile(msg: TileMessage, buffers: readonly Buffer[]): DecodedTile {
  if (msg.kind !== "tile") {
    throw new Error(`decodeTile: expected a "tile" message, got "${String(msg.kind)}"`);
  }
  const t = msg.tile_px;
  if (!Number.isInteger(t) || t <= 0) {
    throw new Error(`decodeTile: tile_px must be a positive integer, got ${String(t)}`);
  }
  const names = msg.has_direction ? ["ftle", "prediction", "direction"] : ["ftle", "prediction"];
  if (buffers.length !== names.length) {
    throw new Error(
      `decodeTile: expected ${names.length} buffers (${names.join(", ")}), got ${buffers.length}`,
    );
  }
  const n = t * t;
  const ftle = toFloat32(buffers[0]!, n, "ftle");
  const prediction = toFloat32(buffers[1]!, n, "prediction");
  const direction = msg.has_direction ? toFloat32(buffers[2]!, 2 * n, "direction") : null;
  return { message: msg, key: [msg.z, msg.i, msg.j], ftle, prediction, direction };
}

function toFloat32(buf: Buffer, expected: number, name: string): Float32Array {
  let buffer: ArrayBufferLike;
  let offset: number;
  let bytes: number;
  if (ArrayBuffer.isView(buf)) {
    buffer = buf.buffer;
    offset = buf.byteOffset;
    bytes = buf.byteLength;
  } else if (buf instanceof ArrayBuffer) {
    buffer = buf;
    offset = 0;
    bytes = buf.byteLength;
  } else {
    throw new Error(`decodeTile: ${name} is not a DataView, typed array or ArrayBuffer`);
  }
  if (bytes !== expected * 4) {
    throw new Error(
      `decodeTile: ${name} should hold ${expected} float32 values (${expected * 4} bytes), ` +
        `got ${bytes} bytes` + (bytes % 4 === 0 ? ` (${bytes / 4} values)` : ""),
    );
  }
  if (offset % 4 === 0) return new Float32Array(buffer, offset, expected);
  // Float32Array views need 4-byte alignment: copy the bytes into a fresh buffer.
  const copy = new Uint8Array(bytes);
  copy.set(new Uint8Array(buffer, offset, bytes));
  return new Float32Array(copy.buffer);
}
