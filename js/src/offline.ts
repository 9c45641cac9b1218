/**
 * The offline page of `FTLEView.to_html` (Python's widget/offline.py): a model in place of the
 * kernel's. It holds the view's traits and the exported tiles, decoded once (a zlib stream:
 * float16 λ₁ as high-byte then low-byte planes, predictions as bytes or float32, directions and
 * the lower exponents λ₂, λ_min, where the view's quantity needs them, as float16 planes), and
 * answers the widget's view requests as the kernel does: with the stored
 * tiles of the request's level and the coarser ones under them, tagged with its generation.
 * Where a request lies beyond the stored levels or extent the `status` trait says the rest needs
 * a kernel. Built as its own bundle (static/offline.js); the page inlines both bundles.
 */
import { ANGLE_STEPS, type Extent, NO_DIRECTION, type TileMessage } from "./protocol";
import { levelFor, tileExtent, tileSide } from "./viewport";

/** The status line where a view lies beyond what the page holds. */
export const NEEDS_KERNEL =
  "beyond the exported tiles: the rest needs a kernel (open the notebook and run the view)";
/** The status line within them. */
export const OFFLINE = "offline copy: pan and zoom within the exported levels";
/** A prediction byte that stands for NaN. */
const NO_CLASS = 255;

/**
 * One stored tile: key, bytes per prediction (1 or 4), precision, whether it has directions, and
 * how many lower exponents' arrays follow (0; 1: λ₂, which is λ_min too; 2: λ₂ and λ_min; absent
 * in older pages: 0).
 */
export type Entry = [
  z: number,
  i: number,
  j: number,
  width: 1 | 4,
  dtype: string,
  dir: boolean,
  lower?: number,
];

/** What Python's `save_html` writes beside the tiles' bytes. */
export interface Manifest {
  base_side: number;
  tile_px: number;
  /** The exported view's level, and the coarsest and finest stored. */
  level: number;
  levels: [number, number];
  model_version: number;
  tiles: Entry[];
  data: { count: number; labels: string[]; uv: number[][]; cls: number[] } | null;
}

/** A stored tile, decoded: its message (generation to be set) and float32 arrays. */
export interface StoredTile {
  message: Omit<TileMessage, "generation">;
  arrays: (Float32Array | Uint16Array)[];
}

/** IEEE half-precision bits → float32 (exact: every float16 is a float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** `count` float16 values stored as `count` high bytes then `count` low bytes. */
export function fromPlanes(bytes: Uint8Array, at: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    out[k] = halfToFloat((bytes[at + k]! << 8) | bytes[at + count + k]!);
  }
  return out;
}

/** The finite range of `values` (nulls when none). */
function finiteRange(values: Float32Array): [number | null, number | null] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const x of values) {
    if (Number.isFinite(x)) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  return lo <= hi ? [lo, hi] : [null, null];
}

/** The tiles of `manifest` from their inflated bytes `raw`. */
export function decodeStored(manifest: Manifest, raw: Uint8Array): StoredTile[] {
  const t = manifest.tile_px;
  const n = t * t;
  let at = 0;
  return manifest.tiles.map(([z, i, j, width, dtype, dir, lower = 0]) => {
    const ftle = fromPlanes(raw, at, n);
    at += 2 * n;
    let prediction: Float32Array;
    if (width === 1) {
      prediction = Float32Array.from(raw.subarray(at, at + n), (b) =>
        b === NO_CLASS ? Number.NaN : b,
      );
    } else {
      prediction = new Float32Array(raw.slice(at, at + 4 * n).buffer);
    }
    at += width * n;
    const arrays: (Float32Array | Uint16Array)[] = [ftle, prediction];
    if (dir) {
      arrays.push(axesOf(fromPlanes(raw, at, 2 * n)));
      at += 4 * n;
    }
    for (let k = 0; k < lower; k++, at += 2 * n) arrays.push(fromPlanes(raw, at, n));
    const [vmin, vmax] = finiteRange(ftle);
    const message = {
      kind: "tile" as const,
      z,
      i,
      j,
      model_version: manifest.model_version,
      tile_px: t,
      extent: tileExtent(manifest.base_side, [z, i, j]),
      vmin,
      vmax,
      has_direction: dir,
      dtype: dtype === "float64" ? ("float64" as const) : ("float32" as const),
      prediction_dtype: "float32" as const, // decoded above: NaN where none
      direction_dtype: dir ? ("angle_uint16" as const) : null,
      lower,
    };
    return { message, arrays };
  });
}

/**
 * Directions (du, dv) pairs as the protocol's axes (Python's `protocol.pack_direction`): the
 * angle mod π in steps of π/{@link ANGLE_STEPS}, {@link NO_DIRECTION} where zero or not finite.
 */
export function axesOf(direction: Float32Array): Uint16Array {
  const out = new Uint16Array(direction.length / 2);
  for (let k = 0; k < out.length; k++) {
    const du = direction[2 * k] as number;
    const dv = direction[2 * k + 1] as number;
    const drawn = Number.isFinite(du) && Number.isFinite(dv) && (du !== 0 || dv !== 0);
    if (!drawn) {
      out[k] = NO_DIRECTION;
      continue;
    }
    let angle = Math.atan2(dv, du) % Math.PI;
    if (angle < 0) angle += Math.PI;
    out[k] = Math.round(angle * (ANGLE_STEPS / Math.PI)) % ANGLE_STEPS;
  }
  return out;
}

