/**
 * The toolbar above the plot: reset, box-zoom mode, the overlay toggles (traits show_boundary,
 * show_data, show_directions, show_ridges), the colormap, "Fly to ridge", "Fit colours" (vmin and
 * vmax to what is shown), the PNG download, "Copy view", and the layer slider with its play button
 * (layers.ts). Every control carries a `data-action`; toggles show their state in `aria-pressed`.
 */
import { COLORMAPS } from "./colormap";
import { StateCopier } from "./copy";
import { LayerControls } from "./layers";
import { flag, type Model } from "./model";
import { classColour } from "./overlays/data";

/** The overlay toggles: data-action → trait, label, default when the model lacks the trait. */
export const TOGGLES = [
  {
    action: "boundary",
    trait: "show_boundary",
    label: "Boundary",
    title: "Decision boundary",
    fallback: true,
  },
  {
    action: "data",
    trait: "show_data",
    label: "Data",
    title: "Data points near the plane",
    fallback: true,
  },
  {
    action: "directions",
    trait: "show_directions",
    label: "Directions",
    title: "Stretching directions",
    fallback: false,
  },
  {
    action: "ridges",
    trait: "show_ridges",
    label: "Ridges",
    title: "Ridges of λ₁, traced in Python from the tiles of each complete view",
    fallback: false,
  },
] as const;

/** What the buttons that are not trait toggles do. */
export interface ToolbarActions {
  /** Back to the home extent. */
  reset(): void;
  /** Box-zoom mode switched. */
  box(on: boolean): void;
  /** Download a PNG. */
  png(): void;
  /** Fit the colour limits to what is shown. */
  fit(): void;
  /** Fly to the strongest ridge in view, or (`nearest`) the one nearest the last hovered point. */
  fly(nearest: boolean): void;
  /** A trait was set from the toolbar (redraw). */
  changed(): void;
}

const STYLE = `
.ftle-toolbar{display:flex;flex-wrap:wrap;align-items:center;gap:4px;padding:0 0 4px;}
.ftle-toolbar button,.ftle-toolbar select{font:inherit;font-size:11px;line-height:16px;padding:1px 7px;
color:var(--jp-ui-font-color1,#222);background:var(--jp-layout-color1,#fff);
border:1px solid var(--jp-border-color1,#bdbdbd);border-radius:3px;cursor:pointer;}
.ftle-toolbar button:hover,.ftle-toolbar select:hover{border-color:var(--jp-ui-font-color1,#222);}
.ftle-toolbar button[aria-pressed="true"]{background:var(--jp-layout-color3,#d9d9d9);
box-shadow:inset 0 0 0 1px var(--jp-ui-font-color1,#222);}
.ftle-toolbar .ftle-legend{display:flex;flex-wrap:wrap;gap:8px;margin-left:6px;font-size:11px;}
.ftle-toolbar .ftle-legend i{display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:3px;}
`;

export class Toolbar {
  readonly el: HTMLDivElement;
  private readonly select: HTMLSelectElement;
  private readonly legend: HTMLSpanElement;
  private boxMode = false;
  private readonly copier: StateCopier;
  /** The layer slider and play button (depth as time). */
  readonly layers: LayerControls;

