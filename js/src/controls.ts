/**
 * The field canvas's DOM listeners: wheel, pointer and double-click events go through the pure
 * functions of gestures.ts; the view and the gesture in progress live here. The held tiles are
 * redrawn transformed at once; the view request follows once the view has settled. Zooms stop
 * where float64 runs out (gestures.ts's `limitZoom`) and say whether they did.
 */
import * as gestures from "./gestures";
import type { Layout } from "./layout";
import type { Viewport } from "./viewport";

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
  private readonly unlisten: (() => void)[];

  constructor(
    private readonly layout: Layout,
    view: Viewport,
    private readonly hooks: ControlHooks,
  ) {
    this.view = view;
    const canvas = layout.canvas;
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
    const step = gestures.wheelStep(this.view, x, y, e.deltaY, this.hooks.resolution());
    this.view = step.view;
    this.hooks.limited(step.limited);
    this.hooks.draw();
    this.hooks.wheelRedraw(performance.now() - start);
    this.hooks.settle();
  };

  private readonly onDown = (e: PointerEvent) => {
    this.layout.canvas.setPointerCapture?.(e.pointerId);
    this.gesture = gestures.press(this.pointer(e), e.shiftKey, this.hooks.boxMode());
    this.showCursor();
  };

  private readonly onMove = (e: PointerEvent) => {
    const at = this.pointer(e);
    if (this.gesture.kind === "idle") this.hooks.hover(...this.view.toPlane(at.x, at.y));
    this.apply(gestures.move(this.view, this.gesture, at));
  };

  private readonly onUp = () => {
    const step = gestures.release(this.view, this.gesture, this.hooks.resolution());
    if (step.request) this.hooks.limited(step.limited === true); // a box zoom
    this.apply(step);
    this.showCursor();
  };
}
