/**
 * Gestures on the field canvas as pure functions: the current view, the gesture in progress and
 * a pointer position in; the next view and gesture out, with whether to redraw and whether the
 * view changed (so that its tiles are asked for once it settles). The DOM handlers in index.ts
 * call these and do what the result says.
 *
 * - wheel: zoom about the cursor, by exp(−deltaY · {@link WHEEL_RATE});
 * - drag: pan, the plane follows the pointer;
 * - shift-drag, or any drag in box mode: zoom to the box drawn (grown to keep the pixels'
 *   aspect), unless it is at most {@link MIN_BOX} pixels along either axis (a click);
 * - double-click (and Reset): back to the home extent, fitted to the canvas;
 * - resize: same centre, same plane units per pixel;
 * - no zoom goes finer than float64 resolves ({@link limitZoom}): Python refuses such views.
 *
 * Canvas positions are CSS pixels from the canvas's top-left corner; panning uses the pointer's
 * client position (deltas only).
 */
import type { Extent } from "./protocol";
import { Viewport } from "./viewport";

/** A wheel delta of d (down positive) magnifies by exp(−d · WHEEL_RATE). */
export const WHEEL_RATE = 0.002;
/** A zoom box must span more than this many CSS pixels along both axes. */
export const MIN_BOX = 3;

/** What the pointer is doing on the canvas. */
export type Gesture =
  | { readonly kind: "idle" }
  /** Panning; (x, y) is the pointer's last client position. */
  | { readonly kind: "pan"; readonly x: number; readonly y: number }
  /** Drawing a zoom box from (x0, y0) to (x1, y1), canvas positions. */
  | {
      readonly kind: "box";
      readonly x0: number;
      readonly y0: number;
      readonly x1: number;
      readonly y1: number;
    };

export const IDLE: Gesture = { kind: "idle" };

/** A pointer's position: on the canvas (x, y) and in the client area (clientX, clientY). */
export interface PointerAt {
  x: number;
  y: number;
  clientX: number;
  clientY: number;
}

/** One step of a gesture. */
export interface Step {
  view: Viewport;
  gesture: Gesture;
  /** Redraw now (the held tiles, transformed, and the zoom box). */
  draw: boolean;
  /** The view changed: ask for its tiles once it settles (and sync `extent`). */
  request: boolean;
  /** Present (true) when a zoom stopped where float64 runs out ({@link limitZoom}). */
  limited?: true;
}

/**
 * `plane_info.resolution` (Python's `protocol.plane_resolution`): max |x| of the plane's origin,
 * u and v, and the shorter of |u| and |v|.
 */
export interface Resolution {
  origin: number;
  u: number;
  v: number;
  shortest: number;
}

/** A pixel step spans at least this many float64 ulps (Python's `planning.FLOAT64_ULPS`). */
export const FLOAT64_ULPS = 16;
/** Magnitudes below this count as this (as Python's `finest_pixel`). */
const SMALLEST = 1e-200;
/** Zooms stop this much coarser than {@link finestPixel} (rounding of the extents sent). */
export const FLOAT64_MARGIN = 1.05;

/**
 * An upper bound of Python's `finest_pixel(plane, extent)`, the smallest pixel side float64
 * resolves over `extent`: 16·ε·max(max |coordinate|, (|o|∞ + |u_c|·|u|∞ + |v_c|·|v|∞) / shortest)
 * with (u_c, v_c) the extent's centre (|o + u_c·u + v_c·v|∞ is at most the sum); 0 (no limit)
 * without a resolution.
 */
export function finestPixel(resolution: Resolution | null, extent: Extent): number {
  if (!resolution) return 0;
  const [u0, u1, v0, v1] = extent;
  const coordinate = Math.max(Math.abs(u0), Math.abs(u1), Math.abs(v0), Math.abs(v1), SMALLEST);
  const cu = 0.5 * (u0 + u1);
  const cv = 0.5 * (v0 + v1);
  const { origin, u, v, shortest } = resolution;
  const magnitude = Math.max(origin + Math.abs(cu) * u + Math.abs(cv) * v, SMALLEST);
  return FLOAT64_ULPS * Number.EPSILON * Math.max(coordinate, magnitude / shortest);
}

/**
 * `view`, or where its pixels are finer than float64 resolves there, the view zoomed out about
 * the screen point (x, y) (default: the centre) until they are {@link FLOAT64_MARGIN} times
 * {@link finestPixel}; `limited` says whether it was.
 */
