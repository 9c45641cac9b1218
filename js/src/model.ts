/** The widget's model: its synced traits (typed), and typed reads of a few of them. */
import type { AnyModel } from "@anywidget/types";
import type { Extent } from "./protocol";
import type { ColourSettings } from "./renderer";

/** `FTLEView.plane_info` (Python): the plane's input shape and how hover pictures show inputs. */
export interface PlaneInfo {
  input_shape?: number[];
  orthonormal?: boolean;
  /** [H, W] or [C, H, W] for image inputs, else null. */
  image_shape?: number[] | null;
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
  quantity: "lambda" | "log_stretch";
  status: string;
  /** [done, total] tiles of the last request. */
  progress: number[];
  error: string;
  tile_px: number;
  show_boundary: boolean;
  show_data: boolean;
  show_directions: boolean;
  epoch: number | null;
  following: boolean;
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

/** How tiles are coloured, from the traits cmap, vmin, vmax, quantity, depth, show_boundary. */
export function colourSettings(model: Model): ColourSettings {
  return {
    cmap: model.get("cmap"),
    vmin: model.get("vmin"),
    vmax: model.get("vmax"),
    factor: model.get("quantity") === "log_stretch" ? model.get("depth") : 1,
    boundary: flag(model, "show_boundary", true),
  };
}

/** The shown quantity's name, for the colorbar and the hover read-out. */
export function quantityLabel(model: Model): string {
  return model.get("quantity") === "log_stretch" ? "log Λ₁" : "λ₁";
}
