/**
 * The plane ↔ screen mapping and the tile pyramid's geometry.
 *
 * Screen coordinates are CSS pixels with x to the right and y downwards, (0, 0) at the top-left
 * corner; plane coordinates have u to the right and v upwards. The tile geometry mirrors
 * `ftle_widget.lazy.pyramid.Pyramid` exactly (same floating-point operations, same rounding, same order).
 */

import type { Extent, TileKey } from "./protocol";

/** An immutable view: a rectangle of the plane drawn on `width × height` CSS pixels. */
export class Viewport {
  readonly u0: number;
  readonly u1: number;
  readonly v0: number;
  readonly v1: number;
  readonly width: number;
  readonly height: number;

  constructor(extent: Extent, width: number, height: number) {
    const [u0, u1, v0, v1] = extent;
    if (![u0, u1, v0, v1].every(Number.isFinite) || !(u1 > u0) || !(v1 > v0)) {
      throw new RangeError(`Viewport: bad extent [${extent.join(", ")}] (need u0 < u1, v0 < v1)`);
    }
    if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
      throw new RangeError(`Viewport: bad size ${width}×${height}`);
    }
    this.u0 = u0;
    this.u1 = u1;
    this.v0 = v0;
    this.v1 = v1;
    this.width = width;
    this.height = height;
  }

  /**
   * The view of `extent` on a `width × height` canvas with square pixels: the extent grown about
   * its centre along one axis, so all of it shows and circles stay round.
   */
  static fit(extent: Extent, width: number, height: number): Viewport {
    const given = new Viewport(extent, width, height); // throws on a bad extent or size
    const [u0, u1, v0, v1] = extent;
    const ru = (u1 - u0) / width;
    const rv = (v1 - v0) / height;
    if (ru > rv) {
      const cv = 0.5 * (v0 + v1);
      const hv = 0.5 * ru * height;
      return new Viewport([u0, u1, cv - hv, cv + hv], width, height);
    }
    if (rv > ru) {
      const cu = 0.5 * (u0 + u1);
      const hu = 0.5 * rv * width;
      return new Viewport([cu - hu, cu + hu, v0, v1], width, height);
    }
    return given;
  }

  get extent(): Extent {
    return [this.u0, this.u1, this.v0, this.v1];
  }

  /** Screen position (x, y) of the plane point (u, v). */
  toScreen(u: number, v: number): [x: number, y: number] {
    return [
      ((u - this.u0) / (this.u1 - this.u0)) * this.width,
      ((this.v1 - v) / (this.v1 - this.v0)) * this.height,
    ];
  }

  /** Plane point (u, v) at the screen position (x, y). */
  toPlane(x: number, y: number): [u: number, v: number] {
    return [
      this.u0 + (x / this.width) * (this.u1 - this.u0),
      this.v1 - (y / this.height) * (this.v1 - this.v0),
    ];
  }

  /** The larger of the horizontal and vertical pixel sizes, in plane units (as Python's View). */
  pixelSize(): number {
    return Math.max((this.u1 - this.u0) / this.width, (this.v1 - this.v0) / this.height);
  }

  /** The view after dragging the plane by (dx, dy) screen pixels: the content follows the pointer. */
  pan(dx: number, dy: number): Viewport {
    const du = (dx / this.width) * (this.u1 - this.u0);
    const dv = (dy / this.height) * (this.v1 - this.v0);
    return new Viewport(
      [this.u0 - du, this.u1 - du, this.v0 + dv, this.v1 + dv],
      this.width,
      this.height,
    );
  }

  /**
   * The view magnified by `factor` (> 1 zooms in, < 1 zooms out) about the screen point (x, y):
   * the plane point under (x, y) stays there.
   */
  zoomAt(x: number, y: number, factor: number): Viewport {
    if (!(factor > 0) || !Number.isFinite(factor)) {
      throw new RangeError(`zoomAt: factor must be a positive finite number, got ${factor}`);
    }
    const [pu, pv] = this.toPlane(x, y);
    return new Viewport(
      [
        pu - (pu - this.u0) / factor,
        pu + (this.u1 - pu) / factor,
        pv - (pv - this.v0) / factor,
        pv + (this.v1 - pv) / factor,
      ],
      this.width,
      this.height,
    );
  }

  /**
   * The view showing the screen box with corners (x0, y0) and (x1, y1), in any order. With
   * `keepAspect` (the default) the box is grown about its centre so the plane units per pixel
   * keep the current u:v ratio (nothing gets stretched); the whole box stays visible.
   * A box of zero area leaves the view as it is.
   */
  zoomToBox(x0: number, y0: number, x1: number, y1: number, keepAspect = true): Viewport {
    if (x0 === x1 || y0 === y1) return this;
    const [ua, va] = this.toPlane(x0, y0);
    const [ub, vb] = this.toPlane(x1, y1);
    let u0 = Math.min(ua, ub);
    let u1 = Math.max(ua, ub);
    let v0 = Math.min(va, vb);
    let v1 = Math.max(va, vb);
    if (keepAspect) {
      // Plane units per pixel along u and v, now and in the box; scale both by the larger.
      const ru = (this.u1 - this.u0) / this.width;
      const rv = (this.v1 - this.v0) / this.height;
      const s = Math.max((u1 - u0) / this.width / ru, (v1 - v0) / this.height / rv);
      const cu = 0.5 * (u0 + u1);
      const cv = 0.5 * (v0 + v1);
      const hu = 0.5 * s * ru * this.width;
      const hv = 0.5 * s * rv * this.height;
      u0 = cu - hu;
      u1 = cu + hu;
      v0 = cv - hv;
      v1 = cv + hv;
    }
    return new Viewport([u0, u1, v0, v1], this.width, this.height);
  }

  /** The same view on a canvas of another size: same centre, same plane units per pixel. */
  resize(width: number, height: number): Viewport {
    const cu = 0.5 * (this.u0 + this.u1);
    const cv = 0.5 * (this.v0 + this.v1);
    const hu = (0.5 * width * (this.u1 - this.u0)) / this.width;
    const hv = (0.5 * height * (this.v1 - this.v0)) / this.height;
    return new Viewport([cu - hu, cu + hu, cv - hv, cv + hv], width, height);
  }
}