  constructor(
    private readonly model: Model,
    private readonly actions: ToolbarActions,
  ) {
    const el = document.createElement("div");
    el.className = "ftle-toolbar";
    el.setAttribute("role", "toolbar");
    const style = document.createElement("style");
    style.textContent = STYLE;
    const button = (action: string, label: string, title: string, toggle: boolean) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.action = action;
      b.textContent = label;
      b.title = title;
      if (toggle) b.setAttribute("aria-pressed", "false");
      return b;
    };
    this.select = document.createElement("select");
    this.select.dataset.action = "cmap";
    this.select.title = "Colormap";
    for (const name of COLORMAPS) this.select.add(new Option(name, name));
    this.legend = document.createElement("span");
    this.legend.className = "ftle-legend";
    this.layers = new LayerControls(model);
    el.append(
      style,
      button("reset", "Reset", "Back to the home view (or double-click)", false),
      button("box", "Box zoom", "Drag a box to zoom (shift-drag always does)", true),
      ...TOGGLES.map((t) => button(t.action, t.label, t.title, true)),
      this.select,
      button(
        "fly",
        "Fly to ridge",
        "Zoom onto the strongest ridge in view, further along it when clicked again " +
          "(shift-click: the ridge nearest the last point hovered)",
        false,
      ),
      button("fit", "Fit colours", "Set vmin and vmax to the range of what is shown", false),
      button("png", "PNG", "Download what is shown as ftle_field.png", false),
      button(
        "copy",
        "Copy view",
        "Copy this view's state (JSON) to the clipboard: FTLEView.from_state(model, state) " +
          "reopens it",
        false,
      ),
      this.layers.el,
      this.legend,
    );
    this.copier = new StateCopier(model, el.querySelector('[data-action="copy"]')!);
    el.addEventListener("click", this.onClick);
    this.select.addEventListener("change", this.onSelect);
    this.el = el;
    this.sync();
  }

  /** Whether a plain drag draws a zoom box. */
  get box(): boolean {
    return this.boxMode;
  }

  /** Show the traits' state: aria-pressed of the toggles, the colormap selected. */
  sync(): void {
    for (const t of TOGGLES) {
      this.control(t.action)?.setAttribute(
        "aria-pressed",
        String(flag(this.model, t.trait, t.fallback)),
      );
    }
    this.control("box")?.setAttribute("aria-pressed", String(this.boxMode));
    const cmap = this.model.get("cmap");
    if (COLORMAPS.includes(cmap as never)) this.select.value = cmap;
  }

  /** The class legend: a dot and a name per class (index = class id), hidden when empty. */
  setLegend(labels: readonly string[], unlabelled: boolean): void {
    this.legend.replaceChildren();
    const entry = (colour: string, text: string) => {
      const span = document.createElement("span");
      const dot = document.createElement("i");
      dot.style.background = colour;
      span.append(dot, text);
      this.legend.append(span);
    };
    labels.forEach((label, k) => {
      entry(classColour(k), label);
    });
    if (unlabelled) entry(classColour(-1), "unlabelled");
  }

  /** Show or hide the legend (with the data overlay). */
  showLegend(on: boolean): void {
    this.legend.style.display = on ? "" : "none";
  }

  destroy(): void {
    this.copier.destroy();
    this.layers.destroy();
    this.el.removeEventListener("click", this.onClick);
    this.select.removeEventListener("change", this.onSelect);
    this.el.remove();
  }

  private control(action: string): HTMLElement | null {
    return this.el.querySelector(`[data-action="${action}"]`);
  }

  private readonly onClick = (e: MouseEvent) => {
    const target = (e.target as HTMLElement | null)?.closest?.("button");
    const action = target?.dataset.action;
    if (!action) return;
    const toggle = TOGGLES.find((t) => t.action === action);
    if (toggle) {
      this.model.set(toggle.trait, !flag(this.model, toggle.trait, toggle.fallback));
      this.model.save_changes();
      this.sync();
      this.actions.changed();
    } else if (action === "box") {
      this.boxMode = !this.boxMode;
      this.sync();
      this.actions.box(this.boxMode);
    } else if (action === "reset") {
      this.actions.reset();
    } else if (action === "png") {
      this.actions.png();
    } else if (action === "fit") {
      this.actions.fit();
    } else if (action === "fly") {
      this.actions.fly(e.shiftKey);
    } else if (action === "copy") {
      this.copier.request();
    }
  };

  private readonly onSelect = () => {
    this.model.set("cmap", this.select.value);
    this.model.save_changes();
    this.actions.changed();
  };
}
