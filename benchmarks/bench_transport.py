"""What a tile costs on the wire and from Python's send to the painted canvas.

Figures:

* ``tile_bytes_64``: the buffers of one 64×64 tile message without directions (λ₁, prediction);
* ``tile_bytes_64_directions``: the same with the stretching directions;
* ``send_to_paint_ms_512``: a 512×512 view's 64 tiles of 64 px (level 2 of a pyramid of side 2,
  extent [-2, 2]², an MLP 2 → 10×4 tanh → 3, directions shown), already encoded by Python, are
  handed to the widget in headless Chromium as Jupyter hands them over (a DataView per buffer);
  from the page's ``performance.now()`` before the first is delivered to the end of the frame
  that paints the last (a task queued from that frame's requestAnimationFrame, which runs after
  the widget's). Median over repeats, the held tiles cleared before each;
* ``send_to_paint_ms_512_plain``: the same without directions;
* ``encode_ms_512``: Python's :func:`~ftle_widget.widget.protocol.encode_tile` for those 64 tiles.

The front end is the built bundle (``ftle_widget/static/widget.js``; ``cd js && npm run build``
first), the Python the one imported: the run checks that every tile was decoded and the view
covered. Chromium is found as the browser tests find it (``tests/browsers.py``).

Run: ``python benchmarks/bench_transport.py`` (``--repeats N``, default 41).
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # browsers.py, frontend.py: Chromium, the page

from browsers import ARGS, find_chromium  # noqa: E402
from frontend import serve_widget_page  # noqa: E402

from ftle_widget.lazy.compute import compute_tile  # noqa: E402
from ftle_widget.lazy.pyramid import Pyramid  # noqa: E402
from ftle_widget.paper.models import mlp  # noqa: E402
from ftle_widget.widget import protocol  # noqa: E402
from ftle_widget.widget.view import FTLEView  # noqa: E402

SIDE, TILE_PX, Z = 512, 64, 2  # level 2 of base side 2: 0.5 plane units = 64 px per tile
EXTENT = [-2.0, 2.0, -2.0, 2.0]

PAGE = """
<html><body style="margin:0"><div id="host" style="width:%(host)dpx"></div>
<script type="module">
  const listeners = {};
  const state = %(state)s;
  window.sent = [];
  const model = {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; },
    save_changes: () => {},
    send: (msg) => { window.sent.push(msg); },
    on: (e, f) => { (listeners[e] ||= []).push(f); },
    off: (e, f) => { listeners[e] = (listeners[e] || []).filter((g) => g !== f); },
  };
  const fire = (e, ...args) => (listeners[e] || []).forEach((f) => f(...args));
  window.setTrait = (k, v) => { state[k] = v; fire("change:" + k); };
  let held = [];
  window.hold = (tiles) => {  // bytes into the page, untimed: Jupyter's binary frames
    const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    held = tiles.map(([m, b64s]) => [m, b64s.map(bytes)]);
  };
  const painted = () => new Promise((r) => requestAnimationFrame(() => {
    const ch = new MessageChannel();  // runs after this frame's rendering
    ch.port1.onmessage = () => r(performance.now());
    ch.port2.postMessage(0);
  }));
  window.run = async () => {
    fire("msg:custom", { kind: "reset" }, []);
    await painted();
    const views = window.sent.filter((m) => m.kind === "view");
    const generation = Math.max(...views.map((m) => m.generation));
    const t0 = performance.now();
    for (const [m, arrays] of held) {
      const views = arrays.map((bytes) => {  // a fresh buffer per message, as a socket gives
        const padded = new Uint8Array(bytes.length + 8);
        padded.set(bytes, 8);
        return new DataView(padded.buffer, 8, bytes.length);
      });
      fire("msg:custom", { ...m, generation }, views);
    }
    const t1 = await painted();
    return t1 - t0;
  };
  const mod = await import("/widget.js");
  window.cleanup = mod.default.render({ model, el: document.getElementById("host") });
  window.ready = true;
</script></body></html>
"""

# opaque pixels of the field canvas (device pixel ratio 1)
PAINTED = """(() => {
  const c = document.querySelector('.ftle-field');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let k = 3; k < d.length; k += 4) n += d[k] === 255;
  return n;
})()"""

STATE = {
    "extent": EXTENT,
    "home": EXTENT,
    "cmap": "RdBu_r",
    "vmin": -1.0,
    "vmax": 1.0,
    "quantity": "lambda",
    "depth": 4.0,
    "status": "",
    "error": "",
    "show_boundary": True,
    "show_data": False,
    "show_directions": True,
    "height": SIDE,
    "plane_info": {"input_shape": [2], "image_shape": None},
}


def view_tiles(directions: bool):
    """The 64 tiles of the 512×512 view of EXTENT, computed by the widget's engine."""
    view = FTLEView(mlp(2, 10, 4, 3, seed=0), extent=EXTENT)
    try:
        engine, plane = view.scheduler.engine(), view.plane
        pyramid = Pyramid(2.0, TILE_PX)
        keys = pyramid.covering(EXTENT, Z)
        assert len(keys) == (SIDE // TILE_PX) ** 2
        tiles = [
            compute_tile(
                engine, plane, k, pyramid.extent(k), TILE_PX, torch.float32, directions, 1, 4096
            )
            for k in keys
        ]
    finally:
        view.close()
    return [t for t in tiles if t is not None]


def tile_bytes(tile) -> int:
    _, buffers = protocol.encode_tile(tile, 1)
    return sum(len(b) for b in buffers)


def encoded(tiles):
    start = time.perf_counter()
    messages = [protocol.encode_tile(t, 1) for t in tiles]
    ms = 1e3 * (time.perf_counter() - start)
    return ms, [(m, [base64.b64encode(b).decode() for b in bufs]) for m, bufs in messages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=41)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with_dir, plain = view_tiles(True), view_tiles(False)
    print(f"tile_bytes_64: {tile_bytes(plain[0])}")
    print(f"tile_bytes_64_directions: {tile_bytes(with_dir[0])}")
    encode_ms, messages = encoded(with_dir)
    print(f"encode_ms_512: {encode_ms:.2f}")
    with sync_playwright() as p:
        path, _ = find_chromium(p.chromium.executable_path)
        browser = p.chromium.launch(executable_path=str(path), args=ARGS)
        page = browser.new_page(viewport={"width": SIDE + 200, "height": SIDE + 200})
        serve_widget_page(page, PAGE % {"host": SIDE + 70, "state": json.dumps(STATE)})
        asked = next(m for m in page.evaluate("window.sent") if m["kind"] == "view")
        assert (asked["width"], asked["height"]) == (SIDE, SIDE), asked
        for name, shown, tiles in (("", True, messages), ("_plain", False, encoded(plain)[1])):
            page.evaluate(f"window.setTrait('show_directions', {json.dumps(shown)})")
            page.evaluate("(t) => window.hold(t)", tiles)
            page.evaluate("window.run()")  # warm up: JIT, canvases
            times = [page.evaluate("window.run()") for _ in range(args.repeats)]
            drawn = page.evaluate("document.querySelector('.ftle-widget')?.directions ?? -1")
            status = page.evaluate("document.querySelector('.ftle-status').textContent")
            assert "decode" not in status, status  # a bundle of another protocol draws nothing
            assert page.evaluate(PAINTED) == SIDE * SIDE, "the tiles did not cover the view"
            print(f"send_to_paint_ms_512{name}: {statistics.median(times):.2f}")
            print(f"  (min {min(times):.2f}, max {max(times):.2f}; segments drawn: {drawn})")
        browser.close()


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
