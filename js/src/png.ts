/** The PNG download: the field, its overlay and the colorbar composed into one image. */

/**
 * One canvas at device resolution: `background`, then the field canvas with the overlay canvas
 * over it at the left, the colorbar to their right; width = field + colorbar, height = the
 * taller of the two.
 */
export function composeImage(
  field: HTMLCanvasElement,
  overlay: HTMLCanvasElement,
  colorbar: HTMLCanvasElement,
  background: string,
): HTMLCanvasElement {
  const out = document.createElement("canvas");
  out.width = field.width + colorbar.width;
  out.height = Math.max(field.height, colorbar.height);
  const ctx = out.getContext("2d")!;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(field, 0, 0);
  ctx.drawImage(overlay, 0, 0, field.width, field.height);
  ctx.drawImage(colorbar, field.width, 0);
  return out;
}

/** Download the canvas as a PNG file (through an object URL and a temporary link). */
export function downloadPng(canvas: HTMLCanvasElement, filename = "ftle_field.png"): void {
  canvas.toBlob((blob) => {
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    link.style.display = "none";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, "image/png");
}
