/** The parts of anywidget's model that the view uses, and typed trait reads. */

export interface Model {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event: string, callback: (...args: any[]) => void): void;
}

/** A boolean trait; `fallback` when the model does not have it (an older kernel side). */
export function flag(model: Model, name: string, fallback: boolean): boolean {
  const value = model.get(name);
  return value === undefined || value === null ? fallback : Boolean(value);
}

/** `plane_info.image_shape`: [H, W] or [C, H, W] for image inputs, else null. */
export function imageShape(model: Model): number[] | null {
  const info = model.get("plane_info") as { image_shape?: unknown } | null | undefined;
  const shape = info?.image_shape;
  return Array.isArray(shape) && shape.length >= 2 ? (shape as number[]) : null;
}
