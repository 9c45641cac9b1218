/**
 * The conversation with the kernel: view requests (one generation each, sent once the view has
 * settled for {@link DEBOUNCE_MS}), the `extent` trait both ways, the data request, the paced
 * hover-picture requests, and the replies: tiles into the store, failed tiles, data points, input
 * pictures, resets (the view is asked for again), and the `status` and `error` traits. Keeps the latency figures
 * ({@link Timings}).
 */
import { imageShape, type Model } from "./model";
import { InputThrottle } from "./overlays/input";
import {
  type DecodedData,
  type DecodedInput,
  type DecodedRidges,
  dataRequestMessage,
  decodeData,
  decodeError,
  decodeInput,
  decodeRidges,
  decodeTile,
  type Extent,
  type FromPython,
  flyRequestMessage,
  type InputMessage,
  type InputRequestMessage,
  sameExtent,
  type TileMessage,
  viewMessage,
} from "./protocol";
import type { TileStore } from "./tiles";
import { levelFor, type Viewport } from "./viewport";

/** How long the view must stay still before its tiles are asked for. */
export const DEBOUNCE_MS = 100;

/** The status when a zoom stopped where float64 runs out (Python's `zoom_to` says the same). */
export const LIMITED = "zoomed in as far as float64 resolves here";

/** Latency figures of the last gesture and the last view request. */
export interface Timings {
  /** Duration of the synchronous transformed redraw in the last wheel event's handler. */
  wheelRedrawMs: number | null;
  /** When the last view request was sent, and its generation. */
  requestAt: number | null;
  generation: number;
  /** When its first tile at the view's resolution (not a coarse stand-in) was painted. */
  firstFineTileAt: number | null;
  /**
   * Whether a view request waits for the view to settle (it changed in the last DEBOUNCE_MS):
   * the browser tests wait for the request a gesture ends with, not one sent part way through.
   */
  settling: boolean;
}

/** What the session needs from the view, and tells it. */
export interface SessionHooks {
  /** The view shown now: requests ask for it. */
  view(): Viewport;
  /** Something arrived to show: redraw soon. */
  redraw(): void;
  /** New data points arrived (now in {@link Session.data}). */
  data(data: DecodedData): void;
  /** A hover picture arrived. */
  input(input: DecodedInput): void;
  /** A line for the status line, and whether it reports an error. */
  status(text: string, error: boolean): void;
  /** Whether hover pictures are shown (the plane's inputs are images). */
  pictures(on: boolean): void;
  /**
   * The generation of the next view request after `last` (default `last + 1`): the model's
   * displays share one count (`nextGeneration` of shared.ts), as Python answers one view.
   */
  generation?(last: number): number;
  /**
   * The `extent` trait changed (Python set it, or a reset), not by this session's own sync of a
   * gesture: show it (a view request follows once it has settled); or show `extent`, a linked
   * view's ({@link Session.follow}).
   */
  extent(extent?: Extent): void;
}

/** Whether a tile is at the view's own resolution (its level's pixels match the screen's). */
function isFine(msg: TileMessage, view: Viewport): boolean {
  const side = msg.extent[1] - msg.extent[0];
  const base = side * 2 ** msg.z;
  return msg.z >= levelFor(base, msg.tile_px, view.pixelSize());
}

