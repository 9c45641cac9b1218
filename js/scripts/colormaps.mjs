// Writes ../ftle_widget/colormaps.json: 256 colours per colormap, sampled from d3-scale-chromatic
// at t = k / 255. The front end (src/colormap.ts) and the Python export (ftle_widget/export.py)
// both read this one table, so a PNG written without a browser has the canvas's colours.
// Run: npm run colormaps (a test checks that the committed file is up to date).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { color } from "d3-color";
import {
  interpolateCividis,
  interpolateInferno,
  interpolateMagma,
  interpolatePlasma,
  interpolatePuOr,
  interpolateRdBu,
  interpolateTurbo,
  interpolateViridis,
} from "d3-scale-chromatic";

export const SOURCES = {
  RdBu_r: (t) => interpolateRdBu(1 - t), // low = blue, middle = white, high = red
  viridis: interpolateViridis,
  magma: interpolateMagma,
  inferno: interpolateInferno,
  plasma: interpolatePlasma,
  cividis: interpolateCividis,
  turbo: interpolateTurbo,
  PuOr_r: (t) => interpolatePuOr(1 - t),
};

const hex = (s) => {
  const c = color(s).rgb();
  return `#${[c.r, c.g, c.b].map((v) => Math.round(v).toString(16).padStart(2, "0")).join("")}`;
};

export function tables() {
  const out = {};
  for (const [name, f] of Object.entries(SOURCES)) {
    out[name] = Array.from({ length: 256 }, (_, k) => hex(f(k / 255)));
  }
  return out;
}

export function text() {
  const t = tables();
  const lines = Object.entries(t).map(
    ([name, colours]) => `  ${JSON.stringify(name)}: ${JSON.stringify(colours)}`,
  );
  return `{\n${lines.join(",\n")}\n}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = new URL("../../ftle_widget/colormaps.json", import.meta.url);
  writeFileSync(target, text());
  console.log(`wrote ${fileURLToPath(target)}`);
}
