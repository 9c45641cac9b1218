"""The quickstart and training notebooks run top to bottom (shrunk training) and find what they
claim; the paper's notebooks 02 and 03 are in test_notebooks_paper.py."""

from __future__ import annotations

import re

from helpers import notebook_text, run_notebook


def test_quickstart_notebook(tmp_path):
    text = notebook_text(run_notebook("01_quickstart.ipynb", tmp_path))
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", text).group(1))
    assert accuracy >= 0.98
    ring, off = map(float, re.search(r"on the ring ([-0-9.]+), off it ([-0-9.]+)", text).groups())
    assert ring > off
    assert (tmp_path / "nb" / "ring.png").stat().st_size > 1000


def test_training_notebook(tmp_path):
    text = notebook_text(run_notebook("04_training.ipynb", tmp_path))
    assert re.search(r"test accuracy after 4 epochs: 0\.9\d+", text)
    rows = re.findall(
        r"epoch +(\d+): mean λ₁ on the circle ([-+0-9.]+), in the centre ([-+0-9.]+)", text
    )
    assert [int(e) for e, _, _ in rows] == list(range(5))
    assert float(rows[-1][1]) > float(rows[-1][2])


def test_your_model_notebook(tmp_path):
    """05: a CNN and a transformer of the user's own, read at their last hidden layer."""
    text = notebook_text(run_notebook("05_your_model.ipynb", tmp_path))
    for name in ("CNN", "transformer"):
        accuracy = float(re.search(rf"{name}: test accuracy ([0-9.]+)", text).group(1))
        assert accuracy >= 0.85, (name, accuracy)
        on, off = map(
            float,
            re.search(
                rf"{name}: mean λ₁ on the decision boundaries ([-0-9.]+), away from them "
                r"([-0-9.]+)",
                text,
            ).groups(),
        )
        assert on > off, (name, on, off)
    endpoints = re.findall(r"endpoint: (.+?); depth (\d+)", text)
    assert endpoints == [
        ("input of fc (last hidden layer)", "3"),
        ("input of head (last hidden layer)", "5"),
    ]


def test_ridges_notebook(tmp_path):
    """06: the embedded model's ridge on the circle, flying to it, ridges higher and narrower
    with depth, the field forming layer by layer, two checkpoints compared (also live: compare)."""
    text = notebook_text(run_notebook("06_ridges.ipynb", tmp_path))
    closed, error = re.search(r"closed (True|False), .*mean \|r − 1\| ([0-9.]+)", text).groups()
    assert closed == "True" and float(error) < 0.05
    widths = {
        (int(n), int(d)): float(w)
        for n, d, w in re.findall(r"^\s*(\d+)\s+(\d+)\s+[-0-9.]+\s+([0-9.]+)\s", text, re.M)
    }
    assert widths[10, 8] < widths[10, 2]
    layers = [float(c) for c in re.findall(r"layer \d+: log Λ₁ on the ring ([-+0-9.]+)", text)]
    assert len(layers) == 8 and layers[-1] > layers[0]
    assert "layer slider: 8 layers; layer 1 at depth 1: exactly ftle_field(deep, layer=1)" in text
    early, late = map(float, re.findall(r"ridge height ([0-9.]+), width", text))
    assert late > early
    # the live comparison: the difference view's field is the two fields subtracted
    assert "exactly ftle_field(late) − ftle_field(early)" in text
