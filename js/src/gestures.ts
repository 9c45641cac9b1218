/**
 * Gestures on the field canvas as pure functions: the current view, the gesture in progress and
 * a pointer position in; the next view and gesture out, with whether to redraw and whether the
 * view changed (so that its tiles are asked for once it settles). The DOM handlers in index.ts
 * call these and do what the result says.
 *
 * - wheel: zoom about the cursor, by exp(−deltaY · {@link WHEEL_RATE}), deltaY in pixels (lines
 *   and pages converted as d3-zoom weighs them); a ctrl-wheel (a trackpad pinch) is
 *   {@link PINCH_GAIN} times stronger, and never scrolls the page;
 * - two pointers (a touch pinch): zoom by the change of their distance about their midpoint,
 *   which pans with them;
 * - keys, when the canvas has focus: + and − zoom about the centre by {@link KEY_ZOOM}, the
 *   arrows pan by {@link KEY_PAN} of the canvas, 0 and Home reset;
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
  /** Two pointers down (a touch pinch): {@link pinchStep} follows them. */
  | { readonly kind: "pinch" }
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

/** Pixels per wheel line (`deltaMode` 1) and per page (2): d3-zoom's weights (0.05 and 1 per
 * 0.002 a pixel). */
export const LINE_PIXELS = 25;
export const PAGE_PIXELS = 500;
/** A ctrl-wheel, which is how browsers deliver a trackpad pinch, zooms this much harder. */
export const PINCH_GAIN = 10;

/** A wheel event's deltaY in pixels, whatever its `deltaMode`, with a pinch's gain. */
export function wheelPixels(deltaY: number, deltaMode = 0, ctrlKey = false): number {
  const unit = deltaMode === 1 ? LINE_PIXELS : deltaMode === 2 ? PAGE_PIXELS : 1;
  return deltaY * unit * (ctrlKey ? PINCH_GAIN : 1);
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

/** A keyboard zoom step (+ or −) magnifies by this. */
export const KEY_ZOOM = 1.25;
/** An arrow key pans by this fraction of the canvas. */
export const KEY_PAN = 0.1;

/** What a key does: a new view (no finer than float64 resolves), a reset, or nothing (null). */
export type KeyStep = { kind: "view"; view: Viewport; limited: boolean } | { kind: "reset" };

/** The key `key` (KeyboardEvent.key) on the focused canvas; null when it is not ours. */
export function keyStep(
  view: Viewport,
  key: string,
  resolution: Resolution | null = null,
): KeyStep | null {
  const cx = view.width / 2;
  const cy = view.height / 2;
  const dx = KEY_PAN * view.width;
  const dy = KEY_PAN * view.height;
  let next: Viewport;
  switch (key) {
    case "+":
    case "=":
      return { kind: "view", ...limitZoom(view.zoomAt(cx, cy, KEY_ZOOM), resolution) };
    case "-":
    case "_":
      next = view.zoomAt(cx, cy, 1 / KEY_ZOOM);
      break;
    case "ArrowLeft": // look further left: the content moves right
      next = view.pan(dx, 0);
      break;
    case "ArrowRight":
      next = view.pan(-dx, 0);
      break;
    case "ArrowUp":
      next = view.pan(0, dy);
      break;
    case "ArrowDown":
      next = view.pan(0, -dy);
      break;
    case "0":
    case "Home":
      return { kind: "reset" };
    default:
      return null;
  }
  return { kind: "view", view: next, limited: false };
}

/** Two pointers' canvas positions. */
export type Pair = readonly [readonly [number, number], readonly [number, number]];

/**
 * Two pointers moved from `before` to `after`: the plane point under their midpoint follows
 * the midpoint, and the view is magnified by the ratio of their distances about it (no finer
 * than float64 resolves). Pointers at one spot change nothing.
 */
export function pinchStep(
  view: Viewport,
  before: Pair,
  after: Pair,
  resolution: Resolution | null = null,
): { view: Viewport; limited: boolean } {
  const mid = (p: Pair) => [(p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2] as const;
  const span = (p: Pair) => Math.hypot(p[1][0] - p[0][0], p[1][1] - p[0][1]);
  const [mx0, my0] = mid(before);
  const [mx1, my1] = mid(after);
  const d0 = span(before);
  const d1 = span(after);
  const panned = view.pan(mx1 - mx0, my1 - my0);
  if (!(d0 > 0 && d1 > 0)) return { view: panned, limited: false };
  return limitZoom(panned.zoomAt(mx1, my1, d1 / d0), resolution, mx1, my1);
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
    case "pinch": // the controls move a pinch with both pointers (pinchStep)
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
  if (gesture.kind === "pan" || gesture.kind === "pinch") return "grabbing";
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
