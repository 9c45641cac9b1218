/**
 * A minimal 2D canvas for the renderer's unit tests: real pixels (RGBA bytes) for what the
 * renderer does with them (setTransform with scale and offset, clearRect, putImageData, drawImage
 * nearest-neighbour as with smoothing off, fillRect inside a rectangular clip) and a log of every
 * call. `install()` puts it behind `document.createElement("canvas")`, `ImageData` and
 * `window.devicePixelRatio`, as in a browser.
 */

type Rect = [x0: number, y0: number, x1: number, y1: number];

export class FakeCanvas {
  width = 0;
  height = 0;
  private ctx: FakeContext | null = null;

  getContext(kind: string): FakeContext {
    if (kind !== "2d") throw new Error(`FakeCanvas: no ${kind} context`);
    this.ctx ??= new FakeContext(this);
    return this.ctx;
  }

  /** The RGBA bytes of pixel (x, y) (device pixels, row 0 at the top). */
  pixel(x: number, y: number): number[] {
    const p = this.getContext("2d").data();
    const o = 4 * (y * this.width + x);
    return [p[o]!, p[o + 1]!, p[o + 2]!, p[o + 3]!];
  }
}

export class FakeContext {
  imageSmoothingEnabled = true;
  fillStyle = "#000";
  strokeStyle = "#000";
  lineWidth = 1;
  /** Every call, by name. */
  readonly calls: { name: string; args: unknown[] }[] = [];
  private pixels = new Uint8ClampedArray(0);
  private size = [0, 0];
  private transform = [1, 0, 0, 1, 0, 0];
  private clipRect: Rect | null = null;
  private path: Rect | null = null;
  private saved: { transform: number[]; clip: Rect | null }[] = [];

  constructor(readonly canvas: FakeCanvas) {}

  /** The pixels, cleared when the canvas was resized (as setting width or height does). */
  data(): Uint8ClampedArray {
    const { width, height } = this.canvas;
    if (this.size[0] !== width || this.size[1] !== height) {
      this.pixels = new Uint8ClampedArray(4 * width * height);
      this.size = [width, height];
    }
    return this.pixels;
  }

  private log(name: string, args: unknown[]) {
    this.calls.push({ name, args });
  }

  setTransform(a: number, b: number, c: number, d: number, e: number, f: number) {
    this.log("setTransform", [a, b, c, d, e, f]);
    if (b !== 0 || c !== 0) throw new Error("FakeContext: only scales and offsets");
    this.transform = [a, b, c, d, e, f];
  }

  /** The device rectangle of CSS rectangle (x, y, w, h), in order, inside the canvas and clip. */
  private device(x: number, y: number, w: number, h: number): Rect {
    const [a, , , d, e, f] = this.transform;
    let x0 = a! * x + e!;
    let x1 = a! * (x + w) + e!;
    let y0 = d! * y + f!;
    let y1 = d! * (y + h) + f!;
    [x0, x1] = [Math.min(x0, x1), Math.max(x0, x1)];
    [y0, y1] = [Math.min(y0, y1), Math.max(y0, y1)];
    const clip = this.clipRect ?? [0, 0, this.canvas.width, this.canvas.height];
    return [
      Math.max(x0, clip[0], 0),
      Math.max(y0, clip[1], 0),
      Math.min(x1, clip[2], this.canvas.width),
      Math.min(y1, clip[3], this.canvas.height),
    ];
  }

  /** Each device pixel whose centre lies in `r`. */
  private *covered(r: Rect): Generator<[number, number]> {
    for (let y = Math.ceil(r[1] - 0.5); y + 0.5 < r[3]; y++) {
      for (let x = Math.ceil(r[0] - 0.5); x + 0.5 < r[2]; x++) yield [x, y];
    }
  }

  clearRect(x: number, y: number, w: number, h: number) {
    this.log("clearRect", [x, y, w, h]);
    const p = this.data();
    for (const [px, py] of this.covered(this.device(x, y, w, h))) {
      p.fill(0, 4 * (py * this.canvas.width + px), 4 * (py * this.canvas.width + px) + 4);
    }
  }