export class Session {
  /** The generation of the last view request (0 before the first). */
  generation = 0;
  /** The data points, once they have arrived. */
  data: DecodedData | null = null;
  /** The ridges of the latest complete view Python traced (the ridge overlay), or null. */
  ridges: DecodedRidges | null = null;
  /** The last plane point hovered (the toolbar flies to the ridge nearest it), or null. */
  private hovered: [number, number] | null = null;
  readonly timings: Timings = {
    wheelRedrawMs: null,
    requestAt: null,
    generation: 0,
    firstFineTileAt: null,
    settling: false,
  };
  private finePending = false;
  /** Lines the frame adds to the status line: trait values it could not show as they are. */
  private notes: string[] = [];
  /** Whether the last zoom stopped where float64 runs out. */
  private limited = false;
  /** The extent this session just set the trait to (its change event is no news). */
  private synced: Extent | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inputTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly throttle = new InputThrottle();
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly model: Model,
    private readonly store: TileStore,
    private readonly hooks: SessionHooks,
  ) {
    const on = (event: string, handler: (msg: FromPython, buffers: DataView[]) => void) => {
      model.on(event, handler);
      return () => model.off(event, handler);
    };
    this.unsubscribe = [
      on("msg:custom", this.onCustom),
      on("change:status", this.showStatus),
      on("change:error", this.showStatus),
      on("change:plane_info", this.onPlane),
      on("change:extent", this.onExtent),
    ];
  }

  /**
   * Show the status, ask for the first view's tiles (unless `view` is false: a display not yet
   * laid out asks once it has its real size, see index.ts) and for the data points.
   */
  start(view = true): void {
    this.showStatus();
    this.hooks.pictures(imageShape(this.model) !== null);
    if (view) this.request();
    this.model.send(dataRequestMessage());
  }

  /** Ask for the tiles of the view shown now, as a new generation. */
  request(): void {
    const failed = this.store.failures().length > 0;
    this.generation = this.hooks.generation?.(this.generation) ?? this.generation + 1;
    this.store.generation = this.generation; // the failures of older requests are stale
    if (failed) {
      this.showStatus();
      this.hooks.redraw();
    }
    const view = this.hooks.view();
    this.model.send(viewMessage(this.generation, view.extent, view.width, view.height));
    Object.assign(this.timings, {
      requestAt: performance.now(),
      generation: this.generation,
      firstFineTileAt: null,
    });
    this.finePending = false;
  }

  /**
   * The view changed: ask for it once it stays still for {@link DEBOUNCE_MS}, first setting
   * the `extent` trait to it when `sync` (a gesture, not a change of the trait itself). The
   * trait's own change event for that value (which a kernel-backed model fires at once) is
   * ignored, so that a gesture sends one request, not two. `extent`: the value synced, if not the
   * view's.
   */
  settle(sync: boolean, extent?: Extent): void {
    clearTimeout(this.timer);
    this.timings.settling = true;
    this.timer = setTimeout(() => {
      this.timings.settling = false;
      if (sync) {
        const [u0, u1, v0, v1] = extent ?? this.hooks.view().extent;
        this.synced = [u0, u1, v0, v1];
        this.model.set("extent", this.synced);
        this.model.save_changes();
      }
      this.request();
    }, DEBOUNCE_MS);
  }

  /** The `extent` trait changed (or was set to home): show it and ask for it once settled. */
  extentChanged(): void {
    this.hooks.extent();
    this.settle(false);
  }

  /** The last wheel event's synchronous redraw took `ms` (Timings.wheelRedrawMs). */
  recordWheel(ms: number): void {
    this.timings.wheelRedrawMs = ms;
  }

  /**
   * Show `extent`, a linked view's after its gesture (compare.ts), and ask for the view once it
   * has settled, syncing the `extent` trait to that same value: the views compared hold one
   * extent (Python links them too), each grown to its own canvas.
   */
  follow(extent: Extent): void {
    this.hooks.extent(extent);
    this.settle(true, extent);
  }

  /** The pointer is over plane point (u, v): ask for the input there (image inputs only). */
  hover(u: number, v: number): void {
    this.hovered = [u, v];
    if (imageShape(this.model)) this.sendInput(this.throttle.move(u, v, Date.now()));
  }

  /**
   * Ask Python to fly to the strongest ridge in view, or (`nearest`) to the one nearest the last
   * point hovered (the view's centre before any): it sets the extent trait, which the view follows.
   */
  fly(nearest: boolean): void {
    const at = nearest ? this.hovered : null;
    this.model.send(flyRequestMessage(nearest ? "nearest" : "strongest", at?.[0], at?.[1]));
  }

  /** A frame was drawn: the first fine tile of the last request, if it held one, is shown. */
  painted(): void {
    if (this.finePending) {
      this.finePending = false;
      if (this.timings.firstFineTileAt === null) this.timings.firstFineTileAt = performance.now();
    }
  }

  /** Report a problem (a message that could not be decoded) in the status line. */
  problem(e: unknown): void {
    this.hooks.status(e instanceof Error ? e.message : String(e), true);
  }

  /**
   * The notes of the last frame (trait values it replaced, see `checkColours` in model.ts):
   * shown after the status, in red, until a frame has none.
   */
  setNotes(notes: readonly string[]): void {
    if (notes.length === this.notes.length && notes.every((n, k) => n === this.notes[k])) return;
    this.notes = [...notes];
    this.showStatus();
  }

  /** Say in the status line (after the status) whether the last zoom stopped at float64's limit. */
  setLimited(on: boolean): void {
    if (on === this.limited) return;
    this.limited = on;
    this.showStatus();
  }

  destroy(): void {
    clearTimeout(this.timer);
    clearTimeout(this.inputTimer);
    for (const off of this.unsubscribe) off();
  }

  /**
   * The `error` trait in red if set, else the `status` trait; with failed tiles in the last
   * request, "N tiles failed: <the first one's message>" after the status, in red; then the
   * frame's notes, in red. After the status, {@link LIMITED} when the last zoom stopped there.
   */
  private readonly showStatus = () => {
    const error = this.model.get("error");
    const status = this.model.get("status");
    const failed = this.store.failures();
    const n = failed.length;
    const parts = [error || status];
    if (this.limited && status !== LIMITED) parts.push(LIMITED);
    if (n > 0) {
      parts[0] = status;
      parts.push(`${n} tile${n === 1 ? "" : "s"} failed: ${failed[0]!.message}`);
      if (error && !failed.some((f) => f.message === error)) parts.push(error);
    }
    parts.push(...this.notes);
    const red = Boolean(error) || n > 0 || this.notes.length > 0;
    this.hooks.status(parts.filter(Boolean).join(" · "), red);
  };

  private readonly onExtent = () => {
    const synced = this.synced;
    this.synced = null;
    if (sameExtent(this.model.get("extent"), synced)) return; // the echo of our own sync
    this.extentChanged();
  };

  private readonly onPlane = () => {
    this.throttle.forget();
    this.hooks.pictures(imageShape(this.model) !== null);
  };

  private readonly onCustom = (msg: FromPython, buffers: DataView[]) => {
    try {
      switch (msg?.kind) {
        case "tile": {
          const failed = this.store.failures().length;
          if (this.store.add(decodeTile(msg, buffers))) {
            if (this.store.failures().length !== failed) this.showStatus(); // it came after all
            if (msg.generation === this.generation && isFine(msg, this.hooks.view())) {
              this.finePending = true;
            }
            this.hooks.redraw();
          }
          break;
        }
        case "data":
          this.data = decodeData(msg, buffers);
          this.hooks.data(this.data);
          break;
        case "input":
          this.onInput(msg, buffers);
          break;
        case "state": // the toolbar copies it (toolbar.ts listens for it itself)
          break;
        case "ridges": {
          const ridges = decodeRidges(msg, buffers);
          if (this.ridges && ridges.generation < this.ridges.generation) break; // an older view's
          this.ridges = ridges;
          this.hooks.redraw();
          break;
        }
        case "error":
          // a failed tile of an older request: that request's tiles are no longer awaited
          if (msg.generation !== this.generation) break;
          if (this.store.fail(decodeError(msg))) {
            this.showStatus();
            this.hooks.redraw();
          }
          break;
        case "reset": {
          const failed = this.store.failures().length > 0;
          this.store.clear();
          this.ridges = null; // another plane's
          if (failed) this.showStatus();
          this.throttle.forget();
          this.hooks.redraw();
          // ask for the view again: with the extent unchanged no change event will (a display
          // not laid out yet asks once it is, see index.ts)
          if (this.generation > 0) this.settle(false);
          break;
        }
      }
    } catch (e) {
      this.problem(e);
    }
  };

  private onInput(msg: InputMessage, buffers: DataView[]): void {
    const { draw, send } = this.throttle.reply(msg.id, Date.now());
    if (!this.throttle.waiting) clearTimeout(this.inputTimer);
    if (draw) {
      try {
        this.hooks.input(decodeInput(msg, buffers));
      } catch (e) {
        this.problem(e);
      }
    }
    this.sendInput(send);
  }

  private sendInput(msg: InputRequestMessage | null): void {
    if (!msg) return;
    this.model.send(msg);
    clearTimeout(this.inputTimer);
    this.inputTimer = setTimeout(
      () => this.sendInput(this.throttle.tick(Date.now())),
      this.throttle.timeoutMs + 10,
    );
  }
}
