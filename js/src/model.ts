/** The widget's model: its synced traits (typed), and typed reads of a few of them. */
import type { AnyModel } from "@anywidget/types";
import { COLORMAPS, type ColormapName } from "./colormap";
import type { Resolution } from "./gestures";
import type { Extent } from "./protocol";
import { isQuantity, QUANTITY_LABELS, type Quantity } from "./quantities";
import type { ColourSettings } from "./renderer";

/** `FTLEView.plane_info` (Python): the plane's input shape and how hover pictures show inputs. */
export interface PlaneInfo {
  input_shape?: number[];
  orthonormal?: boolean;
  /** [H, W] or [C, H, W] for image inputs, else null. */
  image_shape?: number[] | null;
  /** What bounds the zoom where float64 runs out (gestures.ts's `finestPixel`). */
  resolution?: Resolution;
}

/**
 * The synced traits of `ftle_widget.widget.FTLEView` (Python), as JSON delivers them. The front
 * end reads only some of them; all are listed so that a misspelt name fails to type check.
 */
export interface Traits {
  /** (u0, u1, v0, v1) asked for; the browser grows it to square pixels. */
  extent: Extent;
  /** The extent that "Reset" (and a double-click) goes back to. */
  home: Extent;
  plane_info: PlaneInfo;
  /** The endpoint's description. */
  layer: string;
  depth: number;
  cmap: string;
  vmin: number | null;
  vmax: number | null;
  quantity: Quantity;
  status: string;
  /** Tiles done and planned for the last request, and the phase of the work left ("preview",
   * "coarse", "view", "margin"; "" when none is left). */
  progress: [number, number, string];
  /** CSS pixels of the field and the colorbar. */
  height: number;
  error: string;
  tile_px: number;
  show_boundary: boolean;
  show_data: boolean;
  show_directions: boolean;
  show_ridges: boolean;
  epoch: number | null;
  following: boolean;
  /** The hidden layer ℓ shown (layers.ts's slider); 0: the endpoint the view was made with. */
  shown_layer: number;
  /** L, the hidden layers the slider moves through; 0 where the view cannot switch. */
  layers: number;
  /** Names this instance for the tiles pushed before a display (shared.ts). */
  _instance: string;
  /** The last complete view's picture, a PNG data URL (snapshot.ts), or "". */
  snapshot: string;
  /** What a view of another quantity calls it: Python's DifferenceView only ("λ₁ᵃ − λ₁ᵇ"). */
  quantity_label: string;
}

/** Traits whose change needs a redraw (and the toolbar to show them), nothing else. */
export const REDRAWN = [
  "cmap",
  "vmin",
  "vmax",
  "quantity",
  "depth",
  "show_boundary",
  "show_data",
  "show_directions",
  "show_ridges",
] as const satisfies readonly (keyof Traits)[];

/** The model anywidget hands to `render`. */
export type Model = AnyModel<Traits>;

/** The names of the boolean traits. */
export type FlagTrait = {
  [K in keyof Traits]: Traits[K] extends boolean ? K : never;
}[keyof Traits];

/** A boolean trait; `fallback` when the model does not have it (an older kernel side). */
export function flag(model: Model, name: FlagTrait, fallback: boolean): boolean {
  const value: boolean | null | undefined = model.get(name);
  return value === undefined || value === null ? fallback : Boolean(value);
}

/** `plane_info.image_shape`: [H, W] or [C, H, W] for image inputs, else null. */
export function imageShape(model: Model): number[] | null {
  const info: PlaneInfo | null | undefined = model.get("plane_info");
  const shape: unknown = info?.image_shape;
  return Array.isArray(shape) && shape.length >= 2 ? (shape as number[]) : null;
}

/** `plane_info.resolution` when it holds four finite numbers (shortest > 0), else null. */
export function resolutionOf(model: Model): Resolution | null {
  const info: PlaneInfo | null | undefined = model.get("plane_info");
  const r: Partial<Record<keyof Resolution, unknown>> | undefined = info?.resolution;
  if (!r) return null;
  const { origin, u, v, shortest } = r;
  const all = [origin, u, v, shortest];
  if (!all.every((x) => typeof x === "number" && Number.isFinite(x))) return null;
  return (shortest as number) > 0 ? (r as Resolution) : null;
}

/** The height of the field, CSS pixels (Python's `FTLEView.height`, default 420). */
export const DEFAULT_HEIGHT = 420;
/** The heights the widget takes (Python validates the trait to these too). */
export const HEIGHTS = [150, 2000] as const;

/** The `height` trait, rounded into {@link HEIGHTS}; {@link DEFAULT_HEIGHT} if not a number. */
export function heightOf(model: Model): number {
  const h: unknown = model.get("height");
  if (typeof h !== "number" || !Number.isFinite(h)) return DEFAULT_HEIGHT;
  return Math.min(HEIGHTS[1], Math.max(HEIGHTS[0], Math.round(h)));
}

