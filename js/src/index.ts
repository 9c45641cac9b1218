/**
 * The anywidget entry: wires the toolbar, the layout (DOM), the canvas controls (gestures), the
 * tile store, the renderer, the session with the kernel and the views compared with this one
 * (compare.ts); returns a cleanup. The `height` trait sets the field's height, the `progress`
 * trait the progress bar; "Fit colours" (toolbar) and the colorbar (overlays/limits.ts) set vmin
 * and vmax. A complete view's picture goes to the `snapshot` trait (snapshot.ts).
 *
 * The root element (`.ftle-widget`, layout.ts's `WidgetElement`) carries `composeImage()` (the
 * PNG download's picture as a canvas: `document.querySelector(".ftle-widget").composeImage()`),
 * `timings` (session.ts's `Timings`, which the browser tests wait on) and `axes`.
 */
import type { Render } from "@anywidget/types";
import { Comparison } from "./compare";
import { Controls } from "./controls";
import { visibleRange } from "./fit";
import { Flight } from "./flight";
import { boxOf, fitExtent, limitZoom, resized } from "./gestures";
import { Layout } from "./layout";
import {
  ColourTraits,
  colourSettings,
  heightOf,
  progressOf,
  quantityLabel,
  REDRAWN,
  resolutionOf,
  setLimits,
  type Traits,
} from "./model";
import { hasUnlabelled } from "./overlays/data";
import { hoverText, readAt } from "./overlays/hover";
import { drawInput } from "./overlays/input";
import { LimitControls } from "./overlays/limits";
import { composeImage, downloadPng } from "./png";
import { Renderer } from "./renderer";
import { drawScene } from "./scene";
import { Session } from "./session";
import { initialize, nextGeneration, pushedTiles } from "./shared";
import { Snapshot } from "./snapshot";
import { TileStore } from "./tiles";
import { Toolbar } from "./toolbar";

const render: Render<Traits> = ({ model, el }) => {
  const toolbar = new Toolbar(model, {
    reset: () => goHome(),
    box: () => controls.showCursor(),
    png: () => downloadPng(layout.root.composeImage()),
    fit: () => {
      const range = visibleRange(store.drawOrder(), controls.view.extent, settings());
      if (range) setLimits(model, ...range);
      redraw();
    },
    changed: () => redraw(),
    fly: (nearest) => session.fly(nearest),
  });
  const layout = new Layout(el, toolbar.el, heightOf(model));
  const store = new TileStore();
  for (const tile of pushedTiles(model.get("_instance"))) store.add(tile); // before it asked
  const renderer = new Renderer(layout.canvas);
  const colours = new ColourTraits();
  const settings = () => colourSettings(model);
  let frame = 0;
  let limits: [number, number] = [-1, 1]; // the colour limits of the last frame
  const session = new Session(model, store, {
    view: () => controls.view,
    redraw: () => redraw(),
    data: (data) => {
      toolbar.setLegend(data.labels, hasUnlabelled(data.cls));
      redraw();
    },
    input: (input) => drawInput(layout.picture, input),
    status: (text, error) => layout.setStatus(text, error),
    pictures: (on) => layout.showPicture(on),
    generation: (last) => nextGeneration(model.get("_instance"), last), // shared by its displays
    // the view follows the extent trait (set from Python, or by a reset), or a linked view's
    extent: (extent) => {
      const from = controls.view;
      controls.view = shownExtent(extent);
      if (extent) flight.land();
      else flight.start(from, controls.view); // Python's move flies; a linked view's is at once
    },
  });
  // the view of the extent trait (or `extent`), no finer than float64 resolves
  const shownExtent = (extent = model.get("extent")) => {
    const { view, limited } = limitZoom(fitExtent(extent, ...layout.size()), resolutionOf(model));
    session.setLimited(limited);
    return view;
  };
  const controls = new Controls(layout, shownExtent(), {
    draw: () => flight.land(), // a gesture ends a flight
    settle: () => {
      comparison.moved(controls.view.extent); // the views linked with this one follow
      session.settle(true);
    },
    hover: (u, v) => {
      const reading = readAt(store, u, v, settings());
      const labels = session.data?.labels ?? [];
      const pixel = controls.view.pixelSize();
      layout.hover.textContent = hoverText(reading, quantityLabel(model), labels, pixel);
      session.hover(u, v);
    },
    reset: () => goHome(),
    boxMode: () => toolbar.box,
    wheelRedraw: (ms) => session.recordWheel(ms),
    resolution: () => resolutionOf(model),
    limited: (on) => session.setLimited(on),
  });
  const comparison = new Comparison(layout, session);
  const limitControls = new LimitControls(model, layout.colorbar, layout.colorbarBox, {
    limits: () => limits,
    height: () => layout.height,
    changed: () => redraw(),
  });
  const flight = new Flight(() => drawNow(), layout.root);
  const drawNow = () => {
    cancelAnimationFrame(frame);
    const view = flight.view ?? controls.view; // in between while the view flies (flight.ts)
    const scene = {
      view,
      store,
      data: session.data,
      ridges: session.ridges,
      box: boxOf(controls.gesture),
      colours: colours.read(model),
    };
    const shown = drawScene(layout, renderer, model, scene);
    limits = shown.limits;
    limitControls.show(...limits);
    toolbar.showLegend(shown.legend);
    session.setNotes(shown.notes);
    session.painted();
    snapshot.painted(store.drawOrder().length);
  };
  const redraw = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(drawNow);
  };
  const goHome = () => {
    model.set("extent", model.get("home"));
    model.save_changes();
    session.extentChanged(); // a model may fire no change event for its own set
  };
  // the view follows the canvas's size; the first view is asked for once, at the canvas's real
  // size: at once when laid out, else when it first gets one (not at a guessed size)
  let asked = false;
  const resize = new ResizeObserver(() => {
    if (layout.canvas.clientWidth === 0) return; // not laid out (detached or hidden)
    const view = resized(controls.view, ...layout.size());
    if (view) controls.view = view;
    if (view) drawNow();
    if (!asked) {
      asked = true;
      session.request();
    } else if (view) session.settle(false);
  });
  resize.observe(layout.canvas);
  const onTrait = () => {
    toolbar.sync();
    redraw();
  };
  const showProgress = () => {
    const p = progressOf(model);
    layout.setProgress(p?.done ?? 0, p?.total ?? 0, p?.phase ?? "");
  };
  const traits = REDRAWN.map((name): [string, () => void] => [`change:${name}`, onTrait]);
  traits.push(
    ["change:height", () => layout.setHeight(heightOf(model))], // the ResizeObserver follows
    ["change:progress", showProgress],
  );
  for (const [event, handler] of traits) model.on(event, handler);

  layout.root.timings = session.timings;
  layout.root.composeImage = () => {
    drawNow();
    const { canvas, overlay, colorbar } = layout;
    return composeImage(canvas, overlay, colorbar, layout.background());
  };
  const snapshot = new Snapshot(model, layout, store.drawOrder().length > 0);
  drawNow();
  showProgress();
  asked = layout.canvas.clientWidth > 0;
  session.start(asked);

  return () => {
    snapshot.destroy();
    comparison.destroy();
    session.destroy();
    cancelAnimationFrame(frame);
    flight.destroy();
    resize.disconnect();
    for (const [event, handler] of traits) model.off(event, handler);
    controls.destroy();
    limitControls.destroy();
    toolbar.destroy();
    layout.remove();
  };
};

export default { initialize, render };