/** What the widget sends the stand-in model (the view and data requests it answers). */
type Asked = {
  kind?: string;
  generation?: number;
  extent?: Extent;
  width?: number;
  height?: number;
};

/** A zlib stream inflated by the browser (`DecompressionStream("deflate")`). */
export async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart])
    .stream()
    .pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A tile's (i, j) as text. */
function key(tile: { i: number; j: number }): string {
  return `${tile.i},${tile.j}`;
}

/** Whether two extents meet (with positive area). */
function meets(a: Extent, b: Extent): boolean {
  return a[0] < b[1] && b[0] < a[1] && a[2] < b[3] && b[2] < a[3];
}

/** The stored tiles a view request needs, and whether it lies beyond them. */
export function answer(
  manifest: Manifest,
  tiles: readonly StoredTile[],
  extent: Extent,
  width: number,
  height: number,
): { tiles: StoredTile[]; beyond: boolean } {
  const pixel = Math.max((extent[1] - extent[0]) / width, (extent[3] - extent[2]) / height);
  const wanted = levelFor(manifest.base_side, manifest.tile_px, pixel);
  const [coarsest, finest] = manifest.levels;
  const level = Math.min(Math.max(wanted, coarsest), finest);
  const shown = tiles.filter((t) => t.message.z <= level && meets(t.message.extent, extent));
  // every screen point under a tile of the level: the stored ones of that level cover the view
  const held = new Set(shown.filter((t) => t.message.z === level).map((t) => key(t.message)));
  const side = tileSide(manifest.base_side, level);
  let covered = true;
  for (let i = Math.floor(extent[2] / side); i < Math.ceil(extent[3] / side); i++) {
    for (let j = Math.floor(extent[0] / side); j < Math.ceil(extent[1] / side); j++) {
      covered &&= held.has(`${i},${j}`);
    }
  }
  return { tiles: shown, beyond: wanted !== level || !covered };
}

type Handler = (...args: unknown[]) => void;

/** The anywidget model of the offline page: traits in memory, requests answered here. */
export class OfflineModel {
  private readonly listeners = new Map<string, Handler[]>();

  constructor(
    readonly state: Record<string, unknown>,
    private readonly manifest: Manifest,
    private readonly tiles: readonly StoredTile[],
  ) {}

  get(name: string): unknown {
    return this.state[name];
  }

  set(name: string, value: unknown): void {
    const old = this.state[name];
    this.state[name] = value;
    if (old !== value) this.fire(`change:${name}`);
  }

  save_changes(): void {}

  on(event: string, handler: Handler): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), handler]);
  }

  off(event: string, handler: Handler): void {
    this.listeners.set(
      event,
      (this.listeners.get(event) ?? []).filter((h) => h !== handler),
    );
  }

  fire(event: string, ...args: unknown[]): void {
    for (const handler of this.listeners.get(event) ?? []) handler(...args);
  }

  /** A message of the widget's: answered a moment later, as a kernel would. */
  send(msg: Asked): void {
    setTimeout(() => this.reply(msg), 0);
  }

  private reply(msg: Asked): void {
    if (msg.kind === "data_request") {
      const data = this.manifest.data;
      const uv = Float32Array.from((data?.uv ?? []).flat());
      const cls = Float32Array.from(data?.cls ?? []);
      const content = { kind: "data", count: data?.count ?? 0, labels: data?.labels ?? [] };
      this.fire("msg:custom", content, [new DataView(uv.buffer), new DataView(cls.buffer)]);
      return;
    }
    if (msg.kind !== "view" || !msg.extent || !msg.width || !msg.height) return;
    const found = answer(this.manifest, this.tiles, msg.extent, msg.width, msg.height);
    this.set("status", found.beyond ? NEEDS_KERNEL : OFFLINE);
    for (const tile of found.tiles) {
      const buffers = tile.arrays.map((a) => new DataView(a.buffer, a.byteOffset, a.byteLength));
      this.fire("msg:custom", { ...tile.message, generation: msg.generation }, buffers);
    }
  }
}

/** The widget's bundle (`export default { initialize, render }`). */
export interface Widget {
  initialize?: (props: { model: unknown }) => unknown;
  render: (props: { model: unknown; el: HTMLElement }) => unknown;
}

/** Decode the tiles and show the widget in `el` on an offline model. */
export async function open(
  widget: Widget,
  el: HTMLElement,
  state: Record<string, unknown>,
  manifest: Manifest,
  packed: Uint8Array,
): Promise<{ model: OfflineModel; tiles: number }> {
  const tiles = decodeStored(manifest, await inflate(packed));
  const model = new OfflineModel({ ...state, status: OFFLINE }, manifest, tiles);
  await widget.initialize?.({ model });
  await widget.render({ model, el });
  return { model, tiles: tiles.length };
}
