/**
 * What a model's displays share, kept from anywidget's `initialize` (once per model, by its
 * `_instance` trait):
 *
 * - tiles pushed before a display asked: Python computes the home view when the widget is made
 *   and sends its tiles as generation 0 ({@link PUSHED}), because while a notebook runs its later
 *   cells the kernel cannot read a display's request, but its pushes arrive. They may arrive
 *   before any display exists, and each display starts from them;
 * - the generations of view requests ({@link nextGeneration}): unique across the model's
 *   displays. Python answers one view at a time and tags a refresh (the Directions toggle, new
 *   weights) with the generation of the last request it read, whichever display sent it; with a
 *   count per display, one that had asked more often than another rejected those tiles as stale.
 */
import type { Initialize } from "@anywidget/types";
import type { Traits } from "./model";
import { type DecodedTile, decodeTile, type FromPython, PUSHED } from "./protocol";
import { TileStore } from "./tiles";

/** One live model's shared state. */
interface Shared {
  /** Its pushed tiles. */
  store: TileStore;
  /** The newest generation a display asked for, or that a tile from Python carried. */
  generation: number;
}

/** The shared state of each live model, by its `_instance` trait. */
const models = new Map<string, Shared>();

/** The tiles pushed to the model named `instance` so far (none for an unknown name). */
export function pushedTiles(instance: string): DecodedTile[] {
  return models.get(instance)?.store.drawOrder() ?? [];
}

/**
 * The generation of a display's next view request, after its last one (`last`): above every
 * generation asked for by the model's displays or carried by a tile from Python (another page
 * on the same kernel numbers its own), so that the newest request, whichever display made it,
 * has the highest. A model unknown here (no `initialize`) counts per display.
 */
export function nextGeneration(instance: string, last: number): number {
  const shared = models.get(instance);
  if (!shared) return last + 1;
  shared.generation = Math.max(shared.generation, last) + 1;
  return shared.generation;
}

/** Keep the model's shared state (a plane change's reset forgets its pushed tiles) until it is
 * closed. */
export const initialize: Initialize<Traits> = ({ model }) => {
  const instance = model.get("_instance");
  const shared: Shared = { store: new TileStore(), generation: PUSHED };
  models.set(instance, shared);
  const onCustom = (msg: FromPython, buffers: DataView[]) => {
    try {
      if (msg?.kind === "tile" && typeof msg.generation === "number") {
        shared.generation = Math.max(shared.generation, msg.generation);
        if (msg.generation === PUSHED) shared.store.add(decodeTile(msg, buffers));
      } else if (msg?.kind === "reset") shared.store.clear();
    } catch {
      // a display decodes the same message and reports the problem
    }
  };
  model.on("msg:custom", onCustom);
  return () => {
    model.off("msg:custom", onCustom);
    models.delete(instance);
  };
};
