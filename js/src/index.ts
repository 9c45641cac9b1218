/**
 * The anywidget entry: wires the viewport (gestures), the tile store, the renderer and the
 * messages to Python; returns a cleanup.
 */
import { drawAxes } from "./overlays/axes";
import { COLORBAR_WIDTH, drawColorbar } from "./overlays/colorbar";
import { hoverText, readAt } from "./overlays/hover";
import { type Extent, type TileMessage, decodeTile, viewMessage } from "./protocol";
import { Renderer } from "./renderer";
import { TileStore } from "./tiles";
import { Viewport } from "./viewport";

export * from "./colormap";
export * from "./protocol";
export * from "./viewport";
export { TileStore } from "./tiles";
export { Renderer } from "./renderer";

/** The parts of anywidget's model that the view uses. */
export interface Model {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event: string, callback: (...args: any[]) => void): void;
}

const DEBOUNCE_MS = 100;
const HEIGHT = 420;

function render({ model, el }: { model: Model; el: HTMLElement }): () => void {
  const root = document.createElement("div");
  root.className = "ftle-widget";
  root.style.cssText = "position:relative;width:100%;font:12px sans-serif;";
  const row = document.createElement("div");
  row.style.cssText = "display:flex;align-items:flex-start;";
  const plot = document.createElement("div");
  plot.style.cssText = `position:relative;flex:1;min-width:0;height:${HEIGHT}px;`;
  const canvas = document.createElement("canvas");
  canvas.className = "ftle-field";
  canvas.style.cssText = `display:block;width:100%;height:${HEIGHT}px;cursor:grab;touch-action:none;`;
  const overlay = document.createElement("canvas");
  overlay.className = "ftle-overlay";
  overlay.style.cssText = `position:absolute;left:0;top:0;width:100%;height:${HEIGHT}px;pointer-events:none;`;
  const colorbar = document.createElement("canvas");
  colorbar.className = "ftle-colorbar";
  colorbar.style.cssText = `width:${COLORBAR_WIDTH}px;height:${HEIGHT}px;flex:none;`;
  plot.append(canvas, overlay);
  row.append(plot, colorbar);
  const status = document.createElement("div");
  status.className = "ftle-status";
  status.style.cssText = "min-height:1.4em;padding:2px 4px;";
  const hover = document.createElement("div");
  hover.className = "ftle-hover";
  hover.style.cssText = "min-height:1.4em;padding:2px 4px;font-family:monospace;";
  root.append(row, hover, status);
  el.appendChild(root);
  const ink = () =>
    getComputedStyle(root).getPropertyValue("--jp-ui-font-color1").trim() || "#222";
  let box: { x0: number; y0: number; x1: number; y1: number } | null = null;

  const store = new TileStore();
  const renderer = new Renderer(canvas);
  const size = (): [number, number] => [Math.max(1, canvas.clientWidth || 512), HEIGHT];
  let view = new Viewport(model.get("extent") as Extent, ...size());
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let frame = 0;

  const settings = () => ({
    cmap: model.get("cmap") as string,
    vmin: model.get("vmin") as number | null,
    vmax: model.get("vmax") as number | null,
    factor: model.get("quantity") === "log_stretch" ? (model.get("depth") as number) : 1,
    boundary: Boolean(model.get("show_boundary")),
  });
  const quantityLabel = () => (model.get("quantity") === "log_stretch" ? "log Λ₁" : "λ₁");
  const drawNow = () => {
    const s = settings();
    const [lo, hi] = renderer.draw(view, store.drawOrder(), s);
    const ratio = window.devicePixelRatio || 1;
    overlay.width = Math.round(view.width * ratio);
    overlay.height = Math.round(view.height * ratio);
    const ctx = overlay.getContext("2d")!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    drawAxes(ctx, view, ink());
    if (box) {
      ctx.strokeStyle = ink();
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
    }
    drawColorbar(colorbar, s.cmap, lo, hi, quantityLabel(), HEIGHT, ink());
  };
  const redraw = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(drawNow);
  };
  const showStatus = () => {
    const error = model.get("error") as string;
    status.textContent = error || (model.get("status") as string);
    status.style.color = error ? "#c00" : "";
  };
  const request = () => {
    generation += 1;
    store.generation = generation;
    const extent: Extent = [view.u0, view.u1, view.v0, view.v1];
    model.send(viewMessage(generation, extent, Math.round(view.width), Math.round(view.height)));
  };
  const settle = (sync: boolean) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (sync) {
        model.set("extent", [view.u0, view.u1, view.v0, view.v1]);
        model.save_changes();
      }
      request();
    }, DEBOUNCE_MS);
  };

  // gestures: the held tiles are redrawn transformed at once, the request follows when settled
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    view = view.zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-e.deltaY * 0.002));
    drawNow();
    settle(true);
  };
  let drag: { x: number; y: number } | null = null;
  const local = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  const onDown = (e: PointerEvent) => {
    canvas.setPointerCapture?.(e.pointerId);
    if (e.shiftKey) {  // shift-drag: zoom to a box
      const [x, y] = local(e);
      box = { x0: x, y0: y, x1: x, y1: y };
      return;
    }
    drag = { x: e.clientX, y: e.clientY };
    canvas.style.cursor = "grabbing";
  };
  const onMove = (e: PointerEvent) => {
    if (!drag && !box) {
      const [x, y] = local(e);
      const [u, v] = view.toPlane(x, y);
      hover.textContent = hoverText(readAt(store, u, v, settings().factor), quantityLabel());
    }
    if (box) {
      [box.x1, box.y1] = local(e);
      drawNow();
      return;
    }
    if (!drag) return;
    view = view.pan(e.clientX - drag.x, e.clientY - drag.y);
    drag = { x: e.clientX, y: e.clientY };
    drawNow();
    settle(true);
  };
  const onUp = () => {
    if (box) {
      const { x0, y0, x1, y1 } = box;
      box = null;
      if (Math.abs(x1 - x0) > 3 && Math.abs(y1 - y0) > 3) {
        view = view.zoomToBox(x0, y0, x1, y1);
        settle(true);
      }
      drawNow();
      return;
    }
    drag = null;
    canvas.style.cursor = "grab";
  };
  const onDouble = () => {
    model.set("extent", model.get("home"));
    model.save_changes();
    onExtent();
  };
  canvas.addEventListener("wheel", onWheel, { passive: false });
  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("dblclick", onDouble);

  // messages and traits from Python
  const onCustom = (msg: any, buffers: DataView[]) => {
    if (msg?.kind === "tile") {
      if (store.add(decodeTile(msg as TileMessage, buffers))) redraw();
    } else if (msg?.kind === "reset") {
      store.clear();
      redraw();
    }
  };
  const onExtent = () => {
    view = new Viewport(model.get("extent") as Extent, ...size());
    drawNow();
    settle(false);
  };
  model.on("msg:custom", onCustom);
  model.on("change:extent", onExtent);
  for (const name of ["cmap", "vmin", "vmax", "quantity", "depth", "show_boundary"]) model.on(`change:${name}`, redraw);
  model.on("change:status", showStatus);
  model.on("change:error", showStatus);
  const resize = new ResizeObserver(() => {
    const [w, h] = size();
    if (w !== view.width || h !== view.height) {
      view = view.resize(w, h);
      drawNow();
      settle(false);
    }
  });
  resize.observe(canvas);
  showStatus();
  drawNow();
  request();

  return () => {
    clearTimeout(timer);
    cancelAnimationFrame(frame);
    resize.disconnect();
    model.off("msg:custom", onCustom);
    model.off("change:extent", onExtent);
    for (const name of ["cmap", "vmin", "vmax", "quantity", "depth", "show_boundary"]) model.off(`change:${name}`, redraw);
    model.off("change:status", showStatus);
    model.off("change:error", showStatus);
    canvas.removeEventListener("wheel", onWheel);
    canvas.removeEventListener("pointerdown", onDown);
    canvas.removeEventListener("pointermove", onMove);
    canvas.removeEventListener("pointerup", onUp);
    canvas.removeEventListener("dblclick", onDouble);
    root.remove();
  };
}

export default { render };
