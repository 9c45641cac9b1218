/**
 * The anywidget entry: wires the toolbar, the viewport (gestures), the tile store, the renderer,
 * the overlays and the messages to Python; returns a cleanup.
 *
 * The widget's root element (`.ftle-widget`) carries `composeImage()`: the PNG download's
 * picture (field + overlay + colorbar, device pixels) as a canvas, for tests and scripts:
 * `document.querySelector(".ftle-widget").composeImage()`.
 *
 * It also carries `timings` ({@link Timings}, `performance.now()` milliseconds): how long the last
 * gesture's redraw took, and when the last view request went out and its first tile at the view's
 * own resolution was painted; the browser tests report them.
 */
import { type Model, flag, imageShape } from "./model";
import { drawAxes } from "./overlays/axes";
import { COLORBAR_WIDTH, drawColorbar } from "./overlays/colorbar";
import { drawData } from "./overlays/data";
import { directionSegments, drawDirections } from "./overlays/directions";
import { hoverText, readAt } from "./overlays/hover";
import { InputThrottle, drawInput } from "./overlays/input";
import { composeImage, downloadPng } from "./png";
import {
  type DataMessage,
  type DecodedData,
  type Extent,
  type InputMessage,
  type InputRequestMessage,
  type TileMessage,
  decodeData,
  decodeInput,
  decodeTile,
  viewMessage,
} from "./protocol";
import { Renderer } from "./renderer";
import { TileStore } from "./tiles";
import { Toolbar } from "./toolbar";
import { Viewport, levelFor } from "./viewport";

export * from "./colormap";
export * from "./protocol";
export * from "./viewport";
export type { Model } from "./model";
export { TileStore } from "./tiles";
export { Renderer } from "./renderer";
export { composeImage } from "./png";
export { directionSegments } from "./overlays/directions";
export { InputThrottle, inputPixels } from "./overlays/input";

/** Latency figures of the last gesture and the last view request. */
export interface Timings {
  /** Duration of the synchronous transformed redraw in the last wheel event's handler. */
  wheelRedrawMs: number | null;
  /** When the last view request was sent, and its generation. */
  requestAt: number | null;
  generation: number;
  /** When its first tile at the view's resolution (not a coarse stand-in) was painted. */
  firstFineTileAt: number | null;
}

/** The root element, with the PNG composition as a method and the latency figures. */
export interface WidgetElement extends HTMLDivElement {
  composeImage(): HTMLCanvasElement;
  timings: Timings;
}

const DEBOUNCE_MS = 100;
const HEIGHT = 420;

const TRAITS_REDRAWN = ["cmap", "vmin", "vmax", "quantity", "depth", "show_boundary", "show_data", "show_directions"];
const INPUT_PX = 64;

