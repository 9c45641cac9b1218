/** Tile messages for the unit tests, as Python sends them. */
import type { Extent, TileKey, TileMessage } from "../src/protocol";

/** The message of a float32 tile of `key`, `tilePx` pixels square over `extent`, without
 * directions or value range; `extra` overrides any field. */
export function tileMessage(
  key: TileKey,
  extent: Extent,
  tilePx: number,
  extra: Partial<TileMessage> = {},
): TileMessage {
  return {
    kind: "tile",
    z: key[0],
    i: key[1],
    j: key[2],
    generation: 1,
    model_version: 0,
    tile_px: tilePx,
    extent,
    vmin: null,
    vmax: null,
    has_direction: false,
    dtype: "float32",
    prediction_dtype: "float32",
    direction_dtype: null,
    ...extra,
  };
}