/** Python's `round(x)` for a float: nearest integer, ties to even (banker's rounding). */
export function pyRound(x: number): number {
  if (!Number.isFinite(x)) {
    throw new RangeError(`cannot round ${x} to an integer`); // Python raises too
  }
  const f = Math.floor(x);
  const d = x - f; // exact for all doubles
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r + 0; // no -0
}

/** `math.ldexp(x, e)`: x · 2^e, without intermediate overflow/underflow of 2^e. */
function ldexp(x: number, e: number): number {
  while (e > 1000) {
    x *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    x *= 2 ** -1000;
    e += 1000;
  }
  return x * 2 ** e;
}

/** Side of a level-z tile, in plane units: `baseSide · 2⁻ᶻ`. */
export function tileSide(baseSide: number, z: number): number {
  return ldexp(baseSide, -z);
}

/** (u0, u1, v0, v1) of tile (z, i, j). */
export function tileExtent(baseSide: number, key: TileKey): Extent {
  const [z, i, j] = key;
  const side = tileSide(baseSide, z);
  return [j * side, (j + 1) * side, i * side, (i + 1) * side];
}

/** The level whose pixels match a view with the given pixel size (rounded in log₂ as Python). */
export function levelFor(baseSide: number, tilePx: number, pixel: number): number {
  return pyRound(Math.log2(baseSide / (tilePx * pixel)));
}

/**
 * Tiles of level z meeting `extent`, grown by `margin` tiles on every side, ordered centre first
 * (by squared distance of tile centres from the extent's centre; ties keep i-major, j-minor order).
 */
export function covering(extent: Extent, z: number, baseSide: number, margin = 0): TileKey[] {
  if (!Number.isInteger(z) || !Number.isInteger(margin)) {
    throw new RangeError(`covering: z and margin must be integers, got ${z} and ${margin}`);
  }
  const [u0, u1, v0, v1] = extent;
  const side = tileSide(baseSide, z);
  const j0 = Math.floor(u0 / side) - margin;
  const j1 = Math.ceil(u1 / side) - 1 + margin;
  const i0 = Math.floor(v0 / side) - margin;
  const i1 = Math.ceil(v1 / side) - 1 + margin;
  const cu = 0.5 * (u0 + u1);
  const cv = 0.5 * (v0 + v1);
  const keys: { key: TileKey; d: number }[] = [];
  for (let i = i0; i <= i1; i++) {
    for (let j = j0; j <= j1; j++) {
      const du = (j + 0.5) * side - cu;
      const dv = (i + 0.5) * side - cv;
      keys.push({ key: [z, i, j], d: du * du + dv * dv });
    }
  }
  keys.sort((a, b) => a.d - b.d); // Array.prototype.sort is stable (ES2019)
  return keys.map((k) => k.key);
}
