/**
 * Flights: when the view is moved from Python (`zoom_to`, `fly_to_ridge`, a reset), it flies
 * from where it was to where it goes over {@link FLIGHT_MS} instead of jumping, so the eye keeps
 * its place: the held tiles are redrawn at each frame's in-between view. Only the drawing
 * flies; the view itself (requests, hover) is the destination at once. A gesture lands it.
 */
import { sameExtent } from "./protocol";
import { Viewport } from "./viewport";

/** How long a flight takes. */
export const FLIGHT_MS = 350;

/** Ease in and out: 0 → 0, 1 → 1, flat at both ends. */
export function ease(t: number): number {
  const s = Math.min(1, Math.max(0, t));
  return s * s * (3 - 2 * s);
}

/**
 * The view a fraction `t` ∈ [0, 1] of the way from `a` to `b` (both of one canvas size): the
 * size changes geometrically (a zoom at an even pace however deep), the centre in step with it,
 * so that a zoom onto a point keeps that point where the eye follows it.
 */
export function between(a: Viewport, b: Viewport, t: number): Viewport {
  if (t <= 0) return a;
  if (t >= 1) return b;
  const wa = a.u1 - a.u0;
  const wb = b.u1 - b.u0;
  const width = wa * (wb / wa) ** t;
  // the centre's share of the way: t for a pure pan, the size's share of its change for a zoom
  const share = Math.abs(wb - wa) > 1e-12 * Math.max(wa, wb) ? (width - wa) / (wb - wa) : t;
  const cu = 0.5 * (a.u0 + a.u1) + share * (0.5 * (b.u0 + b.u1) - 0.5 * (a.u0 + a.u1));
  const cv = 0.5 * (a.v0 + a.v1) + share * (0.5 * (b.v0 + b.v1) - 0.5 * (a.v0 + a.v1));
  const height = (width * b.height) / b.width; // square pixels, as both views have
  return new Viewport(
    [cu - 0.5 * width, cu + 0.5 * width, cv - 0.5 * height, cv + 0.5 * height],
    b.width,
    b.height,
  );
}

export class Flight {
  /** The in-between view to draw, or null when no flight is under way. */
  view: Viewport | null = null;
  private frame = 0;

  constructor(
    /** Draw a frame (it reads {@link Flight.view}). */
    private readonly draw: () => void,
    /** Carries `data-flying` while a flight is under way (tests and scripts wait on it). */
    private readonly marked: HTMLElement | null = null,
    private readonly ms = FLIGHT_MS,
  ) {}

  /** Fly from `from` to `to` (drawn at once when they are the same or on another canvas size). */
  start(from: Viewport, to: Viewport): void {
    cancelAnimationFrame(this.frame);
    const same = sameExtent(from.extent, to.extent);
    if (same || from.width !== to.width || from.height !== to.height || this.ms <= 0) {
      this.land();
      return;
    }
    const begin = performance.now();
    if (this.marked) this.marked.dataset.flying = "true";
    const step = () => {
      const t = (performance.now() - begin) / this.ms;
      if (t >= 1) {
        this.land();
        return;
      }
      this.view = between(from, to, ease(t));
      this.draw();
      this.frame = requestAnimationFrame(step);
    };
    step();
  }

  /** End the flight where it goes (a gesture took over, or it arrived), and draw. */
  land(): void {
    cancelAnimationFrame(this.frame);
    this.view = null;
    if (this.marked) delete this.marked.dataset.flying;
    this.draw();
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
  }
}
