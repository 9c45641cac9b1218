/**
 * The client's tile store: tiles held per key, newest model version wins, stale generations
 * dropped; a slow model's preview (fewer pixels, same key) never replaces a full tile of its
 * version; coarser tiles are drawn first so that finer ones cover them (parents stand in,
 * stretched, while their children arrive). It also holds the tiles of the last request that
 * failed (Python's "error" messages), so that they are drawn as failed, not awaited.
 *
 * Pushed tiles (generation {@link PUSHED}, see shared.ts) are kept until the kernel has answered
 * a request of this store's (a tile of its generation, or a later one, arrived): a notebook
 * still running its cells has not read the request yet, and they are all there is to show.
 */
import {
  type DecodedError,
  type DecodedTile,
  type Extent,
  keyString,
  PUSHED,
  type TileKey,
} from "./protocol";
import { tileExtent } from "./viewport";

/** A tile that failed to compute. */
export type FailedTile = DecodedError;

export class TileStore {
  private tiles = new Map<string, DecodedTile>();
  private failed = new Map<string, FailedTile>();
  /** Plane units per tile side at level 0 (Python's `Pyramid.base_side`), from the tiles held. */
  private baseSide: number | null = null;
  /**
   * The generation of the newest view request; older tiles are not accepted, and failures of
   * older generations are forgotten.
   */
  generation = -1;
  /**
   * Whether a tile answering this store's request (or a later one: another display of the model
   * asked since) arrived; pushed tiles are then stale.
   */
  private answered = false;

  /** Keep a decoded tile unless it is stale; returns whether it was kept. */
  add(tile: DecodedTile): boolean {
    const msg = tile.message;
    const waiting = msg.generation === PUSHED && !this.answered;
    if (msg.generation < this.generation && !waiting) return false;
    if (msg.generation !== PUSHED && msg.generation >= this.generation) this.answered = true;
    const key = keyString(tile.key);
    const held = this.tiles.get(key);
    if (held && held.message.model_version > msg.model_version) return false;
    if (
      held &&
      held.message.model_version === msg.model_version &&
      held.message.tile_px > msg.tile_px
    ) {
      return false; // a preview after the full tile (a cached full tile came first)
    }
    this.tiles.set(key, tile);
    this.failed.delete(key);
    const side = (msg.extent[1] - msg.extent[0]) * 2 ** msg.z;
    if (Number.isFinite(side) && side > 0) this.baseSide = side;
    return true;
  }

  /** Mark a tile as failed unless the failure is stale; returns whether it was kept. */
  fail(failure: FailedTile): boolean {
    if (failure.generation < this.generation) return false;
    this.failed.set(keyString(failure.key), failure);
    return true;
  }

  /** The failed tiles of the newest generation, in the order they were reported. */
  failures(): FailedTile[] {
    for (const [key, f] of this.failed) {
      if (f.generation < this.generation) this.failed.delete(key);
    }
    return [...this.failed.values()];
  }

  /** The plane extent of tile `key`, or null before any tile told the pyramid's geometry. */
  extentOf(key: TileKey): Extent | null {
    return this.baseSide === null ? null : tileExtent(this.baseSide, key);
  }

  /** Forget every tile and failure (the plane changed). */
  clear(): void {
    this.tiles.clear();
    this.failed.clear();
    this.baseSide = null;
    this.answered = false; // a new plane: its pushed home view is what there is
  }

  get size(): number {
    return this.tiles.size;
  }

  /** Tiles coarse to fine (ascending z), the order to draw them in. */
  drawOrder(): DecodedTile[] {
    return [...this.tiles.values()].sort((a, b) => a.key[0] - b.key[0]);
  }

  /** The finest tile holding plane point (u, v) (among those passing `keep`, if given). */
  at(u: number, v: number, keep?: (tile: DecodedTile) => boolean): DecodedTile | undefined {
    let best: DecodedTile | undefined;
    for (const t of this.tiles.values()) {
      const [u0, u1, v0, v1] = t.message.extent;
      if (
        u >= u0 &&
        u < u1 &&
        v >= v0 &&
        v < v1 &&
        (!best || t.key[0] > best.key[0]) &&
        (!keep || keep(t))
      ) {
        best = t;
      }
    }
    return best;
  }
}

/** Index (i·tile_px + j) of the tile's pixel holding plane point (u, v), clamped to the tile. */
export function pixelIndex(tile: DecodedTile, u: number, v: number): number {
  const t = tile.message.tile_px;
  const [u0, u1, v0, v1] = tile.message.extent;
  const j = Math.min(t - 1, Math.max(0, Math.floor(((u - u0) / (u1 - u0)) * t)));
  const i = Math.min(t - 1, Math.max(0, Math.floor(((v - v0) / (v1 - v0)) * t)));
  return i * t + j;
}