  putImageData(
    image: { data: Uint8ClampedArray; width: number; height: number },
    dx: number,
    dy: number,
  ) {
    this.log("putImageData", [image, dx, dy]);
    const p = this.data();
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        const o = 4 * ((dy + y) * this.canvas.width + dx + x);
        p.set(image.data.subarray(4 * (y * image.width + x), 4 * (y * image.width + x) + 4), o);
      }
    }
  }

  /** `source` stretched onto CSS rectangle (x, y, w, h), nearest neighbour; opaque pixels only. */
  drawImage(source: FakeCanvas, x: number, y: number, w: number, h: number) {
    this.log("drawImage", [source, x, y, w, h]);
    if (this.imageSmoothingEnabled) throw new Error("FakeContext: smoothing is not modelled");
    const [a, , , d, e, f] = this.transform;
    const X0 = a! * x + e!;
    const Y0 = d! * y + f!;
    const W = a! * w;
    const H = d! * h;
    const p = this.data();
    const s = source.getContext("2d").data();
    for (const [px, py] of this.covered(this.device(x, y, w, h))) {
      const sx = Math.min(source.width - 1, Math.floor(((px + 0.5 - X0) / W) * source.width));
      const sy = Math.min(source.height - 1, Math.floor(((py + 0.5 - Y0) / H) * source.height));
      const so = 4 * (sy * source.width + sx);
      if (s[so + 3] === 0) continue; // transparent: what lies below shows
      if (s[so + 3] !== 255) throw new Error("FakeContext: translucent pixels are not modelled");
      p.set(s.subarray(so, so + 4), 4 * (py * this.canvas.width + px));
    }
  }

  fillRect(x: number, y: number, w: number, h: number) {
    this.log("fillRect", [x, y, w, h, this.fillStyle]);
    const m = /^rgb\((\d+), (\d+), (\d+)\)$/.exec(this.fillStyle);
    if (!m) throw new Error(`FakeContext: fillStyle ${this.fillStyle} is not rgb(r, g, b)`);
    const rgba = [Number(m[1]), Number(m[2]), Number(m[3]), 255];
    const p = this.data();
    for (const [px, py] of this.covered(this.device(x, y, w, h))) {
      p.set(rgba, 4 * (py * this.canvas.width + px));
    }
  }

  save() {
    this.log("save", []);
    this.saved.push({ transform: [...this.transform], clip: this.clipRect });
  }

  restore() {
    this.log("restore", []);
    const s = this.saved.pop();
    if (s) [this.transform, this.clipRect] = [s.transform, s.clip];
  }

  beginPath() {
    this.log("beginPath", []);
    this.path = null;
  }

  rect(x: number, y: number, w: number, h: number) {
    this.log("rect", [x, y, w, h]);
    this.path = this.device(x, y, w, h);
  }

  clip() {
    this.log("clip", []);
    if (this.path) this.clipRect = this.path;
  }

  moveTo(x: number, y: number) {
    this.log("moveTo", [x, y]);
  }

  lineTo(x: number, y: number) {
    this.log("lineTo", [x, y]);
  }

  setLineDash(segments: number[]) {
    this.log("setLineDash", [segments]);
  }

  /** Logged with the stroke style (lines are not rasterised). */
  stroke() {
    this.log("stroke", [this.strokeStyle, this.lineWidth]);
  }
}

class FakeImageData {
  readonly data: Uint8ClampedArray;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8ClampedArray(4 * width * height);
  }
}

/** The canvases the page made (`document.createElement("canvas")`), in order. */
export const created: FakeCanvas[] = [];

/** A browser's globals, as far as the renderer reads them, at device pixel ratio `ratio`. */
export function install(ratio = 1): void {
  const g = globalThis as Record<string, unknown>;
  g.window = { devicePixelRatio: ratio };
  g.ImageData = FakeImageData;
  g.document = {
    createElement: (tag: string) => {
      if (tag !== "canvas") throw new Error(`fake document: no <${tag}>`);
      const c = new FakeCanvas();
      created.push(c);
      return c;
    },
  };
}