function render({ model, el }: { model: Model; el: HTMLElement }): () => void {
  const root = document.createElement("div") as unknown as WidgetElement;
  root.className = "ftle-widget";
  root.style.cssText =
    "position:relative;width:100%;font:12px sans-serif;color:var(--jp-ui-font-color1,#222);";
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
  const info = document.createElement("div");
  info.style.cssText = "display:flex;align-items:flex-start;gap:8px;";
  const hover = document.createElement("div");
  hover.className = "ftle-hover";
  hover.style.cssText = "flex:1;min-height:1.4em;padding:2px 4px;font-family:monospace;";
  const picture = document.createElement("canvas");
  picture.className = "ftle-input";
  picture.width = picture.height = 1;
  picture.title = "The input under the cursor";
  picture.style.cssText =
    `width:${INPUT_PX}px;height:${INPUT_PX}px;flex:none;image-rendering:pixelated;` +
    "margin:2px 4px;border:1px solid var(--jp-border-color1,#bdbdbd);";
  info.append(hover, picture);
  // the toolbar (its actions are defined below)
  const toolbar = new Toolbar(model, {
    reset: () => goHome(),
    box: (on) => {
      canvas.style.cursor = on ? "crosshair" : "grab";
    },
    png: () => downloadPng(root.composeImage()),
    changed: () => redraw(),
  });
  root.append(toolbar.el, row, info, status);
  el.appendChild(root);
  const ink = () =>
    getComputedStyle(root).getPropertyValue("--jp-ui-font-color1").trim() || "#222";
  let box: { x0: number; y0: number; x1: number; y1: number } | null = null;

  const store = new TileStore();
  const renderer = new Renderer(canvas);
  const size = (): [number, number] => [Math.max(1, canvas.clientWidth || 512), HEIGHT];
  let view = Viewport.fit(model.get("extent") as Extent, ...size());
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let frame = 0;
  let data: DecodedData | null = null;
  const throttle = new InputThrottle();
  let inputTimer: ReturnType<typeof setTimeout> | undefined;
  const timings: Timings = { wheelRedrawMs: null, requestAt: null, generation: 0, firstFineTileAt: null };
  root.timings = timings;
  let finePending = false;
  /** Whether a tile is at the view's own resolution (its level's pixels match the screen's). */
  const isFine = (msg: TileMessage) => {
    const side = msg.extent[1] - msg.extent[0];
    const base = side * 2 ** msg.z;
    return msg.z >= levelFor(base, msg.tile_px, view.pixelSize());
  };

  const settings = () => ({
    cmap: model.get("cmap") as string,
    vmin: model.get("vmin") as number | null,
    vmax: model.get("vmax") as number | null,
    factor: model.get("quantity") === "log_stretch" ? (model.get("depth") as number) : 1,
    boundary: flag(model, "show_boundary", true),
  });
  const quantityLabel = () => (model.get("quantity") === "log_stretch" ? "log Λ₁" : "λ₁");
  const drawNow = () => {
    cancelAnimationFrame(frame);
    const s = settings();
    const [lo, hi] = renderer.draw(view, store.drawOrder(), s);
    const ratio = window.devicePixelRatio || 1;
    overlay.width = Math.round(view.width * ratio);
    overlay.height = Math.round(view.height * ratio);
    const ctx = overlay.getContext("2d")!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    if (flag(model, "show_directions", false)) drawDirections(ctx, directionSegments(view, store));
    drawAxes(ctx, view, ink());
    const showData = flag(model, "show_data", true);
    if (showData && data) drawData(ctx, view, data);
    toolbar.showLegend(showData && data !== null && data.count > 0);
    if (box) {
      ctx.strokeStyle = ink();
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
    }
    drawColorbar(colorbar, s.cmap, lo, hi, quantityLabel(), HEIGHT, ink());
    if (finePending) {
      finePending = false;
      if (timings.firstFineTileAt === null) timings.firstFineTileAt = performance.now();
    }
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
  const showProblem = (e: unknown) => {
    status.textContent = e instanceof Error ? e.message : String(e);
    status.style.color = "#c00";
  };
  const request = () => {
    generation += 1;
    store.generation = generation;
    const extent: Extent = [view.u0, view.u1, view.v0, view.v1];
    model.send(viewMessage(generation, extent, Math.round(view.width), Math.round(view.height)));
    Object.assign(timings, { requestAt: performance.now(), generation, firstFineTileAt: null });
    finePending = false;
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
  const goHome = () => {
    model.set("extent", model.get("home"));
    model.save_changes();
    onExtent();
  };

  root.composeImage = () => {
    drawNow();
    const background =
      getComputedStyle(root).getPropertyValue("--jp-layout-color1").trim() || "#ffffff";
    return composeImage(canvas, overlay, colorbar, background);
  };

  // hover pictures of image inputs
  const showPicture = () => {
    picture.style.display = imageShape(model) ? "" : "none";
  };
  const sendInput = (msg: InputRequestMessage | null) => {
    if (!msg) return;
    model.send(msg);
    clearTimeout(inputTimer);
    inputTimer = setTimeout(() => sendInput(throttle.tick(Date.now())), throttle.timeoutMs + 10);
  };
  const onInput = (msg: InputMessage, buffers: DataView[]) => {
    const { draw, send } = throttle.reply(msg.id, Date.now());
    if (!throttle.waiting) clearTimeout(inputTimer);
    if (draw) {
      try {
        drawInput(picture, decodeInput(msg, buffers));
      } catch (e) {
        showProblem(e);
      }
    }
    sendInput(send);
  };

  // gestures: the held tiles are redrawn transformed at once, the request follows when settled
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    const start = performance.now();
    view = view.zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-e.deltaY * 0.002));
    drawNow();
    timings.wheelRedrawMs = performance.now() - start;
    settle(true);
  };
  let drag: { x: number; y: number } | null = null;
  const local = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  const onDown = (e: PointerEvent) => {
    canvas.setPointerCapture?.(e.pointerId);
    if (e.shiftKey || toolbar.box) {  // zoom to a box: shift-drag, or any drag in box mode
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
      hover.textContent = hoverText(
        readAt(store, u, v, settings().factor), quantityLabel(), data?.labels ?? [],
      );
      if (imageShape(model)) sendInput(throttle.move(u, v, Date.now()));
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
    canvas.style.cursor = toolbar.box ? "crosshair" : "grab";
  };
  const canvasEvents: [string, (e: any) => void][] = [
    ["wheel", onWheel],
    ["pointerdown", onDown],
    ["pointermove", onMove],
    ["pointerup", onUp],
    ["dblclick", goHome],
  ];
  // passive: false so that the wheel handler may keep the page from scrolling
  for (const [event, handler] of canvasEvents) canvas.addEventListener(event, handler, { passive: false });

  // messages and traits from Python
  const onCustom = (msg: any, buffers: DataView[]) => {
    try {
      if (msg?.kind === "tile") {
        if (store.add(decodeTile(msg as TileMessage, buffers))) {
          if (msg.generation === generation && isFine(msg as TileMessage)) finePending = true;
          redraw();
        }
      } else if (msg?.kind === "data") {
        data = decodeData(msg as DataMessage, buffers);
        toolbar.setLegend(data.labels, data.cls.some((c) => !(Number.isInteger(c) && c >= 0)));
        redraw();
      } else if (msg?.kind === "input") {
        onInput(msg as InputMessage, buffers);
      } else if (msg?.kind === "reset") {
        store.clear();
        throttle.forget();
        redraw();
      }
    } catch (e) {
      showProblem(e);
    }
  };
  const onExtent = () => {
    view = Viewport.fit(model.get("extent") as Extent, ...size());
    drawNow();
    settle(false);
  };
  const onTrait = () => {
    toolbar.sync();
    redraw();
  };
  const onPlane = () => {
    throttle.forget();
    showPicture();
  };
  // every model event and canvas listener, registered here and removed by the cleanup
  const modelEvents: [string, (...args: any[]) => void][] = [
    ["msg:custom", onCustom],
    ["change:extent", onExtent],
    ...TRAITS_REDRAWN.map((name): [string, () => void] => [`change:${name}`, onTrait]),
    ["change:status", showStatus],
    ["change:error", showStatus],
    ["change:plane_info", onPlane],
  ];
  for (const [event, handler] of modelEvents) model.on(event, handler);
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
  showPicture();
  drawNow();
  request();
  model.send({ kind: "data_request" });

  return () => {
    clearTimeout(timer);
    clearTimeout(inputTimer);
    cancelAnimationFrame(frame);
    resize.disconnect();
    for (const [event, handler] of modelEvents) model.off(event, handler);
    for (const [event, handler] of canvasEvents) canvas.removeEventListener(event, handler);
    toolbar.destroy();
    root.remove();
  };
}

export default { render };
