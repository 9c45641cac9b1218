/**
 * The field canvas's DOM listeners: wheel, pointer (one pointer: pan or box; two: pinch), key
 * and double-click events go through the pure functions of gestures.ts; the view, the gesture in
 * progress and the pointers down live here. The canvas takes the keyboard focus (Tab, or a
 * click) and shows a focus ring when focused from the keyboard. The held tiles are redrawn
 * transformed at once; the view request follows once the view has settled. Zooms stop where
 * float64 runs out (gestures.ts's `limitZoom`) and say whether they did.
 */
import * as gestures from "./gestures";
import type { Layout } from "./layout";
import type { Viewport } from "./viewport";

/** The focus ring of the canvas (keyboard focus only), inside its edge. */
export const FOCUS_RING = "2px solid var(--jp-brand-color1, #1976d2)";

/** What the controls need from the widget, and tell it. */
export interface ControlHooks {
  /** Redraw now (the view changed, or the zoom box moved). */
  draw(): void;
  /** A gesture changed the view: ask for it once it has settled. */
  settle(): void;
  /** The pointer is over plane point (u, v), with no gesture in progress. */
  hover(u: number, v: number): void;
  /** A double-click: back to the home extent. */
  reset(): void;
  /** Whether the toolbar's box mode is on. */
  boxMode(): boolean;
  /** How long the last wheel event's redraw took (ms). */
  wheelRedraw(ms: number): void;
  /** The plane's float64 resolution (`plane_info.resolution`), null if unknown. */
  resolution(): gestures.Resolution | null;
  /** A zoom stopped where float64 runs out (true), or went where it resolves (false). */
  limited(on: boolean): void;
}

export class Controls {
  /** The view shown. */
  view: Viewport;
  /** The gesture in progress. */
  gesture: gestures.Gesture = gestures.IDLE;
  /** Canvas positions of the pointers down, by pointer id. */
  private readonly pointers = new Map<number, [number, number]>();
  private readonly unlisten: (() => void)[];

  constructor(
    private readonly layout: Layout,
    view: Viewport,
    private readonly hooks: ControlHooks,
  ) {
    this.view = view;
    const canvas = layout.canvas;
    canvas.tabIndex = 0; // focusable: the keys zoom and pan
    canvas.style.outlineOffset = "-2px";
    const on = <K extends keyof HTMLElementEventMap>(
      type: K,
      handler: (e: HTMLElementEventMap[K]) => void,
    ) => {
      // passive: false so that the wheel handler may keep the page from scrolling
      canvas.addEventListener(type, handler, { passive: false });
      return () => canvas.removeEventListener(type, handler);
    };
    this.unlisten = [
      on("wheel", this.onWheel),
      on("pointerdown", this.onDown),
      on("pointermove", this.onMove),
      on("pointerup", this.onUp),
      on("pointercancel", this.onUp),
      on("keydown", this.onKey),
      on("focus", () => {
        canvas.style.outline = canvas.matches(":focus-visible") ? FOCUS_RING : "none";
      }),
      on("blur", () => {
        canvas.style.outline = "none";
      }),
      on("dblclick", () => hooks.reset()),
    ];
  }

  /** Show the cursor for the gesture in progress and the box mode. */
  showCursor(): void {
    this.layout.canvas.style.cursor = gestures.cursorFor(this.gesture, this.hooks.boxMode());
  }

  destroy(): void {
    for (const off of this.unlisten) off();
  }

  private apply(step: gestures.Step): void {
    this.view = step.view;
    this.gesture = step.gesture;
    if (step.draw) this.hooks.draw();
    if (step.request) this.hooks.settle();
  }

  private pointer(e: MouseEvent): gestures.PointerAt {
    const [x, y] = this.layout.local(e.clientX, e.clientY);
    return { x, y, clientX: e.clientX, clientY: e.clientY };
  }

  private readonly onWheel = (e: WheelEvent) => {
    e.preventDefault();
    const [x, y] = this.layout.local(e.clientX, e.clientY);
    const start = performance.now();
    const pixels = gestures.wheelPixels(e.deltaY, e.deltaMode, e.ctrlKey);
    const step = gestures.wheelStep(this.view, x, y, pixels, this.hooks.resolution());
    this.view = step.view;
    this.hooks.limited(step.limited);
    this.hooks.draw();
    this.hooks.wheelRedraw(performance.now() - start);
    this.hooks.settle();
  };

  private readonly onDown = (e: PointerEvent) => {
    try {
      this.layout.canvas.setPointerCapture?.(e.pointerId);
    } catch {
      // a pointer the browser no longer tracks: the gesture goes on without capture
    }
    const at = this.pointer(e);
    this.pointers.set(e.pointerId, [at.x, at.y]);
    if (this.pointers.size === 2) {
      this.gesture = { kind: "pinch" }; // a second finger: pinch instead of pan
    } else if (this.pointers.size === 1) {
      this.gesture = gestures.press(at, e.shiftKey, this.hooks.boxMode());
    }
    this.showCursor();
  };

  private readonly onMove = (e: PointerEvent) => {
    const at = this.pointer(e);
    if (this.gesture.kind === "pinch") {
      const before = this.pair();
      if (!this.pointers.has(e.pointerId) || !before) return;
      this.pointers.set(e.pointerId, [at.x, at.y]);
      const after = this.pair();
      if (!after) return;
      const step = gestures.pinchStep(this.view, before, after, this.hooks.resolution());
      this.hooks.limited(step.limited);
      this.apply({ view: step.view, gesture: this.gesture, draw: true, request: true });
      return;
    }
    if (this.gesture.kind !== "idle" && !this.pointers.has(e.pointerId)) return; // another's
    if (this.pointers.has(e.pointerId)) this.pointers.set(e.pointerId, [at.x, at.y]);
    if (this.gesture.kind === "idle") this.hooks.hover(...this.view.toPlane(at.x, at.y));
    this.apply(gestures.move(this.view, this.gesture, at));
  };

  private readonly onUp = (e: PointerEvent) => {
    this.pointers.delete(e.pointerId);
    if (this.gesture.kind === "pinch") {
      // one finger left: the pinch ends (lifting the other starts nothing)
      if (this.pointers.size < 2) this.gesture = gestures.IDLE;
      this.showCursor();
      return;
    }
    const step = gestures.release(this.view, this.gesture, this.hooks.resolution());
    if (step.request) this.hooks.limited(step.limited === true); // a box zoom
    this.apply(step);
    this.showCursor();
  };

  private readonly onKey = (e: KeyboardEvent) => {
    if (e.altKey || e.metaKey || e.ctrlKey) return; // the browser's keys (Ctrl+0, Ctrl+−...)
    const step = gestures.keyStep(this.view, e.key, this.hooks.resolution());
    if (!step) return;
    e.preventDefault(); // arrows would scroll the page
    e.stopPropagation(); // nor run JupyterLab's notebook shortcuts (it listens while bubbling)
    if (step.kind === "reset") {
      this.hooks.reset();
      return;
    }
    this.view = step.view;
    this.hooks.limited(step.limited);
    this.apply({ view: step.view, gesture: this.gesture, draw: true, request: true });
  };

  /** The two pointers down, in id order, or null. */
  private pair(): gestures.Pair | null {
    if (this.pointers.size !== 2) return null;
    const [a, b] = [...this.pointers.entries()].sort((p, q) => p[0] - q[0]);
    return a && b ? [a[1], b[1]] : null;
  }
}
