/**
 * Hover pictures for image inputs: the throttle that paces `input_request`s, and the picture
 * of an `input` reply.
 */
import { type DecodedInput, type InputRequestMessage, inputRequestMessage } from "../protocol";

/** Without a reply after this long, the next request goes out anyway. */
export const INPUT_TIMEOUT_MS = 500;

/**
 * At most one outstanding request. A move while one is outstanding is held (only the newest);
 * when the reply comes, or {@link INPUT_TIMEOUT_MS} passed without one, the held position is
 * sent if it differs from the last one sent. Replies older than the newest drawn are dropped.
 * Pure: time comes in as `now` (ms), the caller sends what the methods return and calls
 * {@link tick} once the timeout has passed.
 */
export class InputThrottle {
  private id = 0;
  private outstanding: { id: number; since: number } | null = null;
  private pending: [number, number] | null = null;
  private last: [number, number] | null = null;
  private drawn = 0;

  constructor(readonly timeoutMs = INPUT_TIMEOUT_MS) {}

  /** The pointer is over plane point (u, v): the request to send now, or null (held). */
  move(u: number, v: number, now: number): InputRequestMessage | null {
    this.pending = [u, v];
    return this.next(now);
  }

  /** A reply with this id arrived: whether to draw it, and the request to send now, if any. */
  reply(id: number, now: number): { draw: boolean; send: InputRequestMessage | null } {
    const draw = id > this.drawn;
    if (draw) this.drawn = id;
    if (this.outstanding && id >= this.outstanding.id) this.outstanding = null;
    return { draw, send: this.next(now) };
  }

  /** Time passed: the held request, if the outstanding one has timed out. */
  tick(now: number): InputRequestMessage | null {
    return this.next(now);
  }

  /** Whether a request is out with no reply yet (timed out or not). */
  get waiting(): boolean {
    return this.outstanding !== null;
  }

  /** Forget the last position sent: after a plane change the same (u, v) is another input. */
  forget(): void {
    this.last = null;
  }

  private next(now: number): InputRequestMessage | null {
    if (this.outstanding && now - this.outstanding.since < this.timeoutMs) return null;
    this.outstanding = null;
    const p = this.pending;
    if (!p) return null;
    this.pending = null;
    if (this.last && this.last[0] === p[0] && this.last[1] === p[1]) return null;
    this.last = p;
    this.id += 1;
    this.outstanding = { id: this.id, since: now };
    return inputRequestMessage(this.id, p[0], p[1]);
  }
}

/**
 * RGBA pixels (H × W × 4, row 0 at the top) of an input: level = (x − vmin) / (vmax − vmin)
 * clipped to [0, 1], × 255, rounded; one channel → grey, three channels → R, G, B. NaN is
 * black; when vmax ≤ vmin every finite value is mid grey (128).
 */
export function inputPixels(input: DecodedInput): Uint8ClampedArray {
  const [c, h, w] = input.shape;
  const { vmin, vmax } = input.message;
  const n = h * w;
  const span = vmax - vmin;
  const degenerate = !(span > 0) || !Number.isFinite(span);
  const level = (x: number): number => {
    if (Number.isNaN(x)) return 0;
    if (degenerate) return 128;
    const t = (x - vmin) / span;
    return Math.round(Math.min(Math.max(t, 0), 1) * 255);
  };
  const values = input.values;
  const out = new Uint8ClampedArray(4 * n);
  for (let p = 0; p < n; p++) {
    const r = level(values[p]!);
    out[4 * p] = r;
    out[4 * p + 1] = c === 3 ? level(values[n + p]!) : r;
    out[4 * p + 2] = c === 3 ? level(values[2 * n + p]!) : r;
    out[4 * p + 3] = 255;
  }
  return out;
}

/** Draw the input at its own resolution (CSS scales the canvas up, pixelated). */
export function drawInput(canvas: HTMLCanvasElement, input: DecodedInput): void {
  const [, h, w] = input.shape;
  canvas.width = w;
  canvas.height = h;
  const image = new ImageData(w, h);
  image.data.set(inputPixels(input));
  canvas.getContext("2d")!.putImageData(image, 0, 0);
}