/** The `progress` trait: tiles done and planned, and the phase; null when it holds no numbers. */
export function progressOf(model: Model): { done: number; total: number; phase: string } | null {
  const p: unknown = model.get("progress");
  if (!Array.isArray(p) || typeof p[0] !== "number" || typeof p[1] !== "number") return null;
  return { done: p[0], total: p[1], phase: typeof p[2] === "string" ? p[2] : "" };
}

/** Set the colour limits (both: Python checks vmin < vmax once both have changed). */
export function setLimits(model: Model, vmin: number, vmax: number, save = true): void {
  model.set("vmin", vmin);
  model.set("vmax", vmax);
  if (save) model.save_changes();
}

/** The colormap shown when the `cmap` trait names none known and none was shown before. */
export const DEFAULT_CMAP: ColormapName = "RdBu_r";

/** The colour traits as a frame uses them, and a note for every value it could not use. */
export interface CheckedColours {
  settings: ColourSettings;
  /** The shown quantity's name, for the colorbar and the hover read-out. */
  label: string;
  /** One line per trait value replaced: what it was and what is shown instead. */
  notes: string[];
}

/** A trait value as the status line names it: strings quoted, numbers as JavaScript writes them. */
function shown(x: unknown): string {
  if (typeof x === "string") return `'${x}'`;
  if (typeof x === "number") return String(x);
  return JSON.stringify(x) ?? String(x);
}

/**
 * How tiles are coloured, from the traits cmap, vmin, vmax, quantity, depth and show_boundary,
 * whatever values they hold (Python validates them, the front end does not rely on it): an
 * unknown colormap gives `fallbackCmap` (if known, else {@link DEFAULT_CMAP}); a vmin or vmax that
 * is not a finite number, or vmin ≥ vmax, gives the automatic limits; an unknown quantity is
 * shown as "lambda". Each replacement adds a note.
 */
export function checkColours(model: Model, fallbackCmap: string): CheckedColours {
  const notes: string[] = [];
  const raw: unknown = model.get("cmap");
  let cmap = raw as string;
  if (!(COLORMAPS as readonly unknown[]).includes(raw)) {
    cmap = (COLORMAPS as readonly string[]).includes(fallbackCmap) ? fallbackCmap : DEFAULT_CMAP;
    notes.push(`unknown colormap ${shown(raw)}: showing ${cmap}`);
  }
  const limit = (name: "vmin" | "vmax"): number | null | undefined => {
    const x: unknown = model.get(name);
    if (x === null || x === undefined) return null;
    if (typeof x === "number" && Number.isFinite(x)) return x;
    notes.push(`${name} ${shown(x)} is not a finite number: automatic limits`);
    return undefined; // bad
  };
  let vmin = limit("vmin");
  let vmax = limit("vmax");
  if (typeof vmin === "number" && typeof vmax === "number" && !(vmin < vmax)) {
    notes.push(`vmin ${vmin} is not below vmax ${vmax}: automatic limits`);
    vmin = vmax = undefined;
  }
  if (vmin === undefined || vmax === undefined) vmin = vmax = null;
  const raw_quantity: unknown = model.get("quantity");
  const quantity = isQuantity(raw_quantity) ? raw_quantity : "lambda";
  if (quantity !== raw_quantity) notes.push(`unknown quantity ${shown(raw_quantity)}: showing λ₁`);
  const settings = {
    cmap,
    vmin,
    vmax,
    quantity,
    factor: quantity === "log_stretch" ? model.get("depth") : 1,
    boundary: flag(model, "show_boundary", true),
  };
  return { settings, label: quantityLabel(model), notes };
}

/** {@link checkColours} with the last colormap shown as the fallback. */
export class ColourTraits {
  private last: string = DEFAULT_CMAP;

  read(model: Model): CheckedColours {
    const checked = checkColours(model, this.last);
    this.last = checked.settings.cmap;
    return checked;
  }
}

/** How tiles are coloured, from the traits (unknown values replaced, see {@link checkColours}). */
export function colourSettings(model: Model): ColourSettings {
  return checkColours(model, DEFAULT_CMAP).settings;
}

/** The shown quantity's name, for the colorbar and the hover read-out (λ₁ if unknown). */
export function quantityLabel(model: Model): string {
  const own: unknown = model.get("quantity_label"); // a difference of two views' (compare.ts)
  if (typeof own === "string" && own) return own;
  const quantity: unknown = model.get("quantity");
  return isQuantity(quantity) ? QUANTITY_LABELS[quantity] : QUANTITY_LABELS.lambda;
}