export function limitZoom(
  view: Viewport,
  resolution: Resolution | null,
  x = view.width / 2,
  y = view.height / 2,
): { view: Viewport; limited: boolean } {
  let shown = view;
  for (let k = 0; k < 8; k++) {
    const finest = FLOAT64_MARGIN * finestPixel(resolution, shown.extent);
    const pixel = shown.pixelSize();
    if (pixel >= finest) return { view: shown, limited: k > 0 };
    // a little beyond: the extent's rounding may shave the last ulps off the pixel
    shown = shown.zoomAt(x, y, pixel / (finest * 1.01));
  }
  return { view: shown, limited: true };
}

/** The magnification of a wheel event with this deltaY (> 1 zooms in). */
export function wheelFactor(deltaY: number): number {
  return Math.exp(-deltaY * WHEEL_RATE);
}

/** The view after a wheel event at canvas position (x, y): the plane point there stays put. */
export function wheelZoom(view: Viewport, x: number, y: number, deltaY: number): Viewport {
  return view.zoomAt(x, y, wheelFactor(deltaY));
}

/** A wheel event's view ({@link wheelZoom}), no finer than float64 resolves. */
export function wheelStep(
  view: Viewport,
  x: number,
  y: number,
  deltaY: number,
  resolution: Resolution | null = null,
): { view: Viewport; limited: boolean } {
  return limitZoom(wheelZoom(view, x, y, deltaY), resolution, x, y);
}

/** The gesture a pointer press starts: a zoom box with shift or in box mode, else a pan. */
export function press(at: PointerAt, shiftKey: boolean, boxMode: boolean): Gesture {
  if (shiftKey || boxMode) return { kind: "box", x0: at.x, y0: at.y, x1: at.x, y1: at.y };
  return { kind: "pan", x: at.clientX, y: at.clientY };
}

/** The pointer moved: the box follows it, a pan moves the plane with it; idle changes nothing. */
export function move(view: Viewport, gesture: Gesture, at: PointerAt): Step {
  switch (gesture.kind) {
    case "idle":
      return { view, gesture, draw: false, request: false };
    case "box":
      return { view, gesture: { ...gesture, x1: at.x, y1: at.y }, draw: true, request: false };
    case "pan":
      return {
        view: view.pan(at.clientX - gesture.x, at.clientY - gesture.y),
        gesture: { kind: "pan", x: at.clientX, y: at.clientY },
        draw: true,
        request: true,
      };
  }
}

/**
 * The pointer was released: a box large enough zooms to it (and is erased either way), no finer
 * than float64 resolves (grown about its centre).
 */
export function release(
  view: Viewport,
  gesture: Gesture,
  resolution: Resolution | null = null,
): Step {
  if (gesture.kind !== "box") return { view, gesture: IDLE, draw: false, request: false };
  const { x0, y0, x1, y1 } = gesture;
  if (Math.abs(x1 - x0) > MIN_BOX && Math.abs(y1 - y0) > MIN_BOX) {
    const zoomed = limitZoom(view.zoomToBox(x0, y0, x1, y1), resolution);
    const step: Step = { view: zoomed.view, gesture: IDLE, draw: true, request: true };
    return zoomed.limited ? { ...step, limited: true } : step;
  }
  return { view, gesture: IDLE, draw: true, request: false };
}

/** The zoom box to draw, if one is being drawn. */
export function boxOf(gesture: Gesture): { x0: number; y0: number; x1: number; y1: number } | null {
  return gesture.kind === "box" ? gesture : null;
}

/** The canvas's cursor: grabbing while panning, else crosshair in box mode, else grab. */
export function cursorFor(gesture: Gesture, boxMode: boolean): string {
  if (gesture.kind === "pan") return "grabbing";
  return boxMode ? "crosshair" : "grab";
}

/** The view of an extent (the `extent` trait; `home` on reset) on a canvas of this size. */
export function fitExtent(extent: Extent, width: number, height: number): Viewport {
  return Viewport.fit(extent, width, height);
}

/** The view on a canvas resized to width × height, or null when the size did not change. */
export function resized(view: Viewport, width: number, height: number): Viewport | null {
  return width !== view.width || height !== view.height ? view.resize(width, height) : null;
}
