/**
 * Views shown together (Python's `ftle_widget.compare`), found by the DOM that holds them, so that
 * they link without a round trip through the kernel:
 *
 * - every widget root (`.ftle-widget`) inside one {@link LINKED} element moves with a gesture on
 *   any of them: the one under the gesture sends its extent to the others ({@link FOLLOW} events),
 *   which show it at once, redraw their held tiles, and ask for their own tiles once it settles;
 * - in a {@link SWIPE} element the two views lie one over the other (Python places them in one
 *   grid cell); the top one (the later in the DOM) shows only its field, right of a divider that
 *   the pointer drags, over the bottom one, whose toolbar, colorbar and status stay in view.
 */
import type { Layout } from "./layout";
import { type Extent, sameExtent } from "./protocol";

/** The class of an element whose widgets move together. */
export const LINKED = "ftle-linked";
/** The class of an element whose two widgets lie one over the other, cut at a divider. */
export const SWIPE = "ftle-swipe";
/** The event a linked widget root receives: `detail` is the extent to show. */
export const FOLLOW = "ftle-follow";
/** The divider's class; its `data-fraction` is where it stands, from the field's left (0…1). */
export const DIVIDER = "ftle-divider";

/** What the comparison needs from the widget. */
export interface CompareHooks {
  /** Show `extent`, another linked view's after its gesture, and ask for it once it settles. */
  follow(extent: Extent): void;
}

export class Comparison {
  /** The extent last sent to the linked views (a zoom box moving sends nothing). */
  private sent: Extent | null = null;
  private divider: HTMLDivElement | null = null;
  /** The elements whose pointer events a swipe turned off, and their own setting. */
  private readonly styled: [HTMLElement, string][] = [];
  private readonly resize: ResizeObserver;
  private readonly onFollow = (e: Event) => {
    const extent = (e as CustomEvent<Extent>).detail;
    if (Array.isArray(extent) && extent.length === 4) this.hooks.follow(extent);
  };

  constructor(
    private readonly layout: Layout,
    private readonly hooks: CompareHooks,
  ) {
    layout.root.addEventListener(FOLLOW, this.onFollow);
    // whether it lies in a swipe is known once it is in the page: when it is first laid out
    this.resize = new ResizeObserver(() => {
      if (layout.canvas.clientWidth === 0) return; // not laid out (detached or hidden)
      this.placeDivider();
      this.resize.disconnect(); // settled: later resizes leave it as it is
    });
    this.resize.observe(layout.canvas);
  }

  /** A gesture moved this view to `extent`: the views linked with it follow. */
  moved(extent: Extent): void {
    const group = this.layout.root.closest(`.${LINKED}`);
    if (!group || sameExtent(extent, this.sent)) return;
    this.sent = [...extent];
    for (const peer of group.querySelectorAll<HTMLElement>(".ftle-widget")) {
      if (peer === this.layout.root || peer.closest(`.${LINKED}`) !== group) continue;
      peer.dispatchEvent(new CustomEvent(FOLLOW, { detail: [...extent] }));
    }
  }

  destroy(): void {
    this.resize.disconnect();
    this.layout.root.removeEventListener(FOLLOW, this.onFollow);
    this.divider?.remove();
    for (const [e, setting] of this.styled) e.style.pointerEvents = setting;
  }

  /** The top view of a swipe: only its field shows, right of a divider at the middle. */
  private placeDivider(): void {
    const { root, canvas, overlay } = this.layout;
    const plot = canvas.parentElement;
    if (this.divider || !plot || canvas.clientWidth === 0) return;
    const swipe = root.closest(`.${SWIPE}`);
    const roots = swipe ? [...swipe.querySelectorAll(".ftle-widget")] : [];
    if (roots.length < 2 || roots[roots.length - 1] !== root) return;
    root.style.visibility = "hidden"; // its toolbar, colorbar and status: the bottom view's show
    // only its field and the divider take the pointer: elsewhere it reaches the bottom view,
    // also through the boxes a notebook wraps a display in (positioned, they lie on top)
    for (let e: HTMLElement | null = root; e && e !== swipe; e = e.parentElement) {
      this.styled.push([e, e.style.pointerEvents]);
      e.style.pointerEvents = "none";
    }
    canvas.style.pointerEvents = "auto";
    const divider = document.createElement("div");
    divider.className = DIVIDER;
    divider.title = "Drag to compare";
    divider.style.cssText =
      "position:absolute;top:0;height:100%;width:11px;margin-left:-5px;cursor:ew-resize;" +
      "visibility:visible;pointer-events:auto;touch-action:none;z-index:1;" +
      "background:linear-gradient(to right,transparent 4px,#fff 4px,#fff 5px,#222 5px," +
      "#222 6px,#fff 6px,#fff 7px,transparent 7px);";
    plot.append(divider);
    this.divider = divider;
    const cut = (fraction: number) => {
      const f = Math.min(1, Math.max(0, fraction));
      divider.style.left = `${100 * f}%`;
      divider.dataset.fraction = String(f);
      for (const e of [canvas, overlay]) {
        e.style.visibility = "visible";
        e.style.clipPath = `inset(0 0 0 ${100 * f}%)`; // the bottom view shows left of it
      }
    };
    cut(0.5);
    const drag = (e: PointerEvent) => {
      e.stopPropagation();
      if (!divider.hasPointerCapture?.(e.pointerId)) return;
      const box = plot.getBoundingClientRect();
      cut((e.clientX - box.left) / box.width);
    };
    divider.addEventListener("pointerdown", (e) => {
      e.stopPropagation();
      e.preventDefault();
      divider.setPointerCapture?.(e.pointerId);
    });
    divider.addEventListener("pointermove", drag);
    divider.addEventListener("pointerup", (e) => {
      drag(e);
      divider.releasePointerCapture?.(e.pointerId);
    });
  }
}
