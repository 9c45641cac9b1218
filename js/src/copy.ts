/**
 * The toolbar's "Copy view": the view's state (Python's `FTLEView.state()`, asked for with a
 * `state_request`) as JSON on the clipboard, so that a view can be pasted into a message or a
 * paper's supplement and reopened with `FTLEView.from_state(model, state)`. Where the browser
 * refuses the clipboard (no permission, an insecure page), the JSON shows in a text box,
 * selected, to copy by hand. The button says what happened for a moment.
 */
import type { Model } from "./model";
import { type FromPython, stateRequestMessage } from "./protocol";

/** How long the button says "Copied" (ms). */
export const FEEDBACK_MS = 1500;

export class StateCopier {
  /** The last JSON received (for tests and scripts). */
  last: string | null = null;
  private box: HTMLTextAreaElement | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly label: string;

  constructor(
    private readonly model: Model,
    private readonly button: HTMLButtonElement,
  ) {
    this.label = button.textContent ?? "";
    model.on("msg:custom", this.onCustom);
  }

  /** Ask Python for the state (the reply is copied when it comes). */
  request(): void {
    this.model.send(stateRequestMessage());
  }

  destroy(): void {
    clearTimeout(this.timer);
    this.model.off("msg:custom", this.onCustom);
    this.box?.remove();
  }

  private readonly onCustom = (msg: FromPython) => {
    if (msg?.kind !== "state" || typeof msg.json !== "string") return;
    this.last = msg.json;
    const clipboard = globalThis.navigator?.clipboard;
    const copied = clipboard ? clipboard.writeText(msg.json) : Promise.reject(new Error("none"));
    copied.then(
      () => this.say("Copied"),
      () => this.showText(msg.json),
    );
  };

  /** The JSON in a selected text box under the toolbar, to copy by hand. */
  private showText(json: string): void {
    this.box?.remove();
    const box = document.createElement("textarea");
    box.className = "ftle-state";
    box.readOnly = true;
    box.value = json;
    box.rows = 3;
    box.style.cssText = "display:block;width:100%;box-sizing:border-box;font:11px monospace;";
    this.button.closest(".ftle-toolbar")?.after(box);
    box.select();
    this.box = box;
    this.say("Select and copy");
  }

  private say(text: string): void {
    clearTimeout(this.timer);
    this.button.textContent = text;
    this.timer = setTimeout(() => {
      this.button.textContent = this.label;
    }, FEEDBACK_MS);
  }
}
