/**
 * Tiles pushed before a display asked: Python computes the home view when the widget is made
 * and sends its tiles as generation 0 ({@link PUSHED}), because while a notebook runs its later
 * cells the kernel cannot read a display's request, but its pushes arrive. They may arrive before
 * any display exists, so anywidget's `initialize` (once per model) keeps them here, and each
 * display starts from them.
 */
import type { Initialize } from "@anywidget/types";
import type { Traits } from "./model";
import { type DecodedTile, decodeTile, type FromPython, PUSHED } from "./protocol";
import { TileStore } from "./tiles";

/** The pushed tiles of each live model, by its `_instance` trait. */
const pushed = new Map<string, TileStore>();

/** The tiles pushed to the model named `instance` so far (none for an unknown name). */
export function pushedTiles(instance: string): DecodedTile[] {
  return pushed.get(instance)?.drawOrder() ?? [];
}

/** Keep the model's pushed tiles (a plane change's reset forgets them) until it is closed. */
export const initialize: Initialize<Traits> = ({ model }) => {
  const instance = model.get("_instance");
  const store = new TileStore();
  pushed.set(instance, store);
  const onCustom = (msg: FromPython, buffers: DataView[]) => {
    try {
      if (msg?.kind === "tile" && msg.generation === PUSHED) store.add(decodeTile(msg, buffers));
      else if (msg?.kind === "reset") store.clear();
    } catch {
      // a display decodes the same message and reports the problem
    }
  };
  model.on("msg:custom", onCustom);
  return () => {
    model.off("msg:custom", onCustom);
    pushed.delete(instance);
  };
};
