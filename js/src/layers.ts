/**
 * Depth as time: the toolbar's layer slider and play button. The slider sets the `shown_layer`
 * trait (Python's widget/layering.py reads the network at that hidden layer; layers seen before
 * come from its cache); play steps ℓ = 1…L, staying at each layer until its tiles are in (the
 * `progress` trait complete) and at least `MIN_STEP_MS`, and stops at L (the deepest layer: the
 * end of the story); a second click pauses. Hidden where the view has fewer than two hidden
 * layers to move through (the `layers` trait: 0 for views that cannot switch).
 */
import type { Model } from "./model";
import { progressOf } from "./model";

/** The least time play shows a layer (ms): a cached layer does not flash by. */
export const MIN_STEP_MS = 600;
/** The most time play waits for a layer's tiles (ms): a layer that fails does not stop it. */
export const MAX_STEP_MS = 30000;
/** How often play looks whether the layer shown is in (ms). */
const TICK_MS = 100;

/** Where play is: the layer shown, L, the progress of the view and the time at this layer. */
export interface PlayState {
  shown: number;
  layers: number;
  done: number;
  total: number;
  elapsedMs: number;
}

/**
 * What play does next: the layer to show, "wait" (this layer's tiles are not in, or it was shown
 * for less than `minMs`), or "stop" (the last layer is in). A layer is in when done = total
 * (total 0: nothing was asked, so nothing to wait for).
 */
export function playStep(s: PlayState, minMs = MIN_STEP_MS, maxMs = MAX_STEP_MS) {
  const complete = s.done >= s.total;
  if (s.elapsedMs < minMs || (!complete && s.elapsedMs < maxMs)) return "wait" as const;
  if (s.shown >= s.layers) return "stop" as const;
  return Math.max(1, s.shown + 1);
}

/** The layer play starts at: the next one, or 1 from the last layer (or the endpoint, 0). */
export function playStart(shown: number, layers: number): number {
  return shown >= 1 && shown < layers ? shown + 1 : 1;
}

const STYLE = `
.ftle-layers{display:inline-flex;align-items:center;gap:4px;font-size:11px;}
.ftle-layers input{width:90px;margin:0;}
.ftle-layers output{min-width:52px;font-variant-numeric:tabular-nums;}
`;

export class LayerControls {
  readonly el: HTMLSpanElement;
  private readonly slider: HTMLInputElement;
  private readonly play: HTMLButtonElement;
  private readonly label: HTMLOutputElement;
  private timer: ReturnType<typeof setInterval> | undefined;
  private since = 0; // when play showed the current layer (performance.now())

  constructor(private readonly model: Model) {
    const el = document.createElement("span");
    el.className = "ftle-layers";
    const style = document.createElement("style");
    style.textContent = STYLE;
    this.play = document.createElement("button");
    this.play.type = "button";
    this.play.dataset.action = "play";
    this.play.title = "Play through the hidden layers ℓ = 1…L, each once its tiles are in";
    this.play.setAttribute("aria-pressed", "false");
    this.slider = document.createElement("input");
    this.slider.type = "range";
    this.slider.step = "1";
    this.slider.min = "1";
    this.slider.dataset.action = "layer";
    this.slider.title = "The hidden layer ℓ shown (depth as time)";
    this.label = document.createElement("output");
    el.append(style, this.play, this.slider, this.label);
    this.el = el;
    this.play.addEventListener("click", this.onPlay);
    this.slider.addEventListener("input", this.onSlide);
    model.on("change:shown_layer", this.sync);
    model.on("change:layers", this.sync);
    this.sync();
  }

  /** Whether play is running. */
  get playing(): boolean {
    return this.timer !== undefined;
  }

  destroy(): void {
    this.pause();
    this.play.removeEventListener("click", this.onPlay);
    this.slider.removeEventListener("input", this.onSlide);
    this.model.off("change:shown_layer", this.sync);
    this.model.off("change:layers", this.sync);
  }

  private layers(): number {
    const n = this.model.get("layers");
    return typeof n === "number" ? n : 0;
  }

  private shown(): number {
    const n = this.model.get("shown_layer");
    return typeof n === "number" ? n : 0;
  }

  /** Show the traits: hidden below two layers, the slider at ℓ, "ℓ = k / L". */
  readonly sync = () => {
    const layers = this.layers();
    const shown = this.shown();
    this.el.style.display = layers >= 2 ? "" : "none";
    if (layers < 2) this.pause();
    this.slider.max = String(Math.max(layers, 1));
    this.slider.value = String(shown >= 1 ? shown : layers);
    this.label.textContent = shown >= 1 ? `ℓ = ${shown} / ${layers}` : "endpoint";
    this.play.textContent = this.playing ? "❚❚" : "▶";
    this.play.setAttribute("aria-pressed", String(this.playing));
  };

  private show(layer: number): void {
    this.model.set("shown_layer", layer);
    this.model.save_changes();
    this.since = performance.now();
    this.sync(); // a model may fire no change event for its own set
  }

  private pause(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private readonly onSlide = () => {
    this.pause();
    const layer = Number(this.slider.value);
    if (layer !== this.shown()) this.show(layer);
  };

  private readonly onPlay = () => {
    if (this.playing) {
      this.pause();
      this.sync();
      return;
    }
    this.timer = setInterval(this.tick, TICK_MS);
    this.show(playStart(this.shown(), this.layers()));
  };

  private readonly tick = () => {
    const p = progressOf(this.model) ?? { done: 0, total: 0 };
    const state = { shown: this.shown(), layers: this.layers(), done: p.done, total: p.total };
    const next = playStep({ ...state, elapsedMs: performance.now() - this.since });
    if (next === "stop") {
      this.pause();
      this.sync();
    } else if (next !== "wait") {
      this.show(next);
    }
  };
}
