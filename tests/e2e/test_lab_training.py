"""Notebook 04 live in JupyterLab (#12.20): a background training run feeds a History that an
FTLEView follows and TrainingCurves plot. Checked in the live page, never re-displayed: every
figure draws its lines (the "value" one too), the epoch axes read distinct integers, the
highlighted snapshot sits under the selector, and bqplot logs no error."""

from __future__ import annotations

import json
import re
import time

import pytest
from test_lab import KERNEL, _serve, _wait

EPOCHS = 4
CELLS = [
    "import numpy as np\n"
    "import torch\n"
    "from functools import partial\n"
    "from ftle_widget import FTLEView, History, TrainingCurves, datasets, link, run_in_background\n"
    "from ftle_widget.models import mlp\n"
    "from ftle_widget.paper.statistics import centre_points\n"
    "from ftle_widget.training.trainer import train\n"
    "torch.set_num_threads(1)\n"
    "data = datasets.circle(2_000)\n"
    "angles = np.linspace(0, 2 * np.pi, 100, endpoint=False)\n"
    "circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)\n"
    "history = History(probes={'circle': circle, 'centre': centre_points(100)})\n"
    "model = mlp(2, 10, 8, 1, seed=1)\n"
    "view = FTLEView(model, history=history, quantity='log_stretch', vmin=-4, vmax=4,\n"
    "                show_data=False)\n"
    "curves = TrainingCurves(history)\n"
    "link(view, curves)\n"
    "view.follow(history)\n"
    "display(view, curves)",
    f"run = run_in_background(partial(train, model, data, epochs={EPOCHS}, history=history,\n"
    "                                 progress=False))",
]

# per bqplot figure: its axis labels, the tick labels of the "epoch" axis, the points of each
# line, the snapshot markers' x and which is highlighted, and the index selector's x
FIGURES = """() => [...document.querySelectorAll('.bqplot.figure')].map(f => {
  const axes = [...f.querySelectorAll('.axislabel')].map(a => a.textContent);
  const epochAxis = [...f.querySelectorAll('.axislabel')]
    .find(a => a.textContent === 'epoch' || a.textContent.startsWith('snapshots'));
  let ticks = null;
  if (epochAxis) {
    let g = epochAxis.parentNode;
    while (g && !g.querySelector('.tick')) g = g.parentNode;
    ticks = [...g.querySelectorAll('.tick text')].map(t => t.textContent);
  }
  const lines = [...f.querySelectorAll('path.line')].filter(p => !p.closest('.g_legend, .legend'))
    .map(p => (p.getAttribute('d') || '').split(/[ML]/).filter(s => s.trim()).length)
    .filter(n => n > 0);
  const x = (dot) =>
    Number(/translate\\(([-\\d.e]+)/.exec(dot.parentNode.getAttribute('transform'))[1]);
  const dots = [...f.querySelectorAll('.dot')];
  const marked = dots.findIndex(d => (d.getAttribute('style') || '').includes('orangered'));
  const line = f.querySelector('line.indsel');
  return {axes, ticks, lines, dots: dots.map(x), marked,
          selector: line && line.getAttribute('visibility') !== 'hidden'
            ? Number(line.getAttribute('x1')) : null};
})"""

BQPLOT_ERRORS = re.compile(r"bqplot|invalid format|getScales|Error setting state|instantiated")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    yield from _serve(tmp_path_factory, "jupyterlab", {"training.ipynb": CELLS})


def _until(page, predicate, timeout: float, step: float = 0.2):
    """``_wait`` that shows the figures as the page has them when it times out."""
    try:
        return _wait(predicate, timeout=timeout, step=step)
    except AssertionError:
        raise AssertionError(json.dumps(page.evaluate(FIGURES))) from None


def _by_label(figures: list[dict], label: str) -> dict:
    return next(f for f in figures if label in f["axes"])


def test_notebook_04_live_curves(lab, browser):
    start = time.monotonic()
    page = browser.new_page(viewport={"width": 1200, "height": 1600})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{lab}/lab/tree/training.ipynb?reset")
    page.wait_for_function(
        "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status"
        " === 'idle'",
        timeout=90_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def python(code: str):
        out = page.evaluate(KERNEL, f"import json; print(json.dumps({code}))")
        assert not out.startswith("ERROR"), out
        return json.loads(out)

    # the run ends (the kernel answers between cells and while the thread trains)
    _wait(lambda: python("'run' in globals() and run.done"), timeout=60, step=0.5)
    assert python("run.error is None and len(history.epochs)") == EPOCHS + 1
    points = EPOCHS + 1

    # every figure of the live page draws its lines with every epoch: the value one too
    def drawn():
        figures = page.evaluate(FIGURES)
        plots = [f for f in figures if "epoch" in f["axes"]]
        full = [f["lines"] == [points] * len(f["lines"]) and f["lines"] for f in plots]
        return figures if len(plots) == 3 and all(full) else None

    figures = _until(page, drawn, timeout=20)
    assert _by_label(figures, "value")["lines"] == [points, points]  # λ₁ on the circle, centre
    # the epoch axes read distinct integers
    for figure in figures:
        ticks = figure["ticks"]
        assert ticks and all(t.lstrip("-").isdigit() for t in ticks), figure
        assert len(set(ticks)) == len(ticks), figure
        assert [int(t) for t in ticks] == sorted(int(t) for t in ticks)
    # the highlight is the chosen epoch's marker, where the selector is
    _wait(lambda: python("[view.epoch, curves.epoch]") == [EPOCHS, EPOCHS], timeout=10)  # follow
    for epoch in (1, EPOCHS, 0):
        page.evaluate(KERNEL, f"view.epoch = {epoch}")

        def highlighted(epoch=epoch):
            plots = [f for f in page.evaluate(FIGURES) if f["dots"]]
            good = all(
                f["marked"] == epoch
                and (f["selector"] is None or abs(f["selector"] - f["dots"][epoch]) < 1.0)
                for f in plots
            )
            return plots if good and len(plots) == 4 else None

        plots = _until(page, highlighted, timeout=10, step=0.1)
        assert sum(f["selector"] is not None for f in plots) == 3  # the strip has none
    bad = [e for e in errors if BQPLOT_ERRORS.search(e)]
    assert not bad, bad[:3]
    page.close()
    print(f"\nnotebook_04_live_s={time.monotonic() - start:.1f}")
